-- A token speaks for the super admin who created it in the console (its imports are theirs in the audit log): it
-- works only while that person is still a super admin, neither blocked nor pre-deleted (src/accounts/api-tokens.ts
-- verifyApiToken). `created_by` alone cannot tell, since erasing the person sets it to NULL, the value of a token
-- created on the server's command line: `issued_by_person` keeps it.
ALTER TABLE api_tokens ADD COLUMN issued_by_person boolean NOT NULL DEFAULT false;
UPDATE api_tokens SET issued_by_person = true WHERE created_by IS NOT NULL;
