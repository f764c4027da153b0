-- What was handed out to whom (issue #10): one row per account and hand-out (a sheet printed, a mail sent, a
-- Word export…), so the user page and the class view say « fiche remise le … » and « Relancer » finds the
-- accounts given their credentials long ago and still not activated.
CREATE TABLE distribution_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('sheet', 'mail', 'renewal_sheet', 'word', 'zip', 'family_pack')),
  at timestamptz NOT NULL DEFAULT now(),
  actor_id uuid REFERENCES users(id) ON DELETE SET NULL
);
-- Last hand-out of each kind for one account (user page, class view), and "given before <date>" (Relancer):
-- both read (user_id, at) — an index-only lookup of the newest row per account.
CREATE INDEX distribution_events_user_idx ON distribution_events (user_id, at DESC) INCLUDE (kind);
-- Console funnel and "given more than N days ago" over a whole structure: by time first.
CREATE INDEX distribution_events_at_idx ON distribution_events (at, user_id);

-- The school's own letter models (.docx with {prenom}, {nom}, {code}… merge fields), one or more per structure.
CREATE TABLE docx_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  structure_id uuid NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  content bytea NOT NULL,
  fields text[] NOT NULL DEFAULT '{}',
  uploaded_by uuid REFERENCES users(id) ON DELETE SET NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX docx_templates_structure_idx ON docx_templates (structure_id, uploaded_at DESC);
