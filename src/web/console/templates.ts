// Letter templates of one school ("Modèles de courrier"): per profile, the texts of the printed sheet and of
// the merge mail, for inactive and active accounts. Editable textareas, merge fields listed (inserted at the
// cursor by /static/classe.js), "Aperçu" (one sheet as a PDF page, or the mail, filled from a fictitious
// sample account: no real code is ever shown), "Enregistrer", "Rétablir le modèle par défaut".
// In the console's frame, with one sub-tab per profile.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { generateCode } from '../../accounts/codes.js';
import type { AppContext } from '../../context.js';
import { PROFILES, type Profile } from '../../directory/vocabulary.js';
import { renderSheetsPdf } from '../../publipostage/pdf.js';
import type { AccountRow } from '../../publipostage/selection.js';
import { fieldsFor, loadTemplates, renderTemplate, resetTemplate, saveTemplate, TEMPLATE_KINDS, templateProblems, type TemplateInput, type TemplateKind } from '../../publipostage/templates.js';
import { typed } from '../area.js';
import { HttpError, viewer } from '../context.js';
import { html, type HtmlValue } from '../html.js';
import { t, translator, type Lang } from '../i18n/index.js';
import { attachment, IdParams, text } from '../input.js';
import { isProfile, profileLabel } from '../labels.js';
import type { Notice } from '../layout.js';
import { schoolBase, schoolOr404, sendConsolePage, type School } from './frame.js';
import { editorView, errorList, isMail, mailPreviewView, PROFILE_SLUGS, resetConfirmView, templatesUrl, type Draft } from './views/templates.js';
import { viewEnv } from '../view.js';

const isKind = (s: string): s is TemplateKind => (TEMPLATE_KINDS as readonly string[]).includes(s);

/** The posted draft: profile and kind checked against the lists, text as typed. */
const DraftForm = z.object({ profile: text(20), kind: text(30), subject: text(300), body: text(), action: text(20) });
type DraftFields = z.infer<typeof DraftForm>;

/** A made-up account of a profile, so a preview shows every merge field filled without exposing anyone. */
export function sampleAccount(ctx: Pick<AppContext, 'config'>, profile: Profile, kind: TemplateKind, school: { id: string; name: string; className: string | null }): AccountRow {
  const active = kind === 'sheet_active' || kind === 'mail_active';
  const classes = school.className && (profile === 'Student' || profile === 'Relative' || profile === 'Teacher') ? [school.className] : [];
  const now = new Date();
  return {
    id: '00000000-0000-0000-0000-000000000000',
    lastName: 'EXEMPLE',
    firstName: profile === 'Relative' ? 'Dominique' : 'Camille',
    profile,
    login: profile === 'Relative' ? 'dominique.exemple' : 'camille.exemple',
    activated: active,
    code: active ? null : generateCode(),
    codeExpiresAt: active ? null : new Date(now.getTime() + ctx.config.activationCodeDays * 86_400_000),
    codeExpired: false,
    email: 'prenom.nom@exemple.fr',
    birthDate: null,
    classes,
    groupClass: classes[0] ?? null,
    structureId: school.id,
    structureName: school.name,
    createdAt: now,
    origin: 'manual',
    preDeleted: false,
    blocked: false,
    isLocalAdmin: false,
    children: profile === 'Relative' ? [{ firstName: 'Camille', lastName: 'EXEMPLE', classes }] : [],
  };
}

export default async function templates(root: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = typed(root);

  /** The school (or 404) and the first of its classes, which the sample account is filed in. */
  async function structureOr404(req: FastifyRequest, id: string): Promise<School & { className: string | null }> {
    const school = await schoolOr404(ctx, viewer(req).scope, id);
    const r = await ctx.database.pool.query<{ name: string }>('SELECT c.name FROM classes c WHERE c.structure_id = $1 ORDER BY c.name COLLATE trousseau_fr LIMIT 1', [school.id]);
    return { ...school, className: r.rows[0]?.name ?? null };
  }

  /** A page of this tab, in the console frame. */
  function tplPage(req: FastifyRequest, reply: FastifyReply, school: School, title: string, body: HtmlValue, o: { notice?: Notice | null; profile?: Profile; narrow?: boolean } = {}, status = 200) {
    const _ = translator(req.lang);
    return sendConsolePage(
      reply,
      {
        req,
        title,
        school,
        section: 'templates',
        notice: o.notice,
        narrow: o.narrow,
        crumbs: o.profile ? [] : [{ href: `${schoolBase(school.id)}/modeles`, label: _('console.nav.templates') }],
        subTabs: o.profile
          ? { label: _('console.nav.templates'), items: PROFILES.map((p) => ({ href: pageUrl(school.id, p), label: profileLabel(req.lang, p), current: p === o.profile })) }
          : undefined,
        body,
      },
      status,
    );
  }

  const pageUrl = templatesUrl;
  const profileOf = (slug: string): Profile => (Object.entries(PROFILE_SLUGS).find(([, s]) => s === slug)?.[0] as Profile | undefined) ?? (isProfile(slug) ? slug : 'Student');

  async function editorPage(req: FastifyRequest, reply: FastifyReply, structureId: string, profile: Profile, o: { notice?: Notice | null; draft?: Draft; ok?: string } = {}, status = 200) {
    const _ = translator(req.lang);
    const school = await structureOr404(req, structureId);
    const set = await loadTemplates(ctx, school.id);
    const ok = o.ok;
    const notice = o.notice ?? (ok === 'saved' || ok === 'reset' ? { kind: 'success' as const, text: _(`tpl.ok.${ok}`) } : null);
    return tplPage(req, reply, school, _('tpl.title', { school: school.name }), editorView(viewEnv(req), school, set, profile, o.draft), { notice, profile }, status);
  }

  /** The draft of the form, or a 422 when its profile or kind is not one of the lists. */
  /** The draft's problems in the request's language (French first, English from the catalogue). */
  function problemTexts(lang: Lang, input: TemplateInput): string[] {
    return templateProblems(input).map((p) => t(lang, `domain.${p.code}`, p.params));
  }

  function readDraft(f: DraftFields): { profile: Profile; kind: TemplateKind; subject: string; body: string } {
    if (!isProfile(f.profile) || !isKind(f.kind)) throw new HttpError(422, 'tpl.badRequest');
    // Browsers send CRLF line ends from a textarea; templates are stored with LF.
    return { profile: f.profile, kind: f.kind, subject: f.subject.trim(), body: f.body.replace(/\r\n?/g, '\n') };
  }

  app.get('/etablissements/:id/modeles', { schema: { params: IdParams, querystring: z.object({ profil: text(20), ok: text(20) }) } }, async (req, reply) =>
    editorPage(req, reply, req.params.id, profileOf(req.query.profil), { ok: req.query.ok }),
  );

  app.post('/etablissements/:id/modeles', { schema: { params: IdParams, body: DraftForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await structureOr404(req, req.params.id);
    const d = readDraft(req.body);
    const action = req.body.action;
    if (action === 'save') {
      const input = { structureId: school.id, profile: d.profile, kind: d.kind, subject: isMail(d.kind) ? d.subject : null, body: d.body };
      const errors = problemTexts(req.lang, input);
      if (errors.length) {
        return editorPage(
          req,
          reply,
          school.id,
          d.profile,
          {
            notice: { kind: 'error', text: _('tpl.notSaved') },
            draft: { kind: d.kind, subject: d.subject, body: d.body, errors },
          },
          422,
        );
      }
      await saveTemplate(ctx, input, viewer(req).user.id);
      return reply.redirect(`${pageUrl(school.id, d.profile)}&ok=saved#${d.kind}`, 303);
    }
    if (action === 'reset') {
      return tplPage(req, reply, school, _('tpl.reset.title'), resetConfirmView(viewEnv(req), school, d.profile, d.kind), { narrow: true });
    }
    if (action === 'reset-confirm') {
      await resetTemplate(ctx, { structureId: school.id, profile: d.profile, kind: d.kind }, viewer(req).user.id);
      return reply.redirect(`${pageUrl(school.id, d.profile)}&ok=reset#${d.kind}`, 303);
    }
    throw new HttpError(422, 'tpl.badRequest');
  });

  // The text being edited (saved or not), rendered for a sample account: a sheet as a one-page PDF, a mail as a page.
  app.post('/etablissements/:id/modeles/apercu', { schema: { params: IdParams, body: DraftForm } }, async (req, reply) => {
    const _ = translator(req.lang);
    const school = await structureOr404(req, req.params.id);
    const d = readDraft(req.body);
    const errors = problemTexts(req.lang, { structureId: school.id, profile: d.profile, kind: d.kind, subject: isMail(d.kind) ? d.subject : null, body: d.body });
    if (errors.length) {
      return tplPage(req, reply, school, _('tpl.preview.title'), html`<p>${_('tpl.preview.fix')}</p>`, { narrow: true, notice: { kind: 'error', text: errorList(errors) } }, 422);
    }
    const row = sampleAccount(ctx, d.profile, d.kind, school);
    if (isMail(d.kind)) {
      const fields = fieldsFor(row, ctx);
      return tplPage(req, reply, school, _('tpl.preview.title'), mailPreviewView(viewEnv(req), renderTemplate(d.subject, fields), renderTemplate(d.body, fields)), {
        notice: { kind: 'info', text: _('tpl.preview.sample') },
      });
    }
    // The draft replaces the stored text for this one profile and kind; an edited text is the school's own once saved
    // (printed as written, pdf.ts bodyFor), an unchanged one keeps its source (the built-in text has a no-e-mail wording).
    const stored = await loadTemplates(ctx, school.id);
    const current = stored.get(d.profile, d.kind);
    const draft = stored.with({ ...current, body: d.body, source: d.body === current.body ? current.source : 'structure' });
    // An activated account's sheet reads differently without an e-mail address (no reset link can reach it): the
    // preview shows that account too, on a second page, as it will really be printed.
    const rows = d.kind === 'sheet_active' ? [row, { ...row, email: null }] : [row];
    const pdf = await renderSheetsPdf(ctx, rows, {
      model: 1,
      lang: req.lang,
      templates: new Map([[school.id, draft]]),
    });
    return reply
      .header('content-disposition', attachment(`apercu-${PROFILE_SLUGS[d.profile]}-${d.kind}.pdf`, true))
      .header('cache-control', 'no-store')
      .type('application/pdf')
      .send(pdf);
  });
}
