-- The console's pages at the scale of a région (issue #11: a million accounts). Measured: README « Pages de la
-- console ».

-- Super admins, found without reading every account: the school chooser counts each school's accounts but theirs
-- (listStructures), which joined every membership to its account (a million lookups, 3.2 s) to test the flag.
CREATE INDEX users_super_admin_idx ON users (id) WHERE is_super_admin;
