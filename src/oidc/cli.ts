// `trousseau oidc cles|rotation`: the OpenID provider's signing keys from the server's command line (whoever runs
// it holds the database and TROUSSEAU_SECRET). English aliases: `trousseau oidc keys|rotate`.
import { loadConfig } from '../config.js';
import { withCommandContext } from '../db/open.js';
import { notAnOption } from '../lib/command.js';
import { rotateSigningKey } from './keys.js';

const USAGE = `usage : trousseau oidc cles
       trousseau oidc rotation [--retirer-apres <jours>]
  rotation : ajoute une clé de signature neuve, qui signe les jetons d'identité dès le redémarrage de chaque
  instance ; les anciennes restent publiées (les jetons déjà signés se vérifient) jusqu'à leur retrait :
  --retirer-apres 2 retire celles créées il y a plus de 2 jours (plus longtemps que la vie d'un jeton).`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') return notAnOption(sub, USAGE);
  let retireDays: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--retirer-apres' || a === '--retire-after') {
      retireDays = Number(rest[++i]);
      if (!Number.isInteger(retireDays) || retireDays < 1) {
        console.error(`--retirer-apres : un nombre de jours (entier, 1 au moins)\n${USAGE}`);
        return 2;
      }
    } else {
      return notAnOption(a, USAGE);
    }
  }
  const action = ({ cles: 'list', keys: 'list', rotation: 'rotate', rotate: 'rotate' } as Record<string, string>)[sub ?? ''];
  if (!action) {
    console.error(USAGE);
    return 2;
  }
  return withCommandContext(loadConfig(), async ({ database, secrets }) => {
    if (action === 'rotate') {
      const kid = await rotateSigningKey(database.pool, secrets, retireDays);
      console.log(`Nouvelle clé de signature ${kid} : redémarrez chaque instance pour qu'elle signe et soit publiée.`);
    }
    const { rows } = await database.pool.query('SELECT kid, created_at, retired_at FROM oidc_keys ORDER BY created_at DESC');
    for (const r of rows) {
      console.log(`${r.kid}  créée ${(r.created_at as Date).toISOString().slice(0, 16)}  ${r.retired_at ? `retirée ${(r.retired_at as Date).toISOString().slice(0, 16)}` : 'en service'}`);
    }
    return 0;
  });
}
