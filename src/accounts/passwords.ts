// Password hashing (argon2id) and the password policy shared by activation, renewal, reset and "Mon compte".
import argon2 from 'argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and cheap enough for a classroom signing in at once.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

// Verified against when the login is unknown, so both cases cost the same time.
let dummyHash: Promise<string> | undefined;

/** True when `password` matches `hash`; a null hash (unknown or inactive account) still spends the time. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('trousseau-dummy-password');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * Policy violations as i18n keys by field ('password', 'confirm'); empty when acceptable. `min`: the account's
 * minimum length (profile policy, directory/policies.ts: 8 for pupils, 12 for adults and admins by default).
 */
export function checkPasswordPolicy(password: string, confirm: string, login: string, min = PASSWORD_MIN): Record<string, string> {
  const errors: Record<string, string> = {};
  if (password.length < min) errors.password = 'password.tooShort';
  else if (password.length > PASSWORD_MAX) errors.password = 'password.tooLong';
  else if (login && password.toLowerCase().includes(login.toLowerCase())) errors.password = 'password.containsLogin';
  if (!errors.password && password !== confirm) errors.confirm = 'password.mismatch';
  return errors;
}
