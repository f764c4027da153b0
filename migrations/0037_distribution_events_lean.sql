-- A région's CSV or PDF export writes one distribution_events row per account, inside the export's transaction
-- (issue #11: a million rows, on the same connection as the export's cursor). Each row also fed two indexes nothing
-- reads: the primary key of a surrogate id, and (at, user_id). Every query of the table goes by account (user_id,
-- then at: « fiche remise le … », « Relancer », the console's funnel), which distribution_events_user_idx serves. The
-- two cost more than half of each insert (100,000 rows: about 0.5 s instead of 1.1 s).
DROP INDEX IF EXISTS distribution_events_at_idx;
ALTER TABLE distribution_events DROP COLUMN id;
