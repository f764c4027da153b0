-- Who receives what (issue #9): how each profile signs in, its activation policy and lifecycle delays, what
-- teachers may do in their class view, and the account lifecycle (absent from a feed -> grace -> pre-deleted -> deleted).

-- Absent from a complete feed since this instant: the grace period runs (the account still signs in, with a
-- notice); the daily lifecycle job pre-deletes it once the profile's grace_days have passed.
ALTER TABLE users ADD COLUMN absent_since timestamptz;
CREATE INDEX users_absent_idx ON users (absent_since) WHERE absent_since IS NOT NULL;
CREATE INDEX users_pre_deleted_idx ON users (pre_deleted_at) WHERE pre_deleted_at IS NOT NULL;
-- Version of the structure's terms of use the user last accepted (null: none or the unversioned default).
ALTER TABLE users ADD COLUMN terms_version integer;

-- Per structure and profile. A missing row means the defaults (code sign-in, e-mail optional, phone optional,
-- 8 characters for pupils and 12 for adults, 90 + 90 days).
CREATE TABLE profile_policies (
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  profile text NOT NULL CHECK (profile IN ('Student', 'Relative', 'Teacher', 'Personnel', 'Guest')),
  -- code: Trousseau credentials (activation code); external: only the named identity provider; both.
  sign_in text NOT NULL DEFAULT 'code' CHECK (sign_in IN ('code', 'external', 'both')),
  provider text CHECK (provider IS NULL OR length(provider) BETWEEN 1 AND 80),
  email_required boolean NOT NULL DEFAULT false,
  phone_required boolean NOT NULL DEFAULT false,
  min_password_length integer NOT NULL CHECK (min_password_length BETWEEN 8 AND 64),
  grace_days integer NOT NULL DEFAULT 90 CHECK (grace_days BETWEEN 0 AND 3650),
  deletion_days integer NOT NULL DEFAULT 90 CHECK (deletion_days BETWEEN 0 AND 3650),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (sign_in = 'code' OR provider IS NOT NULL),
  PRIMARY KEY (structure_id, profile)
);

-- Per structure: terms of use (a new version asks everyone to accept again) and the teachers' rights in the class view.
CREATE TABLE structure_settings (
  structure_id uuid PRIMARY KEY REFERENCES structures(id) ON DELETE CASCADE,
  terms_version integer NOT NULL DEFAULT 0 CHECK (terms_version >= 0),
  terms_text text,
  teacher_rights text[] NOT NULL DEFAULT '{sheets,renewal,mail}' CHECK (teacher_rights <@ '{sheets,renewal,block,mail}'::text[]),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Deleted accounts: audit rows stay, their actor named by a pseudonym instead of the erased account.
ALTER TABLE audit ADD COLUMN actor_pseudonym text;
