-- A renewal code is shown to the admin once, after a redirect (post/redirect/get): the POST stores it here,
-- encrypted and bound to the admin's session, and the page that follows reads it with a DELETE … RETURNING.
-- Reloading that page finds nothing and says so: the code is never silently replaced.
CREATE TABLE revealed_codes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id_hash text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_enc text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revealed_codes_expires ON revealed_codes (expires_at);
