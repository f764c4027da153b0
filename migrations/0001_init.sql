-- Trousseau initial schema. Every id is a uuid so URLs cannot be enumerated.
CREATE TABLE structures (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  external_id text UNIQUE,
  uai text UNIQUE,
  name text NOT NULL,
  origin text NOT NULL DEFAULT 'manual' CHECK (origin IN ('feed', 'manual')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE levels (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  name text NOT NULL,
  UNIQUE (structure_id, name)
);

CREATE TABLE classes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  level_id uuid REFERENCES levels(id) ON DELETE SET NULL,
  name text NOT NULL,
  UNIQUE (structure_id, name)
);

CREATE TABLE groups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  name text NOT NULL,
  UNIQUE (structure_id, name)
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Identifier in the source feed (AAF jointure, or a key derived from a CSV row); null for manual accounts.
  external_id text UNIQUE,
  origin text NOT NULL DEFAULT 'manual' CHECK (origin IN ('feed', 'manual')),
  -- Which importer last wrote the row: aaf, be1d, csv, demo, manual.
  source text NOT NULL DEFAULT 'manual',
  profile text NOT NULL CHECK (profile IN ('Student', 'Relative', 'Teacher', 'Personnel', 'Guest')),
  title text,
  first_name text NOT NULL,
  last_name text NOT NULL,
  birth_date date,
  email text,
  phone text,
  login text NOT NULL UNIQUE,
  -- A user is active once a password is set through activation.
  password_hash text,
  activated_at timestamptz,
  terms_accepted_at timestamptz,
  -- Activation code: AES-256-GCM ciphertext (printable on demand) and HMAC (verification); single use.
  activation_code_enc text,
  activation_code_mac text,
  activation_code_expires_at timestamptz,
  -- Admin-generated renewal code: only its HMAC is kept, it is shown once.
  renewal_code_mac text,
  renewal_code_expires_at timestamptz,
  blocked boolean NOT NULL DEFAULT false,
  is_super_admin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  pre_deleted_at timestamptz,
  last_login_at timestamptz
);
CREATE INDEX users_names_idx ON users (lower(last_name), lower(first_name));
CREATE INDEX users_profile_idx ON users (profile);

CREATE TABLE user_structures (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, structure_id)
);
CREATE INDEX user_structures_structure_idx ON user_structures (structure_id);

CREATE TABLE user_classes (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  class_id uuid NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, class_id)
);
CREATE INDEX user_classes_class_idx ON user_classes (class_id);

CREATE TABLE user_groups (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id uuid NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_id)
);

-- Local administrators, each for the structures listed here.
CREATE TABLE local_admins (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, structure_id)
);

CREATE TABLE relations (
  parent_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  child_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX relations_child_idx ON relations (child_id);

CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_id uuid REFERENCES users(id) ON DELETE SET NULL,
  action text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_action_idx ON audit (action, at);

-- Fixed-window counters shared by every app instance.
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL
);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Self-service reset links ("mot de passe oublié"): only the token's hash is kept.
CREATE TABLE password_resets (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- Letter templates per structure (null = default for all) and profile.
CREATE TABLE letter_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  structure_id uuid REFERENCES structures(id) ON DELETE CASCADE,
  profile text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('sheet_inactive', 'sheet_active', 'mail_inactive', 'mail_active')),
  subject text,
  body text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX letter_templates_key ON letter_templates (coalesce(structure_id, '00000000-0000-0000-0000-000000000000'::uuid), profile, kind);

-- Email merge: one run per click, one durable job per recipient.
CREATE TABLE mail_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  actor_id uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  filters jsonb NOT NULL DEFAULT '{}',
  selected integer NOT NULL DEFAULT 0,
  without_email integer NOT NULL DEFAULT 0
);

CREATE TABLE mail_jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid REFERENCES mail_runs(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  kind text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_jobs_due_idx ON mail_jobs (next_attempt_at) WHERE status IN ('pending', 'sending');

-- Duplicate pairs an admin dismissed for good (a < b).
CREATE TABLE duplicate_dismissals (
  user_a uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  user_b uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  dismissed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_a, user_b)
);
