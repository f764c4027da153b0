// What part of the directory a caller may see. Resolved once per request from roles.
export type Scope =
  | { kind: 'all' } // super admin
  | { kind: 'structures'; structureIds: string[] } // local admin of these structures
  | { kind: 'classes'; classIds: string[] } // teacher: these classes' students and their parents
  | { kind: 'self'; userId: string };

export type Role = 'superadmin' | 'localadmin' | 'teacher' | 'user';
