// The AAF record cache attacked (a reviewer's cases; 1 to 5 and 8 failed before their fixes): each case runs
// deliveries on two databases, one whose cache is emptied before each run (the both() pattern of
// import-aaf-cache.test.ts): same report, same directory expected. What they fixed: a class takes the first level
// given in reading order, cached rows included; AAF records of one key are merged once staged, each checked as read
// (not in memory, where the batch's cuts decided what was checked together); rejections come in file and line
// order; the records of a CSV file stay in the batch across an AAF file, for a later CSV file to complete them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { generateAafFeed } from '../bench/aaf-feed.js';
import { eraseAccounts } from '../src/accounts/lifecycle.js';
import { collectInputs, importFiles } from '../src/import/index.js';
import { type Ctx, deliveries, extOf, files, named, q, RECORD, runImport, shown, withPair } from './helpers/aaf-cache.js';
import { testContext } from './helpers/db.js';

const root = mkdtempSync(join(tmpdir(), 'trousseau-aaf-cache-attack-'));
const original = join(root, 'original');
const delivery = deliveries(root, original);
before(() => {
  generateAafFeed(original, 900, 5);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('class level: a cached pupil naming a class first, a pupil read in full naming it later with another level', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      // pupils 0 and 16 are both in 6A (level 6EME); 16 now says 6EME SEGPA; 0 unchanged (a hit).
      assert.match(pupils[16], /\$6A</);
      assert.match(pupils[0], /\$6A</);
      text.set(eleve, text.get(eleve)!.replace(pupils[16], pupils[16].replace('<attr name="ENTEleveNivFormation"><value>6EME', '<attr name="ENTEleveNivFormation"><value>6EME SEGPA')));
    });
    await p.both(dir, 'level changed on a later pupil');
  });
});

test('merge before checks: a record with an invalid e-mail, a cached record, then the same person again', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const bad = pupils[5].replace('<attributes>\n', '<attributes>\n<attr name="mail"><value>pas-une-adresse</value></attr>\n');
      text.set(eleve, text.get(eleve)!.replace(pupils[3], `${bad}\n${pupils[3]}`));
    });
    await p.both(dir, 'invalid e-mail then the same person');
  });
});

test('merge before checks: a new pupil without birth date, a cached record, then the same pupil born in 2099', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const ext = extOf(pupils[5]);
      const x = pupils[5]
        .replaceAll(ext, '9990001')
        .replace(/<attr name="ENTEleveINE">.*?<\/attr>/, '<attr name="ENTEleveINE"><value/></attr>');
      const a = x.replace(/<attr name="ENTPersonDateNaissance">.*?<\/attr>/, '<attr name="ENTPersonDateNaissance"><value/></attr>');
      const b = x.replace(/<attr name="ENTPersonDateNaissance">.*?<\/attr>/, '<attr name="ENTPersonDateNaissance"><value>01/01/2099</value></attr>');
      text.set(eleve, text.get(eleve)!.replace(pupils[3], `${a}\n${pupils[3]}`).replace(pupils[4], `${pupils[4]}\n${b}`));
    });
    await p.both(dir, 'undated then future-dated pupil');
  });
});

test('order of rejections: a pupil born in 2099, a cached record, then a record whose birth date does not exist', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const future = pupils[2].replace(/(<attr name="ENTPersonDateNaissance"><value>)[^<]*/, '$101/01/2099');
      const impossible = pupils[6].replace(/(<attr name="ENTPersonDateNaissance"><value>)[^<]*/, '$131/02/2010');
      text.set(eleve, text.get(eleve)!.replace(pupils[2], future).replace(pupils[6], impossible));
    });
    await p.both(dir, 'two rejections');
  });
});

test('CSV before and after an AAF file with hits: an earlier CSV row completes a later one', async () => {
  await withPair(null, async (p) => {
    const dir = join(root, 'mixed');
    mkdirSync(dir);
    const etab = files(original).find((f) => f.includes('_EtabEducNat_'))!;
    const pers = files(original).find((f) => f.includes('_PersEducNat_'))!;
    writeFileSync(join(dir, etab), readFileSync(join(original, etab)));
    const head = readFileSync(join(original, pers), 'utf8');
    const staff = head.match(RECORD)!;
    writeFileSync(join(dir, pers), `${head.slice(0, head.indexOf('<addRequest>'))}${staff.slice(0, 3).join('\n')}\n</ficAlimMENESR>\n`);
    writeFileSync(join(dir, 'A_Enseignants.csv'), 'Id;Prénom;Nom;email\nT1;Hélène;ROUSSEL;helene.roussel@exemple.test\n');
    writeFileSync(join(dir, 'Z_Enseignants.csv'), 'Id;Prénom;Nom;email\nT1;Hélène;ROUSSEL;\n');
    // CSV keys hold the school's id (random per database): compared by name.
    const csvPeople = (ctx: Ctx) => q(ctx, `SELECT first_name, last_name, email, title FROM users WHERE source = 'csv' ORDER BY last_name`);
    for (const label of ['first mixed run', 'second mixed run']) {
      if (label === 'second mixed run') writeFileSync(join(dir, 'A_Enseignants.csv'), 'Id;Prénom;Nom;email;téléphone\nT1;Hélène;ROUSSEL;h.roussel@exemple.test;0102030405\n');
      await q(p.plain, 'TRUNCATE aaf_record_cache');
      const [a, b] = [await runImport(p.cached, dir), await runImport(p.plain, dir)];
      assert.deepEqual(shown(a), shown(b), `${label}: the reports differ`);
      assert.deepEqual(await csvPeople(p.cached), await csvPeople(p.plain), `${label}: the CSV people differ`);
    }
  });
});

test('delta: modify and delete requests for people whose addRequest is a hit in the same run', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const [m, d, m2] = [extOf(pupils[7]), extOf(pupils[9]), extOf(pupils[11])];
      const req = (op: string, id: string, body: string) =>
        `<${op}>\n<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>\n<identifier><id>${id}</id></identifier>\n${body}</${op}>\n`;
      const mod = (id: string, name: string) => req('modifyRequest', id, `<modifications>\n<modification name="givenName" operation="replace"><value>${name}</value></modification>\n</modifications>\n`);
      // A modify before the add (same file), a delete, a modify after.
      let t = text.get(eleve)!;
      t = t.replace(pupils[6], `${mod(m, 'Avant')}${pupils[6]}`);
      t = t.replace(pupils[10], `${pupils[10]}\n${req('deleteRequest', d, '')}${mod(m2, 'Après')}`);
      text.set(eleve, t);
    });
    await p.both(dir, 'delta in a complete delivery');
    await p.both(dir, 'same again');
  });
});

test('same key in Eleve and PersRelEleve; a record identical in Eleve twice', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const rel = named(text, 'PersRelEleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const relatives = text.get(rel)!.match(RECORD)!;
      // A relative's record carrying a pupil's key.
      const clash = relatives[20].replaceAll(extOf(relatives[20]), extOf(pupils[30]));
      text.set(rel, text.get(rel)!.replace(relatives[21], `${relatives[21]}\n${clash}`));
      text.set(eleve, text.get(eleve)!.replace(pupils[40], `${pupils[40]}\n${pupils[40]}`));
    });
    await p.both(dir, 'clashes');
    await p.both(dir, 'clashes again');
    await p.both(original, 'back');
  });
});

test('three records under one key (A, another person B, A again) with A cached', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      const b = pupils[50].replace(/(<attr name="givenName"><value>)[^<]*/, '$1Autre-Personne');
      text.set(eleve, text.get(eleve)!.replace(pupils[50], `${pupils[50]}\n${b}\n${pupils[50]}`));
    });
    await p.both(dir, 'A B A');
  });
});

const FIX = new URL('./fixtures/aaf/', import.meta.url).pathname;

test('1D: a record without 1D-only attributes before, then after, the first 1D record of its file', async () => {
  await withPair(null, async (p) => {
    const plain2d =
      '<addRequest>\n<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>\n' +
      '<identifier><id>1D-E9</id></identifier>\n<attributes>\n<attr name="ENTPersonJointure"><value>1D-E9</value></attr>\n' +
      '<attr name="ENTPersonDateNaissance"><value>04/05/2015</value></attr>\n<attr name="sn"><value>Zidane</value></attr>\n<attr name="givenName"><value>Inès</value></attr>\n' +
      '<attr name="ENTEleveAutoriteParentale"><value>1D-R3</value></attr>\n<attr name="ENTElevePersRelEleve"><value>1D-R3$10$1$1$0$0</value></attr>\n' +
      '<attr name="ENTPersonStructRattach"><value>81001</value></attr>\n<attr name="ENTEleveClasses"><value>81001$ELEM$CM1$81001-C1$CM1 A</value></attr>\n</attributes>\n</addRequest>\n';
    const at = (where: 'first' | 'last') =>
      delivery((text) => {
        const eleve = named(text, 'Eleve');
        const t = text.get(eleve)!;
        text.set(eleve, where === 'first' ? t.replace('<addRequest>', `${plain2d}<addRequest>`) : t.replace('</ficAlimMENESR>', `${plain2d}</ficAlimMENESR>`));
      }, join(FIX, '1d'));
    const first = at('first');
    const last = at('last');
    await p.both(first, '2D-looking record first');
    await p.both(first, 'again');
    await p.both(last, 'after the 1D record');
    await p.both(last, 'again');
    await p.both(first, 'first again');
    await p.both(join(FIX, '1d'), 'fixture');
  });
});

test('a pupil rejected (born in 2099) whose representatives are cached; partial and dry runs; the 2d and delta fixtures', async () => {
  await withPair(original, async (p) => {
    const dir = delivery((text) => {
      const eleve = named(text, 'Eleve');
      const pupils = text.get(eleve)!.match(RECORD)!;
      text.set(eleve, text.get(eleve)!.replace(pupils[20], pupils[20].replace(/(<attr name="ENTPersonDateNaissance"><value>)[^<]*/, '$101/01/2099')));
    });
    await p.both(dir, 'rejected pupil');
    await p.both(dir, 'rejected pupil again');
    await p.both(dir, 'partial', { partial: true });
    await p.both(original, 'dry run', { dryRun: true });
    await p.both(dir, 'after the dry run');
    await p.both(join(FIX, '2d'), '2d');
    await p.both(join(FIX, '2d'), '2d again');
    await p.both(join(FIX, 'delta'), 'delta', { partial: true });
    await p.both(join(FIX, '2d'), '2d after delta');
  });
});

test('ISO-8859-15 file with character references, entities, attributes and spaces on addRequest, comments between records', async () => {
  await withPair(original, async (p) => {
    const iconv = (await import('iconv-lite')).default;
    const dir = delivery(() => {});
    const eleve = files(dir).find((f) => f.includes('_Eleve_'))!;
    let t = readFileSync(join(dir, eleve), 'utf8').replace('encoding="UTF-8"', 'encoding="ISO-8859-15"');
    const pupils = t.match(RECORD)!;
    t = t.replace(pupils[1], pupils[1].replace('<addRequest>', '<addRequest requestID="x">'));
    t = t.replace(pupils[2], pupils[2].replace('<addRequest>', '<addRequest >'));
    t = t.replace(pupils[3], `<!-- entre deux -->\n${pupils[3]}`);
    t = t.replace(pupils[4], pupils[4].replace(/(<attr name="givenName"><value>)[^<]*/, '$1L&#233;a &amp; Zo&#xE9;'));
    t = [...t].map((c) => (c.charCodeAt(0) > 0xff || '€ŠšŽžŒœŸ'.includes(c) ? `&#x${c.codePointAt(0)!.toString(16)};` : c)).join('');
    writeFileSync(join(dir, eleve), iconv.encode(t, 'iso-8859-15'));
    await p.both(dir, 'ISO-8859-15');
    await p.both(dir, 'ISO-8859-15 again');
    await p.both(original, 'back to UTF-8');
  });
});

test('records cut by the 1 MiB pieces (a feed of 4 collèges), one changed at a piece boundary', async () => {
  await withPair(null, async (p) => {
    const big = join(root, 'big');
    generateAafFeed(big, 3500, 7);
    const eleve = files(big).find((f) => f.includes('_Eleve_'))!;
    const t = readFileSync(join(big, eleve), 'utf8');
    assert.ok(Buffer.byteLength(t) > 1 << 20);
    await p.both(big, 'big first');
    await p.both(big, 'big again');
    const dir = delivery((text) => {
      const s = text.get(eleve)!;
      // The record over the first piece's end (bytes ≈ characters here, give or take the accents).
      const cut = s.lastIndexOf('<addRequest>', 1 << 20);
      const rec = s.slice(cut, s.indexOf('</addRequest>', cut) + 13);
      text.set(eleve, s.replace(rec, rec.replace(/(<attr name="givenName"><value>)[^<]*/, '$1Coupée')));
    }, big);
    await p.both(dir, 'big changed');
  });
});

test('erasure while an import holds the lock: the erased person stays in the cache until a later lifecycle run', async () => {
  const { eraseAccounts, runLifecycle } = await import('../src/accounts/lifecycle.js');
  const { IMPORT_LOCK } = await import('../src/import/aaf-cache.js');
  const ctx = await testContext();
  try {
    await runImport(ctx, original);
    const [gone] = await q<{ id: string; external_id: string }>(ctx, `SELECT id, external_id FROM users WHERE profile = 'Student' ORDER BY external_id LIMIT 1`);
    const importing = await ctx.database.pool.connect();
    const eraser = await ctx.database.pool.connect();
    try {
      await importing.query('BEGIN');
      await importing.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
      await eraser.query('BEGIN');
      assert.equal(await eraseAccounts(eraser, [gone.id]), 1);
      await eraser.query('COMMIT');
      await importing.query('COMMIT');
    } finally {
      importing.release();
      eraser.release();
    }
    assert.deepEqual(await q(ctx, 'SELECT id FROM users WHERE id = $1', [gone.id]), []);
    // Documented (pruneAafCache): the erasure drops nothing while an import runs; the person's data stays until the next
    // lifecycle run that finds no import running (daily).
    assert.equal((await q(ctx, 'SELECT ext FROM aaf_record_cache WHERE ext = $1', [gone.external_id])).length, 1);
    await runLifecycle(ctx.database.pool);
    assert.equal((await q(ctx, 'SELECT ext FROM aaf_record_cache WHERE ext = $1', [gone.external_id])).length, 0);
  } finally {
    await ctx.close();
  }
});

test('accounts changed between two runs of the same feed: the rows the cache fill resolves are refused as when read (another kind of person), absent ones come back, a changed digest is written', async () => {
  await withPair(original, async (p) => {
    const text = new Map(files(original).map((f) => [f, readFileSync(join(original, f), 'utf8')]));
    const pupils = text.get(named(text, 'Eleve'))!.match(RECORD)!;
    const staff = text.get(named(text, 'PersEducNat'))!.match(RECORD)!;
    const [crossed, edited, gone] = [extOf(pupils[2]), extOf(staff[1]), extOf(pupils[7])];
    for (const ctx of [p.cached, p.plain]) {
      // A pupil's account is now a parent's (a merge by hand), a teacher's import digest is another, a pupil is pre-deleted.
      await q(ctx, `UPDATE users SET profile = 'Relative' WHERE external_id = $1`, [crossed]);
      await q(ctx, `UPDATE users SET import_hash = 'autre' WHERE external_id = $1`, [edited]);
      // (its digest put back: only its absence tells the run to write it)
      const [{ h }] = await q<{ h: string }>(ctx, 'SELECT import_hash AS h FROM users WHERE external_id = $1', [gone]);
      await q(ctx, `UPDATE users SET pre_deleted_at = now(), absent_since = now() WHERE external_id = $1`, [gone]);
      await q(ctx, `UPDATE users SET import_hash = $2 WHERE external_id = $1`, [gone, h]);
    }
    const hits = Number((await q<{ n: string }>(p.cached, 'SELECT count(*) AS n FROM aaf_record_cache'))[0].n);
    assert.ok(hits > 900);
    const report = await p.both(original, 'accounts changed between runs');
    assert.deepEqual(report.rejected.map((r) => r.message?.code), ['applyProfileConflict'], JSON.stringify(report.rejected));
    assert.notEqual((await q<{ h: string }>(p.cached, 'SELECT import_hash AS h FROM users WHERE external_id = $1', [edited]))[0].h, 'autre');
    const rows = await q<{ external_id: string; profile: string; pre_deleted: boolean }>(
      p.cached,
      'SELECT external_id, profile, pre_deleted_at IS NOT NULL AS pre_deleted FROM users WHERE external_id = ANY($1) ORDER BY external_id',
      [[crossed, gone]],
    );
    assert.deepEqual(
      rows.map((r) => [r.external_id, r.profile, r.pre_deleted]).sort(),
      [[crossed, 'Relative', false], [gone, 'Student', false]].sort(),
    );
  });
});

/**
 * Runs `write` on another connection, committed, right after the import's cache fill statement (the next connection
 * `ctx`'s pool hands out is the import's): a change made by another transaction while the import runs.
 */
function afterFill(ctx: Ctx, write: () => Promise<void>) {
  const pool = ctx.database.pool as unknown as { connect: (...a: unknown[]) => Promise<pg.PoolClient> };
  const connect = pool.connect;
  pool.connect = async function (this: unknown, ...a: unknown[]) {
    pool.connect = connect;
    const c = await connect.apply(this, a);
    const query = c.query.bind(c) as (...x: unknown[]) => Promise<unknown>;
    let fired = false;
    (c as unknown as { query: unknown }).query = (...x: unknown[]) => {
      const r = query(...x);
      const sql = typeof x[0] === 'string' ? x[0] : '';
      if (!fired && /s\.hit AND c\.digest = s\.raw/.test(sql) && /INSERT INTO import_stage_next/.test(sql)) {
        fired = true;
        return r.then(async (v) => {
          await write();
          return v;
        });
      }
      return r;
    };
    return c;
  } as typeof pool.connect;
}

const importAll = (ctx: Ctx) => importFiles(ctx, collectInputs([original]), { scope: { kind: 'all' }, dryRun: false, chunkSize: 97 });

test('another transaction changes accounts while the feed is imported again, after the cache fill: an erased account is created again, a pupil made a parent is refused', async () => {
  await withPair(original, async (p) => {
    const text = new Map(files(original).map((f) => [f, readFileSync(join(original, f), 'utf8')]));
    const gone = extOf(text.get(named(text, 'PersEducNat'))!.match(RECORD)![3]);
    const crossed = extOf(text.get(named(text, 'Eleve'))!.match(RECORD)![2]);
    const [{ id }] = await q<{ id: string }>(p.cached, 'SELECT id FROM users WHERE external_id = $1', [gone]);
    afterFill(p.cached, async () => {
      const c = await p.cached.database.pool.connect();
      try {
        await c.query('BEGIN');
        assert.equal(await eraseAccounts(c, [id]), 1);
        await c.query(`UPDATE users SET profile = 'Relative' WHERE external_id = $1`, [crossed]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    });
    const report = await importAll(p.cached);
    assert.equal(report.fatal, null);
    assert.equal(report.created, 1);
    assert.equal((await q(p.cached, 'SELECT 1 FROM users WHERE external_id = $1', [gone])).length, 1);
    assert.deepEqual(report.rejected.map((r) => r.message?.code), ['applyProfileConflict']);
  });
});
