-- Exports at the scale of a région (issue #11): bulk hand-out records, family mails queued without their PDFs.

-- A région's CSV or PDF export records one distribution_events row per account (100,000 rows for 100k accounts).
-- Their two foreign keys to users checked every row on its own (an index probe and a FOR KEY SHARE lock on the
-- account's row: three quarters of the insert's time, more than `psql \copy` of the whole export). They give way to
-- set-based triggers on users that keep the same guarantees where they matter: an account's deletion deletes
-- its hand-outs (was ON DELETE CASCADE) and forgets it as their author (was ON DELETE SET NULL). Rows are only
-- ever written for accounts just selected in the same transaction (publipostage/tracking.ts).
ALTER TABLE distribution_events DROP CONSTRAINT IF EXISTS distribution_events_user_id_fkey;
ALTER TABLE distribution_events DROP CONSTRAINT IF EXISTS distribution_events_actor_id_fkey;

-- (No index on actor_id, as before: one scan per deleting statement, not per deleted account as with the key.)
CREATE FUNCTION trousseau_forget_distribution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM distribution_events d USING gone g WHERE d.user_id = g.id;
  UPDATE distribution_events d SET actor_id = NULL FROM gone g WHERE d.actor_id = g.id;
  RETURN NULL;
END $$;

CREATE TRIGGER users_forget_distribution AFTER DELETE ON users
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION trousseau_forget_distribution();

CREATE FUNCTION trousseau_truncate_distribution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE distribution_events;
  RETURN NULL;
END $$;

CREATE TRIGGER users_truncate_distribution AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION trousseau_truncate_distribution();

-- A family mail's attachment (the children's sheets) is made by the mail worker when it sends the mail
-- (src/mail/attachments.ts), no longer in the request that queues a whole school: the job holds what to make
-- (children's ids, the author's scope), with no code in it.
ALTER TABLE mail_jobs ADD COLUMN attachment_spec jsonb;
