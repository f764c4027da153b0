#!/usr/bin/env node
// `trousseau <command>`: import, publipostage, … Each command lives with its domain.
const commands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  import: () => import('./import/cli.js'),
  publipostage: () => import('./publipostage/cli.js'),
  admin: () => import('./accounts/admin.js'),
  jeton: () => import('./accounts/api-tokens-cli.js'),
  token: () => import('./accounts/api-tokens-cli.js'),
  oidc: () => import('./oidc/cli.js'),
};

/** What each command does, one line each, for `trousseau --help` (`token` is `jeton` in English). */
const SUMMARY: Array<[string, string]> = [
  ['import', 'importer des fichiers d’annuaire (AAF, SIECLE, STS-web, ONDE, CSV), simulation avec --dry-run'],
  ['publipostage', 'fiches PDF, CSV ou fichier de fusion Word d’une sélection de comptes'],
  ['admin', 'rétablir le compte admin (nouveau mot de passe), nommer ou retirer un administrateur local'],
  ['jeton', 'jetons d’API : créer, lister, révoquer (token en anglais)'],
  ['oidc', 'clés de signature du fournisseur OpenID Connect (rotation)'],
];

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    const usage = `usage : trousseau <${Object.keys(commands).join('|')}> [options] (trousseau <commande> --help : ses options)`;
    // Asked for, the usage is the answer (stdout, 0); anything else is an error.
    if (name === '-h' || name === '--help') {
      console.log([usage, '', ...SUMMARY.map(([c, what]) => `  ${c.padEnd(14)}${what}`)].join('\n'));
      return 0;
    }
    console.error(usage);
    return 2;
  }
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
