-- Federated sign-in by e-mail reaches only vouched-for addresses (users.email_verified_at): a reset link read in the
-- mailbox, or the académie mailbox an AAF PersEducNat record lists (src/import/plan.ts feedVouchesForEmail). The
-- teachers and staff an AAF feed created before had their address written without that date: their accounts are
-- compared in full at the next import (no digest), which vouches for the address if the feed still lists it.
UPDATE users SET import_hash = NULL
WHERE source = 'aaf' AND profile IN ('Teacher', 'Personnel') AND email IS NOT NULL AND email_verified_at IS NULL AND import_hash IS NOT NULL;

-- A change of case only is the same mailbox (reset links and federated sign-in compare addresses so): it keeps the
-- verification. « Mon compte » writes the address it was sent, lower-cased, whenever the form is saved — a phone number
-- changed, the académie's « Anne.Morel@… » rewritten « anne.morel@… », and sign-in by e-mail stopped reaching her.
CREATE OR REPLACE FUNCTION users_email_unverify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF lower(NEW.email) IS DISTINCT FROM lower(OLD.email) AND NEW.email_verified_at IS NOT DISTINCT FROM OLD.email_verified_at THEN
    NEW.email_verified_at := NULL;
  END IF;
  RETURN NEW;
END $$;
