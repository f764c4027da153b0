// Codes at rest: AES-256-GCM so an admin can print them again, and an HMAC to check them.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export class Secrets {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;
  /** Names the key without revealing it (derived apart from the working keys), for the database to remember. */
  readonly fingerprint: string;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new Error('la clé maîtresse doit faire 32 octets');
    this.encKey = Buffer.from(hkdfSync('sha256', master, 'trousseau', 'code-encryption', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', master, 'trousseau', 'code-mac', 32));
    this.fingerprint = Buffer.from(hkdfSync('sha256', master, 'trousseau', 'key-fingerprint', 16)).toString('hex');
  }

  /** AES-256-GCM under a fresh 12-byte `iv` (drawn here unless the caller drew many at once). */
  encrypt(plain: string, iv: Buffer = randomBytes(12)): string {
    const c = createCipheriv('aes-256-gcm', this.encKey, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
  }

  decrypt(blob: string): string {
    const b = Buffer.from(blob, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.encKey, b.subarray(0, 12));
    d.setAuthTag(b.subarray(12, 28));
    return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
  }

  /** Keyed hash; `purpose` keeps an activation code from being accepted as a renewal code. */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', this.macKey).update(`${purpose}:${value}`).digest('hex');
  }

  verify(purpose: string, value: string, expected: string | null | undefined): boolean {
    if (!expected) return false;
    const a = Buffer.from(this.mac(purpose, value), 'hex');
    const b = Buffer.from(expected, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
