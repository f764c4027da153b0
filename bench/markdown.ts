// The README's performance table, regenerated from a benchmark run (`npm run bench -- --markdown`): written
// between the markers below, the rest of the README untouched.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Work } from './measure.js';

export const START = '<!-- bench:start (npm run bench -- --markdown) -->';
export const END = '<!-- bench:end -->';

const n = (v: number | undefined, d = 0) => (v === undefined || Number.isNaN(v) ? '—' : v.toLocaleString('fr-FR', { maximumFractionDigits: d, minimumFractionDigits: d }));
const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 10_000 ? `${n(v / 1000, 1)} s` : `${n(v, v < 100 ? 1 : 0)} ms`);

/** The works as a Markdown table. */
export function table(works: Work[], conditions: string): string {
  const lines = [
    `Mesuré : ${conditions}.`,
    '',
    '| taille | mesure | produit | référence (même exécution) | rapport | 1er octet | RSS ajoutée | autre requête p99 / max | boucle bloquée max (CPU) | objectif |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const w of works) {
    lines.push(`| ${w.size} | ${w.work}${w.note ? ` (${w.note})` : ''} | ${ms(w.productMs)} | ${w.baseline ? `${w.baseline} : ${ms(w.baselineMs)}` : '—'} | ${
      w.baselineMs ? `×${n(w.productMs / w.baselineMs, 2)}` : '—'} | ${ms(w.ttfbMs)} | ${w.rssMb === undefined ? '—' : `${n(w.rssMb)} Mo`} | ${
      w.loopP99 === undefined ? '—' : `${ms(w.loopP99)} / ${ms(w.loopMax)}`} | ${
      w.stallMs === undefined ? '—' : `${ms(w.stallMs)} (${w.stallCpuMs ? ms(w.stallCpuMs) : '< 50 ms'})`} | ${w.goal ? `${w.goal} : ${w.ok ? 'OK' : 'manqué'}` : '—'} |`);
  }
  return lines.join('\n');
}

/** Replaces what is between the markers of `file` (appends a section when they are missing). */
export function writeReadme(file: string, works: Work[], conditions: string): void {
  const text = readFileSync(file, 'utf8');
  const block = `${START}\n${table(works, conditions)}\n${END}`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  writeFileSync(file, a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n## Performances\n\n${block}\n`);
}
