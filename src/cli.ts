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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    const usage = `usage : trousseau <${Object.keys(commands).join('|')}> [options] (trousseau <commande> --help : ses options)`;
    // Asked for, the usage is the answer (stdout, 0); anything else is an error.
    if (name === '-h' || name === '--help') {
      console.log(usage);
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
