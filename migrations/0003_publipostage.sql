-- Publipostage: French ordering of names and class labels, and indexes for the selection filters.

-- French collation with numeric ordering ("6A" < "10B", "Émile" between "Elsa" and "Eric").
-- An external server built without ICU still gets the name, as a byte-order collation: sorting stays
-- deterministic, only accents sort worse.
DO $$
BEGIN
  CREATE COLLATION IF NOT EXISTS trousseau_fr (provider = icu, locale = 'fr-u-kn-true');
EXCEPTION WHEN OTHERS THEN
  CREATE COLLATION IF NOT EXISTS trousseau_fr FROM "C";
END
$$;

-- Default preview order (alphabetical): the first page of a large, lightly filtered selection comes
-- straight from this index instead of sorting every account.
CREATE INDEX users_name_fr_idx ON users (last_name COLLATE trousseau_fr, first_name COLLATE trousseau_fr, login);
-- "Date de création" filter.
CREATE INDEX users_created_idx ON users (created_at);
-- Level filter: classes of these levels.
CREATE INDEX classes_level_idx ON classes (level_id);
-- "Administrateurs locaux" and structure scope lookups go through the structure.
CREATE INDEX local_admins_structure_idx ON local_admins (structure_id);
