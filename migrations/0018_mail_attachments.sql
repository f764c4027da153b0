-- Issue #10 (family packs): a merge mail may carry files, e.g. a parent's mail with the PDF of their children's
-- sheets. JSON array of {filename, contentType, content}: content is base64, sealed like the bodies (AES-GCM,
-- src/accounts/secrets.ts) when the job is sealed. Null: no attachment.
ALTER TABLE mail_jobs ADD COLUMN attachments jsonb;
