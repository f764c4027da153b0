// `tsx bench/pdf-scale.ts <sheets> [model]`: the PDF generator alone on a large selection, without the
// database — what the server's memory and event loop go through while a whole région's sheets stream out.
// Rows are generated (bench/data.ts's names, 3 in 4 with a code and a QR code) and handed over in batches of
// 500 as the export's cursor does; the PDF is read as fast as it comes and thrown away. Prints the time to the
// first byte, the total, sheets per second, the peak RSS above the start and the event loop's stalls (bench/stalls.ts:
// the longest, and for each its CPU time, its time waiting for a core and its GC pauses, to tell our code from a
// busy machine). Example: `tsx bench/pdf-scale.ts 100000`.
import { randomUUID } from 'node:crypto';
import { generateCode } from '../src/accounts/codes.js';
import type { AppContext } from '../src/context.js';
import { streamSheetsPdf, type SheetModel } from '../src/publipostage/pdf.js';
import type { AccountRow } from '../src/publipostage/selection.js';
import { builtInTemplates } from '../src/publipostage/templates.js';
import { prng } from './data.js';
import { describeStalls, watchStalls } from './stalls.js';

const FIRST = ['Zoé', 'Léo', 'Émile', 'Chloé', 'Lucas', 'Inès', 'Noah', 'Jade', 'Adam', 'Lina', 'Hugo', 'Manon', 'Åslög', 'Kù'];
const LAST = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'LEFÈBVRE', 'ÉCLAIR', 'NGUYỄN', 'ŜTĚPÁN', 'DE LA FONTAINE', "O'NEILL"];

/** `total` generated rows, `size` at a time. */
async function* rows(total: number, size: number): AsyncGenerator<AccountRow[]> {
  const rnd = prng(11);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const expires = new Date(Date.now() + 90 * 86_400_000);
  for (let done = 0; done < total; ) {
    const batch: AccountRow[] = [];
    for (; batch.length < size && done < total; done++) {
      const parent = done % 3 === 2;
      const first = pick(FIRST);
      const last = pick(LAST);
      const withCode = done % 4 !== 3;
      batch.push({
        id: randomUUID(), lastName: last, firstName: first, profile: parent ? 'Relative' : 'Student', login: `${first}.${last}${done}`.toLowerCase(),
        activated: !withCode, code: withCode ? generateCode() : null, codeExpiresAt: withCode ? expires : null, codeExpired: false,
        email: null, birthDate: null, classes: ['5B'], groupClass: '5B', structureId: null, structureName: `Collège n°${1 + Math.floor(done / 2500)}`,
        createdAt: new Date(), origin: 'feed', preDeleted: false, blocked: false, isLocalAdmin: false,
        children: parent ? [{ firstName: pick(FIRST), lastName: last, classes: ['5B'] }] : [],
      });
    }
    // A cursor's round trip: the next batch arrives on a later turn of the event loop.
    await new Promise((ok) => setImmediate(ok));
    yield batch;
  }
}

async function main() {
  const total = Number(process.argv[2] ?? 10_000);
  const model = Number(process.argv[3] ?? 1) as SheetModel;
  const templates = new Map([['', builtInTemplates(null)]]);
  const ctx = { config: { publicUrl: 'https://ent.example.fr' }, database: { pool: null } } as unknown as AppContext;

  global.gc?.();
  let bytes = 0;
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const watch = watchStalls({ thresholdMs: 50, label: () => `à ${(bytes / 1e6).toFixed(0)} Mo` });
  const t0 = performance.now();
  let first = 0;
  const pdf = await streamSheetsPdf(ctx, rows(total, 500), { model, templates });
  for await (const chunk of pdf) {
    if (!bytes) first = performance.now() - t0;
    bytes += (chunk as Buffer).length;
  }
  const ms = performance.now() - t0;
  const loop = watch.stop();
  clearInterval(sampler);
  const mb = (n: number) => (n / 1e6).toFixed(0);
  console.log(
    `${total} fiches, modèle ${model} : ${(ms / 1000).toFixed(1)} s, ${Math.round(total / (ms / 1000))} fiches/s, 1er octet ${first.toFixed(0)} ms, ` +
      `${mb(bytes)} Mo, RSS +${mb(peak - rss0)} Mo, boucle d'événements bloquée ${loop.maxMs.toFixed(0)} ms au plus (p99 ${loop.p99Ms.toFixed(0)} ms), ` +
      `dont CPU de ce processus ${loop.maxCpuMs.toFixed(0)} ms au plus`,
  );
  if (loop.stalls.length) console.log(`attentes de plus de 50 ms : ${loop.stalls.length} ; les plus longues : ${describeStalls(loop.stalls)}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
