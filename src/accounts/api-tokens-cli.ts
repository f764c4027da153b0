// `trousseau jeton creer|liste|revoquer`: API tokens for scripts from the server's command line (whoever runs it
// holds the database, hence super-admin rights). English aliases: `trousseau token create|list|revoke`.
import { loadConfig } from '../config.js';
import { withCommandContext } from '../db/open.js';
import { notAnOption } from '../lib/command.js';
import { createApiToken, listApiTokens, revokeApiToken, TokenInputError } from './api-tokens.js';

const USAGE = `usage : trousseau jeton creer --nom <nom> (--etablissement <UAI|id>… | --tous)
       trousseau jeton liste
       trousseau jeton revoquer <préfixe|id>
  Un jeton ne permet que l'import (POST /api/import, en-tête « Authorization: Bearer <jeton> »), dans ses
  établissements (--tous : tous, y compris les fichiers AAF). Il n'est affiché qu'une fois.`;

const day = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '—');

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') return notAnOption(sub, USAGE);
  let name = '';
  let all = false;
  const structures: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--nom' || a === '--name') name = rest[++i] ?? '';
    else if (a === '--etablissement' || a === '--structure') structures.push(rest[++i] ?? '');
    else if (a === '--tous' || a === '--all') all = true;
    else if (a === '-h' || a.startsWith('--')) return notAnOption(a, USAGE);
    else positional.push(a);
  }
  const action = ({ creer: 'create', create: 'create', liste: 'list', list: 'list', revoquer: 'revoke', revoke: 'revoke' } as Record<string, string>)[sub ?? ''];
  if (!action || (action === 'revoke' && positional.length !== 1) || (action === 'create' && all && structures.length)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  return withCommandContext(config, async (ctx) => {
    const db = ctx.database.pool;
    if (action === 'create') {
      try {
        const t = await createApiToken(db, { name, structures, allStructures: all, actorId: null, via: 'cli' });
        console.log(`Jeton « ${name.trim()} » créé. Copiez-le maintenant, il ne sera plus affiché :\n\n  ${t.token}\n`);
        console.log(`Exemple : curl -H "Authorization: Bearer ${t.token}" -F files=@Eleves.csv "${config.publicUrl}/api/import?structureId=${t.structureIds[0] ?? '<id>'}&dryRun=true"`);
        // The example's address is this machine's without TROUSSEAU_PUBLIC_URL: a script elsewhere would not reach it.
        if (!config.publicUrlSet) console.log(`(adresse de cette machine : TROUSSEAU_PUBLIC_URL n’est pas définie ; depuis une autre machine, utilisez l’adresse publique de Trousseau)`);
        return 0;
      } catch (e) {
        if (e instanceof TokenInputError) {
          console.error(e.message);
          return 2;
        }
        throw e;
      }
    }
    if (action === 'list') {
      for (const t of await listApiTokens(db)) {
        const where = t.allStructures ? 'tous les établissements' : t.structures.map((s) => s.uai ?? s.name).join(', ');
        console.log(`${t.prefix}  ${t.revokedAt ? 'révoqué ' : t.issuerValid ? 'actif   ' : 'inactif (son créateur n’est plus super administrateur)'} ${t.name} — ${where} — créé ${day(t.createdAt)} — dernier usage ${day(t.lastUsedAt)}`);
      }
      return 0;
    }
    if (await revokeApiToken(db, positional[0], null, 'cli')) {
      console.log('Jeton révoqué.');
      return 0;
    }
    console.error(`Aucun jeton actif « ${positional[0]} ».`);
    return 1;
  });
}
