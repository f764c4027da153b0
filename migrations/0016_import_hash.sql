-- Re-import of an unchanged feed at région scale (issue #11): each account remembers a digest of what the last
-- import wanted for it (fields as the feed gave them, memberships, relations: src/import/plan.ts recordHash).
-- A record whose digest is unchanged is skipped: no field comparison, no membership or relation query.
-- The digest only holds while nothing else changed the account: any write outside an import (console, activation,
-- merge of duplicates, lifecycle job, a class deleted…) to a column or link the import owns clears it, so that
-- the next import compares that account in full as before. The import sets `trousseau.import` for its
-- transaction and keeps the digests right itself.
ALTER TABLE users ADD COLUMN import_hash text;

CREATE FUNCTION trousseau_clear_import_hash_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('trousseau.import', true), '') <> 'on' THEN
    NEW.import_hash := NULL;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER users_clear_import_hash BEFORE UPDATE ON users FOR EACH ROW
  WHEN (OLD.import_hash IS NOT NULL AND NEW.import_hash IS NOT DISTINCT FROM OLD.import_hash
        AND (OLD.external_id, OLD.profile, OLD.title, OLD.first_name, OLD.last_name, OLD.birth_date, OLD.email, OLD.phone,
             OLD.ine, OLD.functions, OLD.mobile, OLD.address, OLD.origin, OLD.source, OLD.activated_at, OLD.pre_deleted_at, OLD.absent_since)
            IS DISTINCT FROM
            (NEW.external_id, NEW.profile, NEW.title, NEW.first_name, NEW.last_name, NEW.birth_date, NEW.email, NEW.phone,
             NEW.ine, NEW.functions, NEW.mobile, NEW.address, NEW.origin, NEW.source, NEW.activated_at, NEW.pre_deleted_at, NEW.absent_since))
  EXECUTE FUNCTION trousseau_clear_import_hash_row();

-- Memberships and links written outside an import: the accounts they touch (both sides of a relation) lose their digest.
CREATE FUNCTION trousseau_clear_import_hash_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('trousseau.import', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'relations' THEN
    UPDATE users u SET import_hash = NULL FROM changed c
     WHERE (u.id = c.parent_id OR u.id = c.child_id) AND u.import_hash IS NOT NULL;
  ELSE
    UPDATE users u SET import_hash = NULL FROM changed c WHERE u.id = c.user_id AND u.import_hash IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER user_structures_ins_import_hash AFTER INSERT ON user_structures REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER user_structures_del_import_hash AFTER DELETE ON user_structures REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER user_classes_ins_import_hash AFTER INSERT ON user_classes REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER user_classes_del_import_hash AFTER DELETE ON user_classes REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER user_groups_ins_import_hash AFTER INSERT ON user_groups REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER user_groups_del_import_hash AFTER DELETE ON user_groups REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER relations_ins_import_hash AFTER INSERT ON relations REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
CREATE TRIGGER relations_del_import_hash AFTER DELETE ON relations REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_clear_import_hash_links();
