// Names read from outside (a file on disk, a member of an archive) as the reports print them.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `name` with its control characters (C0, DEL, C1) shown as « � »: a NUL cannot be stored in PostgreSQL text or jsonb
 * (an audit row), a line break would forge a line of a report or a mail, an escape sequence would drive the terminal
 * the command line's report is read in. Replaced, not removed: a name never becomes another one's.
 */
export function printable(name: string): string {
  return name.replace(CONTROL, '\uFFFD');
}
