-- Erasing accounts at the scale of a région (issue #11): the lifecycle job deletes every account pre-deleted long
-- enough (a year's leavers: tens of thousands at once). Each deleted account made PostgreSQL scan whole tables: the
-- foreign keys below had no index on their referencing column (one scan per deleted row), and the audit trail was
-- searched for the account's id and login with LIKE, twice per account. 500 accounts of a 100,000-account
-- directory took 178 s. Measured again after this migration: see README « Cycle de vie ».

-- Referencing columns of users, indexed: a deleted account's rows are found, not scanned for.
CREATE INDEX audit_actor_idx ON audit (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX mail_jobs_user_idx ON mail_jobs (user_id);
CREATE INDEX mail_runs_actor_idx ON mail_runs (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX duplicate_dismissals_user_b_idx ON duplicate_dismissals (user_b);
CREATE INDEX user_aliases_merged_by_idx ON user_aliases (merged_by) WHERE merged_by IS NOT NULL;
CREATE INDEX revealed_codes_user_idx ON revealed_codes (user_id);

-- What an audit row names: every JSON string of its details of 200 characters at most (keys and values, as written in
-- JSON: an id, a login; a longer text, a letter's body say, names nobody and would not fit in an index entry) and every
-- id written inside any string (`/console/utilisateurs/<id>`). An erasure finds the rows naming its accounts through this
-- index (src/accounts/lifecycle.ts eraseAccounts) instead of reading the whole trail. Its pending list (fastupdate)
-- keeps audit inserts cheap (a pre-deletion writes one row per account, the job one row naming thousands); an erasure
-- first moves the list into the index (gin_clean_pending_list), since each of its probes would read the whole list.
CREATE FUNCTION audit_mentions(details jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
  SELECT coalesce(array_agg(DISTINCT m), '{}') FROM (
    SELECT (regexp_matches(details::text, '"((?:[^"\\]|\\.)*)"', 'g'))[1] AS m
    UNION ALL
    SELECT (regexp_matches(details::text, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'g'))[1]
  ) x WHERE length(m) <= 200
$$;
CREATE INDEX audit_mentions_idx ON audit USING gin (audit_mentions(details));
