-- The reports of the imports confirmed in the console (src/import/history.ts): an administrator finds a run's report
-- again after leaving its page (reloading the confirmation answered « simulation expirée » and the report was gone),
-- and sees the school's last imports beside its import form. `structure_id`: the school whose page ran it (NULL: the
-- super admin's import for every school, « Importer un flux académique »); a local admin reads only their school's,
-- and of those only the runs made within a school's scope (`all_schools` false): a super admin's run on a school's page
-- may name other schools' accounts.
-- `token`: the confirmed upload's, so that sending the confirmation again leads to its report. The report is stored
-- whole (gzip of its JSON: a région's ignored records weigh), the summary apart for the list.
CREATE TABLE import_reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  at timestamptz NOT NULL DEFAULT now(),
  actor_id uuid REFERENCES users(id) ON DELETE SET NULL,
  structure_id uuid REFERENCES structures(id) ON DELETE CASCADE,
  token text UNIQUE,
  all_schools boolean NOT NULL,
  summary jsonb NOT NULL,
  report_gz bytea NOT NULL
);
CREATE INDEX import_reports_structure_idx ON import_reports (structure_id, at DESC);
