// `trousseau import <fichiers|dossiers…> [--dry-run] [--structure <UAI|nom>] [--partiel] [--confirmer-absences]`
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config.js';
import { withCommandContext } from '../db/open.js';
import { notAnOption } from '../lib/command.js';
import { collectInputs, formatReport, importFiles } from './index.js';
import { needsFixing } from './report.js';
import type { ImportReport } from './types.js';

const USAGE = `usage : trousseau import <fichiers|dossiers…> [--dry-run] [--structure <UAI|nom>] [--partiel] [--confirmer-absences]
       trousseau import --drop [--dossier <chemin>]   un passage du dossier de dépôt, tout de suite
  --dry-run     analyse et calcule le rapport sans rien enregistrer
  --structure   structure cible des fichiers CSV (UAI, identifiant ou nom ; créée si inconnue).
                Sans cette option, les CSV d'un dossier vont dans « École <nom du dossier> ».
  --partiel     les fichiers ne sont qu'une partie de l'annuaire : personne n'est pré-supprimé
  --confirmer-absences
                un import complet qui ferait sortir plus de la moitié des comptes d'un profil
                (un fichier oublié ?) est refusé ; cette option confirme ces départs
Code de sortie : 0 si tout est importé (remarques comprises), 1 si un fichier ou des lignes ont été refusés, ou si
  un lien parent-enfant demandé n'a pas été fait (enfant introuvable ou ambigu) (avec --dry-run : le seraient).`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--drop')) return (await import('../drop/cli.js')).run(args.filter((a) => a !== '--drop'));
  const paths: string[] = [];
  let dryRun = false;
  let partial = false;
  let confirmAbsences = false;
  let structureHint: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dry-run') dryRun = true;
    else if (a === '--partiel' || a === '--partial') partial = true;
    else if (a === '--confirmer-absences' || a === '--confirm-absences') confirmAbsences = true;
    else if (a === '--structure') structureHint = args[++i];
    else if (a.startsWith('--structure=')) structureHint = a.slice('--structure='.length);
    else if (a === '-h' || a.startsWith('--')) return notAnOption(a, USAGE);
    else paths.push(a);
  }
  if (!paths.length || (args.includes('--structure') && !structureHint)) {
    console.error(USAGE);
    return 2;
  }
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) {
    console.error(`introuvable : ${missing.join(', ')}`);
    return 1;
  }
  // Folders holding no file: nothing to import is an error, not « Import terminé » with nothing done.
  const inputs = collectInputs(paths);
  if (!inputs.length) {
    console.error(`aucun fichier à importer dans : ${paths.join(', ')}`);
    return 1;
  }
  // Ctrl-C (SIGINT; a terminal sends it to the whole process group, an embedded PostgreSQL started here included)
  // or SIGTERM: the run is stopped and rolled back (importFiles `signal`), the database closed, one line said, and
  // the exit code is the signal’s (130 for Ctrl-C). A second one changes nothing.
  const stop = new AbortController();
  let exitCode = 0;
  const onSignal = (name: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    exitCode = 128 + constants.signals[name];
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report: ImportReport | undefined;
  let failure: unknown;
  try {
    // The CLI runs with the server's own rights.
    report = await withCommandContext(loadConfig(), (ctx) =>
      importFiles(ctx, inputs, { scope: { kind: 'all' }, dryRun, structureHint, partial, confirmAbsences, signal: stop.signal }),
    );
  } catch (e) {
    failure = e;
  }
  // A run that did not get to its end may have failed because of the signal before its handler ran (the terminal's
  // Ctrl-C stops an embedded server too, or the database cuts the connections, and the run dies of it: « write
  // EPIPE »): the signal is waited for, up to a second (a loaded machine may run its handler later than the
  // failure's). A failure of its own is said a second later. A run that got to its end
  // was committed (or, dry, rolled back) before the signal: its report stands.
  if (!report || report.fatal) {
    const signalled = new Promise((ok) => stop.signal.addEventListener('abort', ok, { once: true }));
    if (!stop.signal.aborted) await Promise.race([signalled, sleep(1000)]);
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (!report && !stop.signal.aborted) throw failure;
  if (!report || (stop.signal.aborted && report.fatal)) {
    console.error('Import interrompu : rien n’a été importé.');
    return exitCode;
  }
  const text = formatReport(report, 'fr');
  if (report.fatal) console.error(text);
  else console.log(text);
  // Rows refused (or a whole file) mean the input needs fixing: scripts see it in the exit code (report.ts
  // needsFixing; remarks on rows imported do not). So does a dry run whose real run would be refused (massAbsence
  // without --confirmer-absences), as it does for rows refused.
  const refusedForReal = dryRun && !!report.massAbsence?.length && !report.absencesConfirmed;
  return needsFixing(report) || refusedForReal ? 1 : 0;
}
