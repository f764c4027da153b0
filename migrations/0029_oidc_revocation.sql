-- What Trousseau's OpenID provider holds for one account (sessions at the provider, grants, authorization codes,
-- access and refresh tokens: oidc-provider writes the account's id as `accountId` in each payload), found by it:
-- a password change, reset or renewal, and a blocking, end them all (src/accounts/signins.ts endSignIns).
CREATE INDEX oidc_payloads_account_idx ON oidc_payloads ((payload->>'accountId')) WHERE payload ? 'accountId';
