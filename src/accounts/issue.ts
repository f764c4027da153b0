// Issuing one-time codes for accounts.
import { generateCode } from './codes.js';
import type { Secrets } from './secrets.js';

export interface IssuedCode {
  code: string;
  enc: string;
  mac: string;
  expiresAt: Date;
}

export const ACTIVATION = 'activation';
export const RENEWAL = 'renewal';

export function issueActivationCode(secrets: Secrets, days: number, now = new Date()): IssuedCode {
  const code = generateCode();
  return {
    code,
    enc: secrets.encrypt(code),
    mac: secrets.mac(ACTIVATION, code),
    expiresAt: new Date(now.getTime() + days * 86_400_000),
  };
}
