-- Operational hardening (issue #7).

-- Settings of the installation, one row each. `key_fingerprint`: which TROUSSEAU_SECRET the codes of this
-- database are sealed with; an instance started with another key refuses to start (src/accounts/key-fingerprint.ts).
CREATE TABLE instance_settings (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Growing delay per login: when the last counted attempt was (src/accounts/ratelimit.ts).
ALTER TABLE rate_limits ADD COLUMN last_hit_at timestamptz;

-- Reset mails per account per hour are capped: count the links asked for.
ALTER TABLE password_resets ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX password_resets_user_created_idx ON password_resets (user_id, created_at);

-- One mail run per confirmation form (idempotency key) and per selection at a time (selection key).
ALTER TABLE mail_runs ADD COLUMN idempotency_key text;
ALTER TABLE mail_runs ADD COLUMN selection_key text;
CREATE UNIQUE INDEX mail_runs_idempotency_idx ON mail_runs (idempotency_key);
CREATE INDEX mail_runs_selection_idx ON mail_runs (selection_key, created_at);
