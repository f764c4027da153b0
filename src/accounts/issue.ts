// Issuing one-time codes for accounts.
import { randomFillSync } from 'node:crypto';
import { generateCode, generateCodes } from './codes.js';
import type { Secrets } from './secrets.js';

export interface IssuedCode {
  code: string;
  enc: string;
  mac: string;
  expiresAt: Date;
}

export const ACTIVATION = 'activation';
export const RENEWAL = 'renewal';

/** One activation code, valid `days` days from `now` (issueActivationCodes). */
export function issueActivationCode(secrets: Secrets, days: number, now = new Date()): IssuedCode {
  return issueActivationCodes(secrets, days, 1, now)[0];
}

/** `count` activation codes at once (an import's new accounts): their symbols and IVs from one draw of the CSPRNG. */
export function issueActivationCodes(secrets: Secrets, days: number, count: number, now = new Date()): IssuedCode[] {
  const ivs = randomFillSync(Buffer.alloc(count * 12));
  const expiresAt = new Date(now.getTime() + days * 86_400_000);
  return generateCodes(count).map((code, i) => ({
    code,
    enc: secrets.encrypt(code, ivs.subarray(i * 12, (i + 1) * 12)),
    mac: secrets.mac(ACTIVATION, code),
    expiresAt,
  }));
}

export interface IssuedRenewalCode {
  code: string;
  mac: string;
  expiresAt: Date;
}

export const RENEWAL_HOURS = 72;

/** Renewal codes are shown once to the admin: only the HMAC is kept, nothing to decrypt later. */
export function issueRenewalCode(secrets: Secrets, now = new Date()): IssuedRenewalCode {
  const code = generateCode();
  return { code, mac: secrets.mac(RENEWAL, code), expiresAt: new Date(now.getTime() + RENEWAL_HOURS * 3_600_000) };
}
