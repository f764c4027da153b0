-- A super admin has no feed identity (issue #7): no import can match, update or pre-delete it. Until now the
-- first super admin was created with the guessable external id 'demo:admin', so an AAF file holding that
-- jointure could set its e-mail or pre-delete it.
--  - super admins lose any external id, and any alias a merge left pointing at them;
--  - a super admin can no longer be pre-deleted by an import (apply.ts), so one pre-deleted that way is restored;
--  - the rule becomes a constraint: an account cannot be both super admin and fed.
UPDATE users SET external_id = NULL WHERE is_super_admin AND external_id IS NOT NULL;
DELETE FROM user_aliases WHERE user_id IN (SELECT id FROM users WHERE is_super_admin);
UPDATE users SET pre_deleted_at = NULL WHERE is_super_admin AND pre_deleted_at IS NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_super_admin_not_fed CHECK (NOT is_super_admin OR external_id IS NULL);
