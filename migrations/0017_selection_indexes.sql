-- Selection at the scale of a région (issue #11): the school, class and scope filters are
-- `id IN (members UNION parents of members)` (publipostage/select.ts, directory/scope.ts), built from the
-- filter's side. Covering indexes let each branch be an index-only scan, so a school's or a class's accounts
-- cost the same among a million accounts; they replace the one-column indexes they start with.
CREATE INDEX user_structures_structure_user_idx ON user_structures (structure_id, user_id);
DROP INDEX user_structures_structure_idx;
CREATE INDEX user_classes_class_user_idx ON user_classes (class_id, user_id);
DROP INDEX user_classes_class_idx;
CREATE INDEX relations_child_parent_idx ON relations (child_id, parent_id);
DROP INDEX relations_child_idx;
