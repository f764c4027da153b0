// Whoever hands credentials out (sheet, CSV, mail) hands out a working code: an inactive account whose
// code is missing or expired gets a fresh one at that moment, stored before the output leaves.
import { issueActivationCode, type IssuedCode } from '../accounts/issue.js';
import type { AppContext } from '../context.js';
import { mayCarryCode } from './distribution.js';
import type { AccountRow } from './selection.js';
import type { Queryable } from '../db/index.js';


/** What planFreshCodes reads of a row: an AccountRow, or the CSV export's lighter CsvAccountRow. */
export type CodeBearer = Pick<AccountRow, 'id' | 'activated' | 'blocked' | 'preDeleted' | 'externalProvider' | 'readOnly' | 'code' | 'codeExpiresAt' | 'codeExpired'>;

/** The inactive rows that need a new code, with one freshly drawn for each (nothing stored yet). */
export function planFreshCodes(ctx: Pick<AppContext, 'secrets' | 'config'>, rows: readonly CodeBearer[], now = new Date()): Map<string, IssuedCode> {
  const issued = new Map<string, IssuedCode>();
  for (const r of rows) {
    // A read-only row (another administrator, manageableSql), a blocked, pre-deleted or externally-authenticated
    // one never gets a code: it could not use it (distribution.ts).
    if (mayCarryCode(r) && (!r.code || (r.codeExpiresAt !== null && r.codeExpiresAt <= now))) {
      issued.set(r.id, issueActivationCode(ctx.secrets, ctx.config.activationCodeDays, now));
    }
  }
  return issued;
}

/**
 * Stores the planned codes in one statement; returns the ids that took them. An account activated since it
 * was selected keeps no new code (it is left out of the returned set); with `onlyIfDead`, neither does one whose
 * code was renewed meanwhile (a mail run must not kill the code another run just mailed).
 */
export async function storeFreshCodes(db: Queryable, issued: ReadonlyMap<string, IssuedCode>, opts: { onlyIfDead?: boolean } = {}): Promise<Set<string>> {
  if (!issued.size) return new Set();
  const ids = [...issued.keys()];
  const codes = ids.map((id) => issued.get(id)!);
  const res = await db.query<{ id: string }>(
    `UPDATE users u SET activation_code_enc = v.enc, activation_code_mac = v.mac, activation_code_expires_at = v.exp, updated_at = now()
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS v(id, enc, mac, exp)
     WHERE u.id = v.id AND u.activated_at IS NULL AND NOT u.blocked AND u.pre_deleted_at IS NULL
       ${opts.onlyIfDead ? 'AND (u.activation_code_mac IS NULL OR u.activation_code_expires_at <= now())' : ''}
     RETURNING u.id`,
    [ids, codes.map((c) => c.enc), codes.map((c) => c.mac), codes.map((c) => c.expiresAt)],
  );
  return new Set(res.rows.map((r) => r.id));
}

/** The row as it reads with its new code. */
export function withFreshCode<R extends CodeBearer>(row: R, fresh: IssuedCode): R {
  return { ...row, code: fresh.code, codeExpiresAt: fresh.expiresAt, codeExpired: false };
}
