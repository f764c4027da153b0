// "Fiches de renouvellement": renewal codes for a selection of ACTIVATED accounts in one action, printed as sheets
// (1, 2 or 8 per page, the PDF engine's renewal variant) or exported as CSV — what pupils without an e-mail
// address need when they forget their password. Only the HMAC of a renewal code is stored (accounts/issue.ts):
// the file produced here is the one place the codes ever appear. The codes, their audit entry and the
// distribution record commit in one transaction, before anything is rendered.
import { formatCode } from '../accounts/codes.js';
import { issueRenewalCode, RENEWAL_HOURS } from '../accounts/issue.js';
import { withTransaction } from '../accounts/tx.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../directory/audit.js';
import type { Scope } from '../directory/scope.js';
import { requireManageable } from '../directory/users.js';
import { neutralizeCell, stringifyCsv } from './csv.js';
import { fileName, type ContentLabel } from './distribution.js';
import { frenchDate } from './format.js';
import { PROFILE_LABELS } from '../directory/vocabulary.js';
import { renderSheetsPdf, renewalUrl, type SheetModel } from './pdf.js';
import { selectAccounts } from './select.js';
import type { AccountRow, Selection } from './selection.js';
import { recordDistribution } from './tracking.js';

export type RenewalFormat = 'pdf' | 'csv';

/**
 * The accounts of a selection that can be given a renewal code: activated, changeable by the caller, signing in here,
 * and not the caller's own (`actorId`): a session alone would then set its password, where « Mon compte » asks for the
 * current one (generateRenewalCode refuses it the same way) — a stolen session of a local admin took the account for good.
 */
export function renewable(row: AccountRow, actorId: string | null): boolean {
  return row.activated && !row.readOnly && !row.externalProvider && !row.blocked && !row.preDeleted && row.id !== actorId;
}

/** The selection restricted to activated accounts (the only ones a renewal code serves). */
export function renewalSelection(selection: Selection): Selection {
  return { ...selection, activation: 'active' };
}

/**
 * Draws a renewal code for every account of `selection` renewable by `actorId` (see renewable), replacing any previous one,
 * and stores them with the audit entry `publipostage.renewal` (filters, count, format) and the distribution
 * record ('renewal_sheet') in one transaction. Returns the rows with `code` / `codeExpiresAt` holding the
 * renewal code (canonical) and its expiry (now + RENEWAL_HOURS): the caller renders them at once.
 * Throws DirectoryError not_found / forbidden when an account left the caller's scope meanwhile.
 */
export async function issueRenewalSheets(
  ctx: AppContext,
  selection: Selection,
  scope: Scope,
  actorId: string | null,
  format: RenewalFormat,
): Promise<AccountRow[]> {
  const selected = (await selectAccounts(ctx, renewalSelection(selection), scope)).filter((r) => renewable(r, actorId));
  const now = new Date();
  const issued = new Map(selected.map((r) => [r.id, issueRenewalCode(ctx.secrets, now)]));
  return withTransaction(ctx.database.pool, async (client) => {
    if (selected.length) await requireManageable(client, scope, selected.map((r) => r.id), { lock: true });
    const ids = [...issued.keys()];
    const res = await client.query<{ id: string }>(
      `UPDATE users u SET renewal_code_mac = v.mac, renewal_code_expires_at = v.exp, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, mac, exp)
       WHERE u.id = v.id AND u.activated_at IS NOT NULL AND NOT u.blocked AND u.pre_deleted_at IS NULL
       RETURNING u.id`,
      [ids, ids.map((id) => issued.get(id)!.mac), ids.map((id) => issued.get(id)!.expiresAt)],
    );
    const stored = new Set(res.rows.map((r) => r.id));
    const rows = selected
      .filter((r) => stored.has(r.id))
      .map((r) => ({ ...r, code: issued.get(r.id)!.code, codeExpiresAt: issued.get(r.id)!.expiresAt, codeExpired: false }));
    await recordAudit(client, actorId, 'publipostage.renewal', { filters: selection, count: rows.length, hours: RENEWAL_HOURS, format });
    await recordDistribution(client, { userIds: rows.map((r) => r.id), kind: 'renewal_sheet', actorId });
    return rows;
  });
}

/**
 * The sheets of rows returned by issueRenewalSheets: the connection sheet's layout with the renewal code, its
 * expiry, a QR code to the renewal page and "votre mot de passe actuel reste valable jusqu'à l'utilisation de
 * ce code". The rows are drawn as "code" sheets (activated: false for the painter only).
 */
export function renderRenewalPdf(ctx: AppContext, rows: AccountRow[], model: SheetModel): Promise<Buffer> {
  return renderSheetsPdf(ctx, rows.map((r) => ({ ...r, activated: false })), { model, variant: 'renewal', sort: 'alpha' });
}

export const RENEWAL_CSV_COLUMNS = ['Nom', 'Prénom', 'Profil', 'Login', 'Code de renouvellement', 'Valable jusqu’au', 'Classe', 'Lien'] as const;

/** The same codes as a CSV, by csv.ts's one writer (UTF-8 BOM, ';', CRLF, formulas neutralised, line breaks quoted). */
export function renderRenewalCsv(ctx: AppContext, rows: AccountRow[]): Buffer {
  const lines = rows.map((r) => [
    r.lastName, r.firstName, PROFILE_LABELS[r.profile].fr, r.login, r.code ? formatCode(r.code) : '',
    r.codeExpiresAt ? frenchDate(r.codeExpiresAt) : '', r.classes.join(', '), r.code ? renewalUrl(ctx.config.publicUrl, r.login, r.code) : '',
  ].map(neutralizeCell));
  return stringifyCsv(RENEWAL_CSV_COLUMNS, lines);
}

/** `renouvellement-6A-eleves-2026-09-02.pdf` */
export function renewalFileName(label: ContentLabel, day: string, format: RenewalFormat): string {
  return fileName('fiches', label, day, format).replace(/^fiches-/, 'renouvellement-');
}
