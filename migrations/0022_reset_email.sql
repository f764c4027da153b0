-- The address a password-reset link was mailed to. Following that link proves the person reads that mailbox: when
-- it is still the account's address, the reset marks it verified (users.email_verified_at, migration 0021), which
-- is what lets the OpenID provider release it to the ENT's applications (src/oidc/claims.ts).
ALTER TABLE password_resets ADD COLUMN email text;
