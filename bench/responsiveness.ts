// `npx tsx bench/responsiveness.ts [accounts] [works]`: issue #11's "the event loop never blocked more than 100 ms
// during any export", export by export, in the server: while each work runs once, another request (GET /healthz
// every 20 ms) measures what a user would feel (p99, max), and bench/stalls.ts records every stall of the event
// loop over 40 ms with what it was made of — the main thread's CPU time (our code and its GC), its time waiting
// for a core (the machine's other processes), its GC pauses — to tell the stalls our code causes from a busy
// machine's. Works (default all): csv, pdf (everything, over HTTP), mail (mail merge of everything, queued),
// word (Word CSV of a school), docx (Word letters of a school, QR included), zip (one PDF per account of a
// school), import (a generated AAF feed of IMPORT_ACCOUNTS, default 20,000, imported in the server's process,
// then again unchanged). Example: `npx tsx bench/responsiveness.ts 100000 csv,pdf`.
import { rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AppContext } from '../src/context.js';
import { collectInputs, importFiles } from '../src/import/index.js';
import { startMailMerge } from '../src/mail/merge.js';
import { exportSelection } from '../src/publipostage/generate.js';
import { handOut } from '../src/publipostage/handout.js';
import { SelectionSchema } from '../src/publipostage/selection.js';
import { zipSheets } from '../src/publipostage/zip.js';
import { makeDocx } from '../test/helpers/docx.js';
import { generateAafFeed } from './aaf-feed.js';
import { download, withProbe } from './measure.js';
import { populate } from './population.js';
import { serve, standalone } from './setup.js';
import { describeStalls, watchStalls } from './stalls.js';

const ACCOUNTS = Number(process.argv[2] ?? 100_000);
const WORKS = (process.argv[3] ?? 'csv,pdf,mail,word,docx,zip,import').split(',');
const IMPORT_ACCOUNTS = Number(process.env.IMPORT_ACCOUNTS ?? 20_000);
const ALL = { kind: 'all' } as const;

/** Runs `work` once while probing `probe`; prints its time, CPU, the probe's p99 / max and the loop's stalls. */
async function measure(name: string, probe: string, work: () => Promise<unknown>): Promise<void> {
  const watch = watchStalls({ thresholdMs: 40 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { value: ms, lat } = await withProbe(probe, async () => {
    await work();
    return performance.now() - t0;
  });
  const seen = watch.stop();
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const f = (v: number | undefined) => (v === undefined ? '—' : Math.round(v).toLocaleString('fr-FR'));
  console.log(
    `${name} : ${f(ms)} ms (CPU du processus, tous fils ${f((cpu.user + cpu.system) / 1000)} ms) ; autre requête p99 ${f(lat[Math.floor(lat.length * 0.99)])} / max ${f(lat.at(-1))} ms ; ` +
      `boucle bloquée ${f(seen.maxMs)} ms au plus, dont CPU ${f(seen.maxCpuMs)} ms au plus ; ${seen.stalls.length} attentes > 40 ms`,
  );
  if (seen.stalls.length) console.log(`  les plus longues : ${describeStalls(seen.stalls, 4)}`);
}

const drain = async (body: Buffer | Readable) => {
  if (!Buffer.isBuffer(body)) for await (const chunk of body) void chunk;
};

standalone('responsiveness', async (ctx: AppContext) => {
  const pop = await populate(ctx, ACCOUNTS);
  const { app, url, cookie, probe } = await serve(ctx);
  try {
    const school = SelectionSchema.parse({ structureId: pop.structureId });
    const all = SelectionSchema.parse({});
    console.log(`${pop.structureIds.length * 2500} comptes ; ${cpus().length} cœurs, charge ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
    for (const work of WORKS) {
      if (work === 'csv') await measure('CSV de tout (HTTP)', probe, () => download(`${url}/api/publipostage/csv`, cookie));
      else if (work === 'pdf') await measure('PDF modèle 1 de tout (HTTP)', probe, () => download(`${url}/api/publipostage/pdf?model=1`, cookie));
      else if (work === 'mail') await measure('publipostage par courriel de tout (mis en file)', probe, () => startMailMerge(ctx, all, ALL, null));
      else if (work === 'word') {
        await measure('CSV pour Word, un établissement', probe, async () => drain((await exportSelection(ctx, { format: 'word', selection: school, scope: ALL, actorId: null, via: 'cli' })).body));
      } else if (work === 'docx') {
        const content = makeDocx(['Bonjour {prenom} {nom},', 'identifiant {login}, code {code} valable jusqu’au {date_expiration}.', '{qr}', '{url}']);
        await measure('lettres Word (.docx), un établissement', probe, async () =>
          drain((await exportSelection(ctx, { format: 'docx', selection: school, scope: ALL, actorId: null, via: 'cli', letters: { name: 'modele.docx', content, soffice: null } })).body),
        );
      } else if (work === 'zip') {
        await measure('ZIP d’une fiche par compte, un établissement', probe, async () => {
          const rows = await handOut(ctx, { selection: school, scope: ALL, actorId: null, action: 'publipostage.zip', kind: 'zip', details: {} });
          await drain(await zipSheets(ctx, rows));
        });
      } else if (work === 'import') {
        const dir = join(tmpdir(), `trousseau-bench-responsiveness-${process.pid}`);
        const feed = generateAafFeed(dir, IMPORT_ACCOUNTS);
        try {
          const run = () => importFiles(ctx, collectInputs([dir]), { scope: ALL, dryRun: false });
          await measure(`import AAF dans le serveur (${feed.accounts} comptes)`, probe, run);
          await measure('réimport identique', probe, run);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } else throw new Error(`travail inconnu : ${work}`);
    }
  } finally {
    await app.close();
  }
});
