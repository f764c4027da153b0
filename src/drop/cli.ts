// `trousseau import --drop [--dossier <chemin>]`: one pass over the drop folder now, as the schedule would run it.
// Mail queued for the super admins is sent before exiting when SMTP_URL is set (else a running server sends it).
import { loadConfig } from '../config.js';
import { withCommandContext } from '../db/open.js';
import { notAnOption } from '../lib/command.js';
import { startMailWorker } from '../mail/worker.js';
import { needsFixing } from '../import/report.js';
import { deliveryText, runDropFolder } from './run.js';

const USAGE = `usage : trousseau import --drop [--dossier <chemin>]
  Importe chaque livraison complète du dossier de dépôt (TROUSSEAU_DROP_DIR, ou --dossier), la range dans
  archive/<date>/ ou rejected/<date>/ avec son rapport, et envoie le résumé aux super-administrateurs.
Code de sortie : 0 tout importé (ou rien à faire ; remarques comprises), 1 une livraison refusée, en erreur, avec
  des lignes rejetées ou des liens parent-enfant non faits, 75 un autre passage est en cours.`;

export async function run(args: string[]): Promise<number> {
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dossier' || a === '--dir') dir = args[++i];
    else return notAnOption(a, USAGE);
  }
  const config = loadConfig(dir ? { ...process.env, TROUSSEAU_DROP_DIR: dir } : process.env);
  if (!config.drop.dir) {
    console.error(`Aucun dossier de dépôt : définissez TROUSSEAU_DROP_DIR ou passez --dossier.\n${USAGE}`);
    return 2;
  }
  return withCommandContext(config, async (ctx) => {
    const result = await runDropFolder(ctx, { log: (m) => console.error(m) });
    if (result.status === 'busy') {
      console.error('Un autre passage du dossier de dépôt est en cours (autre instance) : rien fait.');
      return 75;
    }
    for (const d of result.deliveries) console.log(`${deliveryText(d)}\n`);
    for (const w of result.waiting) console.log(`En attente : ${w.name} — ${w.reason}`);
    if (!result.deliveries.length && !result.waiting.length) console.log(`Rien à importer dans ${config.drop.dir}.`);
    if (result.mailed && config.smtpUrl) {
      const worker = startMailWorker(ctx, { log: (m) => console.error(m) });
      await worker.drain();
      await worker.stop();
    }
    const bad = result.deliveries.some((d) => d.outcome !== 'archived' || (!!d.report && needsFixing(d.report)));
    return bad ? 1 : 0;
  });
}
