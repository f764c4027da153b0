-- Whether a local administration was given by a feed (AAF function DIR, ONDE « Directeur », CSV ADML) rather than
-- appointed by hand. A feed that no longer gives it takes it back (a teacher whose ADML « oui » was removed, a head
-- of school now teaching elsewhere in the run); one appointed by hand stays whatever the feeds say. Rows from before
-- this migration are taken as appointed by hand: nothing is taken back that an administrator may have chosen.
ALTER TABLE local_admins ADD COLUMN from_feed boolean NOT NULL DEFAULT false;
