-- Directory services: name folding for duplicate detection and search, and aliases left by merges.

-- Folds a name for comparison: lower case, accents and marks removed, ligatures expanded, everything
-- but [a-z0-9] dropped ("Jean-Paul D'Arc" -> "jeanpauldarc"). Plain SQL (no unaccent/pg_trgm extension,
-- which an external server may not offer); needs a UTF8 database for normalize().
CREATE OR REPLACE FUNCTION trousseau_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(
    replace(replace(replace(replace(
      translate(regexp_replace(normalize(lower(t), NFD), '[\u0300-\u036f]', '', 'g'), 'øđðłıħŧŋĸ', 'oddlihtnk'),
      'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'þ', 'th'),
    '[^a-z0-9]', '', 'g')
$$;

-- External ids of accounts merged into another one ("Gérer les doublons"). Importers resolve a feed id
-- through users.external_id first, then here, so a re-import neither resurrects the dropped account
-- nor pre-deletes the kept one.
CREATE TABLE user_aliases (
  external_id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  merged_at timestamptz NOT NULL DEFAULT now(),
  merged_by uuid REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX user_aliases_user_idx ON user_aliases (user_id);
