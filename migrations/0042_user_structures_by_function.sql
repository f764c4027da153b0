-- Whether only the AAF functions of a member of staff (ENTPersonFonctions `structure$CODE$…`) gave her membership of a
-- structure, no ENTPersonStructRattach, class, group or other source naming it (src/import/plan.ts planMemberships,
-- UserRecord.byFunction). A delta's modifyRequest replacing ENTPersonFonctions alone lays her new functions over the
-- stored account (src/import/aaf-settle.ts storedPeople): without it, a head of school whose DIR function in a school
-- was replaced (she moved, or stays there as a teacher) stayed a member of the school only that function had named
-- (counted in it, chosen by its publipostage) until the next complete feed. Written by the import only; false for
-- every other membership and for those stored before this migration: the next complete feed compares again the AAF
-- staff records that give functions (their digests are cleared here: the records themselves did not change) and sets it.
ALTER TABLE user_structures ADD COLUMN by_function boolean NOT NULL DEFAULT false;
UPDATE users SET import_hash = NULL WHERE source = 'aaf' AND profile IN ('Teacher', 'Personnel') AND cardinality(functions) > 0 AND import_hash IS NOT NULL;
