-- Email merge: codes never sit in clear in the queue, and runs remember whose they are.

-- Bodies carrying an activation code are stored AES-GCM encrypted (same key as the codes) and opened at send time.
ALTER TABLE mail_jobs ADD COLUMN sealed boolean NOT NULL DEFAULT false;
CREATE INDEX mail_jobs_run_idx ON mail_jobs (run_id, status);

-- Effective scope of a run (null = unrestricted), so the console lists a run only to people who could see its accounts.
ALTER TABLE mail_runs ADD COLUMN structure_ids uuid[];
ALTER TABLE mail_runs ADD COLUMN class_ids uuid[];
ALTER TABLE mail_runs ADD COLUMN queued integer NOT NULL DEFAULT 0;
