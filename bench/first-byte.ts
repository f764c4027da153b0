// `npx tsx bench/first-byte.ts [accounts] [runs]`: issue #11's « first byte under 1 s » of the downloads of a whole
// directory (PDF model 1 and CSV of every account, over HTTP), alone: bench/run.ts reads it from complete downloads
// (a million PDF sheets take about five minutes each). Each download is dropped once its first bytes arrive, which
// rolls its export back (src/publipostage/generate.ts handedOut): every run starts from the same directory. The first
// run of each format warms up and is not counted; formats alternate; medians. Defaults: 1,000,000 accounts, 5 runs.
import { request } from 'node:http';
import { median } from './measure.js';
import { populate } from './population.js';
import { serve, standalone } from './setup.js';

const accounts = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 5);

/** Milliseconds from sending the POST to the first bytes of a 200's body; the request is then destroyed. */
function firstByte(url: string, session: { cookie: string; csrf: string }): Promise<number> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const req = request(url, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } }, (res) => {
      if (res.statusCode !== 200) return fail(new Error(`POST ${url}: HTTP ${res.statusCode}`));
      res.once('data', () => {
        const ms = performance.now() - started;
        req.destroy();
        ok(ms);
      });
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : fail(e)));
    req.end();
  });
}

standalone('first_byte', async (ctx) => {
  const t0 = performance.now();
  await populate(ctx, accounts);
  console.log(`${accounts.toLocaleString('fr-FR')} comptes générés en ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { app, url, cookie } = await serve(ctx);
  try {
    const formats = { 'PDF modèle 1, tout': `${url}/api/publipostage/pdf?model=1`, 'CSV de tout': `${url}/api/publipostage/csv` };
    const times = new Map<string, number[]>(Object.keys(formats).map((k) => [k, []]));
    for (let i = 0; i <= runs; i++) {
      for (const [name, u] of Object.entries(formats)) {
        const ms = await firstByte(u, cookie);
        // The dropped export's rollback, before the next request.
        await new Promise((r) => setTimeout(r, 500));
        if (i > 0) times.get(name)!.push(ms);
      }
    }
    for (const [name, xs] of times) {
      console.log(`${name} : 1er octet ${median(xs).toFixed(0)} ms (médiane de ${xs.length} ; ${xs.map((x) => x.toFixed(0)).join(', ')} ms)`);
    }
  } finally {
    await app.close();
  }
});
