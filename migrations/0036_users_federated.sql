-- Whether an account is linked to an identity provider (a row in federation_links), kept on the account itself.
-- Every selection leaves such accounts out of codes and sheets (src/directory/policies.ts externalOnlyAbsentSql);
-- as an anti-join on federation_links, PostgreSQL rescanned the table once per account whenever its statistics said
-- it was empty (a région without EduConnect: the count of a million accounts took 1.6 s instead of 0.4 s, and delayed
-- the first byte of their PDF and CSV, issue #11). A column read in the same scan costs nothing more.
ALTER TABLE users ADD COLUMN federated boolean NOT NULL DEFAULT false;
UPDATE users SET federated = true WHERE id IN (SELECT user_id FROM federation_links);

-- Kept by the links themselves, whoever writes them (federated sign-in, an account erased with its links).
CREATE FUNCTION trousseau_users_federated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE users u SET federated = true FROM (SELECT DISTINCT user_id FROM added) a WHERE u.id = a.user_id AND NOT u.federated;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE users u SET federated = false FROM (SELECT DISTINCT user_id FROM removed) r
     WHERE u.id = r.user_id AND u.federated AND NOT EXISTS (SELECT 1 FROM federation_links fl WHERE fl.user_id = u.id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER federation_links_ins_federated AFTER INSERT ON federation_links REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_users_federated();
CREATE TRIGGER federation_links_upd_federated AFTER UPDATE ON federation_links REFERENCING NEW TABLE AS added OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_users_federated();
CREATE TRIGGER federation_links_del_federated AFTER DELETE ON federation_links REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_users_federated();
