-- Federated sign-in by e-mail reaches only vouched-for addresses (users.email_verified_at): a reset link read in the
-- mailbox, or the académie mailbox an AAF PersEducNat record lists (src/import/plan.ts feedVouchesForEmail). The
-- teachers and staff an AAF feed created before had their address written without that date: their accounts are
-- compared in full at the next import (no digest), which vouches for the address if the feed still lists it.
UPDATE users SET import_hash = NULL
WHERE source = 'aaf' AND profile IN ('Teacher', 'Personnel') AND email IS NOT NULL AND email_verified_at IS NULL AND import_hash IS NOT NULL;
