// What every `trousseau …` command does with an argument it does not take.

/** `-h`/`--help` prints the usage (exit code 0); any other argument is refused with it (exit code 2). */
export function notAnOption(arg: string, usage: string): number {
  if (arg === '-h' || arg === '--help') {
    console.log(usage);
    return 0;
  }
  console.error(`option inconnue : ${arg}\n${usage}`);
  return 2;
}
