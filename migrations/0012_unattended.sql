-- Unattended operation (issue #14): API tokens for scripts.
--
-- A token is `trs_<prefix>_<secret>`: the prefix (10 chars, unique) finds the row, the secret is checked against
-- secret_hash = SHA-256 hex of the whole token. The token itself is shown once at creation and never stored.
-- A token only ever allows POST /api/import (`actions`), within `structure_ids`, or every structure when
-- `all_structures` (an académie feed describing several schools). Revoked tokens are kept for the audit trail.
CREATE TABLE api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix text NOT NULL UNIQUE,
  secret_hash text NOT NULL,
  actions text[] NOT NULL DEFAULT '{import}' CHECK (actions <@ '{import}'::text[]),
  all_structures boolean NOT NULL DEFAULT false,
  structure_ids uuid[] NOT NULL DEFAULT '{}',
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  last_used_ip text,
  revoked_at timestamptz,
  revoked_by uuid REFERENCES users(id) ON DELETE SET NULL,
  CHECK (all_structures OR cardinality(structure_ids) > 0)
);
