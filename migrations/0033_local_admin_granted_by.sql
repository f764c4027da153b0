-- Who appointed a local administrator by hand (src/directory/local-admins.ts): a local admin may take back an
-- administration they gave themselves (a wrong colleague named), though the appointed colleague is otherwise a peer,
-- read-only to them. NULL: given by a feed, by the command line, before this migration, or by an account since
-- deleted — only a super admin takes those back.
ALTER TABLE local_admins ADD COLUMN granted_by uuid REFERENCES users(id) ON DELETE SET NULL;
