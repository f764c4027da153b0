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

/**
 * Longest name a report or an error shows (an uploaded file's name is cut there too, import/uploads.ts): a member of
 * an archive may be named with 65,535 bytes, repeated in every line that names it.
 */
export const SHOWN_NAME_MAX = 200;

/**
 * `name` as printable() shows it, at most `max` characters: a longer one keeps its start (the folders) and its end
 * (the file name and its extension, which say its format) around « … ». Cut between code points, never inside one:
 * half a surrogate pair cannot be stored in PostgreSQL jsonb (an audit row).
 */
export function shownName(name: string, max = SHOWN_NAME_MAX): string {
  const shown = printable(name);
  if (shown.length <= max) return shown;
  const points = Array.from(shown);
  let head = '';
  let tail = '';
  let i = 0;
  let j = points.length - 1;
  // Alternately from each end, while the result (with « … ») still fits in `max` UTF-16 units.
  while (i <= j) {
    const front = head.length <= tail.length;
    const next = front ? points[i] : points[j];
    if (head.length + tail.length + next.length + 1 > max) break;
    if (front) {
      head += next;
      i++;
    } else {
      tail = next + tail;
      j--;
    }
  }
  return `${head}…${tail}`;
}
