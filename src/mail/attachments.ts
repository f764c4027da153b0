// Attachments the mail worker makes when it sends a mail, from what the job describes (mail_jobs.attachment_spec),
// rather than files made and stored when the mail was queued: a family mail to a whole school queues in seconds,
// and the sheets carry the children's codes as they stand when the mail leaves.
import type { AppContext } from '../context.js';
import type { Scope } from '../directory/scope.js';
import { widened } from '../publipostage/distribution.js';
import { renderSheetsPdf } from '../publipostage/pdf.js';
import { selectAccounts } from '../publipostage/select.js';
import { SelectionSchema, type AccountRow } from '../publipostage/selection.js';
import { sheetFileName } from '../publipostage/zip.js';
import type { MailAttachment } from './queue.js';

/**
 * A family pack (mail/family.ts): ONE PDF of these children's sheets (model 1, class order), read within the scope of
 * the run's author. Holds ids only, never a code.
 */
export interface FamilyPackSpec {
  kind: 'family_pack';
  childIds: string[];
  scope: Scope;
}

export type AttachmentSpec = FamilyPackSpec;

/** « Fiche de connexion – Zoé MARTIN.pdf », or « … – Zoé MARTIN, Léo MARTIN.pdf » for several children. */
export function packFileName(children: readonly Pick<AccountRow, 'firstName' | 'lastName'>[]): string {
  return sheetFileName({ firstName: children.map((c) => `${c.firstName} ${c.lastName.toUpperCase()}`).join(', '), lastName: '' });
}

/** The files to attach, and the accounts whose sheets they hold (recorded as handed out once the mail is accepted). */
export interface MadeAttachments {
  files: MailAttachment[];
  sheetsOf: string[];
}

/**
 * The files of `spec` as they are to be sent now to the account `recipientId`. A family pack reads its children as
 * they are at this moment (the codes handed out when the mail was queued, or a later one; a child activated since gets
 * the sheet that says so, never a dead code), and only those the recipient is still the parent of (a relation removed
 * while the mail waited in the queue takes the child's sheet out), not blocked (blocking voided the code: the
 * sheet would only say to ask for one, as « Fiches de connexion » leaves a blocked account out) and still in the
 * school (a child missing from the feed or pre-deleted since, as the family mail's selection leaves them out); none
 * left: no file.
 */
export async function makeAttachments(ctx: AppContext, spec: AttachmentSpec, recipientId: string | null): Promise<MadeAttachments> {
  const related = recipientId && spec.childIds.length
    ? (
        await ctx.database.pool.query<{ child_id: string }>(
          `SELECT r.child_id FROM relations r JOIN users p ON p.id = r.parent_id AND p.profile = 'Relative'
           WHERE r.parent_id = $1 AND r.child_id = ANY($2::uuid[])`,
          [recipientId, spec.childIds],
        )
      ).rows.map((r) => r.child_id)
    : [];
  const selection = { ...widened(SelectionSchema.parse({})), blocked: 'exclude' as const, preDeletion: 'not' as const, userIds: related, sort: 'class' as const };
  const children = related.length ? await selectAccounts(ctx, selection, spec.scope) : [];
  if (!children.length) return { files: [], sheetsOf: [] };
  const content = await renderSheetsPdf(ctx, children, { model: 1, sort: 'class' });
  return { files: [{ filename: packFileName(children), contentType: 'application/pdf', content }], sheetsOf: children.map((c) => c.id) };
}
