// Password hashing (argon2id) and the password policy shared by activation, renewal, reset and "Mon compte".
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as fr from '@zxcvbn-ts/language-fr';
import argon2 from 'argon2';

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and cheap enough for a classroom signing in at once.
// The ONE parameter set of the application (admin, demo seed, users): a hash made otherwise is redone at the next
// sign-in (see needsRehash), so the time a sign-in takes says nothing about where an account came from.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
/** Lowest zxcvbn score (0–4) accepted: 3 = "safely unguessable", about 10^8 guesses and more. */
export const PASSWORD_MIN_SCORE = 3;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/** Whether a stored hash was made with other parameters than OPTIONS (older default, demo seed of earlier versions). */
export function needsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, OPTIONS);
  } catch {
    return false;
  }
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

// zxcvbn-ts (maintained port of Dropbox's estimator) with the common and French dictionaries: names, words,
// keyboard walks, repeats, dates. Built on first use: the dictionaries take a moment to load.
let estimator: ZxcvbnFactory | undefined;
function strength(password: string, userInputs: string[]): { score: number; guessesLog10: number } {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...fr.dictionary },
    graphs: common.adjacencyGraphs,
    translations: fr.translations,
  });
  const r = estimator.check(password.slice(0, 100), userInputs);
  return { score: r.score, guessesLog10: r.guessesLog10 };
}

/**
 * Estimated guesses (log10) a password must need where the profile allows shorter passwords than PASSWORD_MIN
 * (pupils: 8 characters): no 8-character password reaches score 3 (more than 10^8), yet words, names and dates
 * ("motdepasse2024": 10^6) must still fail; 8 characters that are not words reach about 10^8.
 */
export const SHORT_PASSWORD_MIN_GUESSES_LOG10 = 7.5;

/** Whether a password is strong enough for a profile whose minimum length is `min`. */
function strongEnough(password: string, userInputs: string[], min: number): boolean {
  const s = strength(password, userInputs);
  return min >= PASSWORD_MIN ? s.score >= PASSWORD_MIN_SCORE : s.guessesLog10 >= SHORT_PASSWORD_MIN_GUESSES_LOG10;
}

/**
 * Policy violations as i18n keys by field ('password', 'confirm'); empty when acceptable. `userInputs` (names,
 * e-mail) count as known words for the strength estimate. `min`: the account's minimum length (profile policy,
 * directory/policies.ts: 8 for pupils, 12 for adults and admins by default); the strength rule is the same for all.
 */
export function checkPasswordPolicy(password: string, confirm: string, login: string, userInputs: string[] = [], min = PASSWORD_MIN): Record<string, string> {
  const errors: Record<string, string> = {};
  if (password.length < min) errors.password = 'password.tooShort';
  else if (password.length > PASSWORD_MAX) errors.password = 'password.tooLong';
  else if (login && password.toLowerCase().includes(login.toLowerCase())) errors.password = 'password.containsLogin';
  else if (!strongEnough(password, [login, ...login.split(/[._-]/), ...userInputs].filter(Boolean), min)) errors.password = 'password.tooWeak';
  if (!errors.password && password !== confirm) errors.confirm = 'password.mismatch';
  return errors;
}
