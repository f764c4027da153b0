// `trousseau publipostage`: connection sheets (PDF), the account list (CSV) or the CSV for Word's / LibreOffice's
// mail merge (word.ts) from the server, unrestricted scope.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { withCommandContext } from '../db/open.js';
import { publicUrlWarning } from '../startup.js';
import { PROFILES, type Profile } from '../directory/vocabulary.js';
import { isUuid } from '../directory/users.js';
import { foldName } from '../directory/fold.js';
import { externalSentence } from './distribution.js';
import { exportSelection, type ExportFormat } from './generate.js';
import { leftOutOf } from './select.js';
import type { SheetModel } from './pdf.js';
import { SelectionSchema } from './selection.js';
import { countFr } from '../lib/french.js';
import { zodIssueText } from '../lib/zod-text.js';

const USAGE = `usage : trousseau publipostage --format pdf|csv|word -o <fichier|-> [options]

  --format pdf|csv|word     fiches de connexion (PDF), liste des comptes (CSV) ou fichier de fusion
                            pour Word / LibreOffice (CSV UTF-8 avec BOM, « ; », colonnes sans accents,
                            code d'activation dans MotDePasse)
  -o, --output <fichier>    fichier produit (« - » : sortie standard)
  --model 1|2|8             fiches par page A4 (PDF, défaut 1)
  --address-block           adresse postale dans la fenêtre d'une enveloppe DL ou C5 (PDF modèle 1)
  --sort alpha|profile|class|family   ordre des fiches (défaut alpha ; class : une page par classe ;
                            family : chaque élève suivi de ses responsables légaux)
  --structure <UAI|nom|id>  un établissement
  --profiles <liste>        Student,Relative,Teacher,Personnel,Guest (ou Élève,Parent,Enseignant,Personnel,Invité)
  --classes <liste>         noms (6A,6B) ou identifiants de classes
  --levels <liste>          noms ou identifiants de niveaux
  --users <liste>           identifiants ou logins de comptes
  --activation all|active|inactive
  --email all|with|without
  --local-admins all|only|exclude
  --created-before <AAAA-MM-JJ>   créés avant ce jour
  --created-after <AAAA-MM-JJ>    créés depuis ce jour
  --pre-deletion not|pending|all   absents du flux (période de grâce ou pré-supprimés) : exclus par défaut
  --blocked exclude|only|all       comptes bloqués : exclus par défaut
  --external exclude|info          comptes qui se connectent avec un fournisseur externe (EduConnect…) :
                                   exclus par défaut, ou une fiche d'information sans code
  --origin all|feed|manual
  --search <texte>`;

const PROFILE_ALIASES: Record<string, Profile> = {
  eleve: 'Student', eleves: 'Student', student: 'Student',
  parent: 'Relative', parents: 'Relative', responsable: 'Relative', relative: 'Relative',
  enseignant: 'Teacher', enseignants: 'Teacher', teacher: 'Teacher',
  personnel: 'Personnel', personnels: 'Personnel',
  invite: 'Guest', invites: 'Guest', guest: 'Guest',
};

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** A usage mistake: reported with the usage text, exit code 2. */
class UsageError extends Error {}

/**
 * `path` opened for writing, readable by the server's account only (0600): the file holds working codes. An existing
 * file keeps its mode when overwritten, so its mode is set first, then it is emptied; one the account may write but
 * not own (its mode cannot change) is refused untouched (UsageError).
 */
async function privateFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`-o ${path} : ${(e as Error).message}`);
  }
  const handle = await open(path, 'r+').catch((e: Error) => {
    throw new UsageError(`-o ${path} : ${e.message}`);
  });
  try {
    await handle.chmod(0o600);
  } catch {
    await handle.close();
    throw new UsageError(`-o ${path} : ce fichier n'appartient pas au compte du serveur, qui ne peut pas le rendre privé (il contiendrait des codes d'activation) ; choisissez un autre chemin`);
  }
  await handle.truncate(0);
  return handle;
}

function profileOf(name: string): Profile {
  const p = (PROFILES as readonly string[]).includes(name) ? (name as Profile) : PROFILE_ALIASES[foldName(name)];
  if (!p) throw new UsageError(`profil inconnu : « ${name} » (attendu : ${PROFILES.join(', ')})`);
  return p;
}

/** Names or ids to ids, within the structure when one is given; an unknown name is an error. */
async function resolveNames(ctx: AppContext, table: 'classes' | 'levels', values: string[], structureId: string | undefined): Promise<string[]> {
  const what = table === 'classes' ? 'classe' : 'niveau';
  const ids: string[] = [];
  for (const v of values) {
    const res = await ctx.database.pool.query(
      `SELECT id FROM ${table} WHERE (id::text = $1 OR name = $1) AND ($2::uuid IS NULL OR structure_id = $2)`,
      [v, structureId ?? null],
    );
    if (!res.rows.length) throw new UsageError(`${what} inconnu${what === 'classe' ? 'e' : ''} : « ${v} »`);
    ids.push(...res.rows.map((r) => r.id as string));
  }
  return ids;
}

async function resolveStructure(ctx: AppContext, v: string): Promise<string> {
  const res = await ctx.database.pool.query('SELECT id FROM structures WHERE id::text = $1 OR uai = $1 OR name = $1', [v]);
  if (res.rows.length !== 1) throw new UsageError(res.rows.length ? `établissement ambigu : « ${v} »` : `établissement inconnu : « ${v} »`);
  return res.rows[0].id;
}

async function resolveUsers(ctx: AppContext, values: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const v of values) {
    const res = await ctx.database.pool.query('SELECT id FROM users WHERE login = $1 OR ($2 AND id::text = $1)', [v, isUuid(v)]);
    if (!res.rows.length) throw new UsageError(`compte inconnu : « ${v} »`);
    ids.push(res.rows[0].id);
  }
  return ids;
}

/** The command's options (strict: an unknown option throws). */
function parseOptions(args: string[]) {
  return parseArgs({
    args,
    options: {
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      model: { type: 'string' },
      sort: { type: 'string' },
      structure: { type: 'string' },
      profiles: { type: 'string' },
      classes: { type: 'string' },
      levels: { type: 'string' },
      users: { type: 'string' },
      activation: { type: 'string' },
      email: { type: 'string' },
      'local-admins': { type: 'string' },
      'created-before': { type: 'string' },
      'created-after': { type: 'string' },
      'pre-deletion': { type: 'string' },
      blocked: { type: 'string' },
      external: { type: 'string' },
      origin: { type: 'string' },
      search: { type: 'string' },
      'address-block': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}

/** Runs the command against an open context; returns the exit code. */
export async function runWith(ctx: AppContext, args: string[], log: (m: string) => void = (m) => console.error(m)): Promise<number> {
  let opts: ReturnType<typeof parseOptions>;
  try {
    opts = parseOptions(args);
  } catch (e) {
    log(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  try {
    const format = opts.format as ExportFormat | undefined;
    // 'docx' needs a letter model (console only).
    if (format !== 'pdf' && format !== 'csv' && format !== 'word') throw new UsageError('--format pdf, csv ou word est obligatoire');
    if (!opts.output) throw new UsageError('-o <fichier> est obligatoire (« - » pour la sortie standard)');
    const model = Number(opts.model ?? 1);
    if (![1, 2, 8].includes(model)) throw new UsageError(`--model : 1, 2 ou 8 (reçu « ${opts.model} »)`);
    if (opts['address-block'] && (format !== 'pdf' || model !== 1)) throw new UsageError('--address-block : PDF modèle 1 seulement (une fiche par page)');
    const structureId = opts.structure ? await resolveStructure(ctx, opts.structure) : undefined;
    const parsed = SelectionSchema.safeParse({
      structureId,
      profiles: list(opts.profiles).map(profileOf),
      classIds: await resolveNames(ctx, 'classes', list(opts.classes), structureId),
      levelIds: await resolveNames(ctx, 'levels', list(opts.levels), structureId),
      userIds: await resolveUsers(ctx, list(opts.users)),
      activation: opts.activation,
      email: opts.email,
      localAdmins: opts['local-admins'],
      createdBefore: opts['created-before'],
      createdAfter: opts['created-after'],
      preDeletion: opts['pre-deletion'],
      blocked: opts.blocked,
      external: opts.external,
      origin: opts.origin,
      search: opts.search,
      sort: opts.sort,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`option --${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} invalide : ${zodIssueText('fr', issue)}`);
    }
    const unset = publicUrlWarning(ctx.config);
    if (unset) log(unset);
    // The file is made the server account's alone before any code is drawn: refused, nothing is issued.
    const file = opts.output === '-' ? null : await privateFile(opts.output);
    const result = await exportSelection(ctx, {
      format,
      selection: parsed.data,
      scope: { kind: 'all' },
      actorId: null,
      model: model as SheetModel,
      addressBlock: opts['address-block'] === true,
      via: 'cli',
    });
    const source = Buffer.isBuffer(result.body) ? Readable.from([result.body]) : result.body;
    if (!file) await pipeline(source, process.stdout, { end: false });
    else await pipeline(source, file.createWriteStream());
    log(`${countFr(result.count, 'compte', 'comptes')} → ${opts.output === '-' ? 'sortie standard' : opts.output}`);
    // The same "left out" counters as the console preview.
    const left = await leftOutOf(ctx, parsed.data, { kind: 'all' });
    if (left.blocked) log(`${countFr(left.blocked, 'compte bloqué laissé', 'comptes bloqués laissés')} de côté (--blocked all pour les inclure)`);
    if (left.absent) log(`${countFr(left.absent, 'compte absent du flux laissé', 'comptes absents du flux laissés')} de côté (--pre-deletion all pour les inclure)`);
    for (const e of left.external) log(externalSentence(e));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      log(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    // Asked for: the usage is the answer (stdout, as every command's), not an error.
    console.log(USAGE);
    return 0;
  }
  return withCommandContext(loadConfig(), (ctx) => runWith(ctx, args));
}
