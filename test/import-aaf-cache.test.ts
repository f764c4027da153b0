// The AAF record cache (src/import/aaf-cache.ts, migration 0026): a feed imported again stages the records it read
// before from the cache instead of reading them. Whatever the deliveries, a run with the cache must give the same
// report and the same directory as a run that reads every record: checked run after run against a second database
// whose cache is emptied before each run, on invented deliveries that change records in the ways real ones do.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateAafFeed } from '../bench/aaf-feed.js';
import { eraseAccounts } from '../src/accounts/lifecycle.js';
import { IMPORT_LOCK, pruneAafCache } from '../src/import/aaf-cache.js';
import { readAaf, type AafRecord, type AafRecordCache } from '../src/import/aaf.js';
import { deliveries, files, named, q, RECORD, runImport, withPair } from './helpers/aaf-cache.js';
import { testContext } from './helpers/db.js';

const root = mkdtempSync(join(tmpdir(), 'trousseau-aaf-cache-'));
const original = join(root, 'original');
const delivery = deliveries(root, original);

before(() => {
  generateAafFeed(original, 900, 5);
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

const kindFile = (dir: string, kind: string) => join(dir, files(dir).find((f) => f.includes(`_${kind}_`))!);

test('deliveries changed as real ones are: the cache gives the same report and directory as reading every record', async () => {
  await withPair(null, async ({ cached, both }) => {
  const first = await both(original, 'first import');
  assert.ok(first.created > 900);
  const entries = Number((await q<{ n: string }>(cached, 'SELECT count(*) AS n FROM aaf_record_cache'))[0].n);
  // Every person record staged (pupils, staff, relatives), none of the structures.
  assert.ok(entries > 900, `${entries} entries`);

  let renamed = '';
  const changed = delivery((text) => {
    const eleve = named(text, 'Eleve');
    const pupils = text.get(eleve)!.match(RECORD)!;
    renamed = /<attr name="ENTPersonJointure"><value>([^<]*)/.exec(pupils[3])![1];
    let t = text.get(eleve)!;
    // A pupil renamed; two records swapped; one record with a comment inside (read in full, never cached).
    t = t.replace(pupils[3], pupils[3].replace(/(<attr name="givenName"><value>)[^<]*/, '$1Anaïs-Corrigée'));
    t = t.replace(pupils[5], '\u0000').replace(pupils[6], pupils[5]).replace('\u0000', pupils[6]);
    t = t.replace(pupils[8], pupils[8].replace('<attributes>', '<attributes><!-- vérifié -->'));
    // A record the cache holds, inside a top-level comment: no record at all.
    t = t.replace('<addRequest>', `<!-- ${pupils[10].replaceAll('--', '- -')} -->\n<addRequest>`);
    text.set(eleve, t);
    // A relative gone; one with an e-mail that is not an address (a warning on every run).
    const rel = named(text, 'PersRelEleve');
    const relatives = text.get(rel)!.match(RECORD)!;
    let r = text.get(rel)!.replace(`${relatives[2]}\n`, '');
    r = r.replace(relatives[4], relatives[4].replace(/<attr name="mail">.*?<\/attr>/, '<attr name="mail"><value>pas-une-adresse</value></attr>'));
    text.set(rel, r);
    // Staff written with CRLF line breaks; one of them listed again in a second file (two records, one person);
    // a record giving a 1D-only attribute (the file is 1D from there on: later records read as such).
    const pers = named(text, 'PersEducNat');
    const staff = text.get(pers)!.match(RECORD)!;
    let p = text.get(pers)!;
    p = p.replace(staff[40], staff[40].replace('<attributes>', '<attributes>\n<attr name="ENTPersonMail"><value>un.autre@ac-exemple.fr</value></attr>'));
    text.set(pers, p.replace(/\n/g, '\r\n'));
    // The second file: one person's record again as it is, another's with one more class (memberships add up).
    const head = p.slice(0, p.indexOf('<addRequest>'));
    const more = staff[2].replace('<attr name="ENTAuxEnsClasses">', '<attr name="ENTAuxEnsClasses"><value>60000$3A</value>');
    text.set(pers.replace('_0001.xml', '_0002.xml'), `${head}${staff[1]}\n${more}\n</ficAlimMENESR>\n`);
  });
  const second = await both(changed, 'changed delivery');
  assert.equal(second.created, 0);
  assert.deepEqual(await q(cached, `SELECT external_id FROM users WHERE first_name = 'Anaïs-Corrigée'`), [{ external_id: renamed }]);
  // Its record as it was will not come again: the cache keeps the new one only.
  const entriesOf = async (ext: string) => (await q<{ rec: string }>(cached, 'SELECT rec FROM aaf_record_cache WHERE ext = $1', [ext])).map((x) => JSON.parse(x.rec).firstName);
  assert.deepEqual(await entriesOf(renamed), ['Anaïs-Corrigée']);
  assert.ok(second.rejected.some((x) => x.message?.code === 'rowInvalidEmail'), 'the e-mail warning is given');
  // The same delivery again: its warning again, nothing else.
  const third = await both(changed, 'changed delivery again');
  assert.deepEqual([third.created, third.updated], [0, 0]);
  assert.ok(third.rejected.some((x) => x.message?.code === 'rowInvalidEmail'), 'the e-mail warning is given again');
  // Back to the original: the records cached at the first run come back.
  await both(original, 'original again');
  // A dry run, then the delta of the fixtures on top.
  await both(changed, 'dry run', { dryRun: true });
  await both(join(new URL('./fixtures/aaf/', import.meta.url).pathname, '2d'), 'another feed');
  });
});

test('a record the cache holds is not read again: its staged row is what the run takes, until its text changes', async () => {
  const cached = await testContext();
  try {
  const dir = delivery(() => {});
  await runImport(cached, dir);
  const pupil = readFileSync(kindFile(dir, 'Eleve'), 'utf8').match(RECORD)![12];
  const ext = /<attr name="ENTPersonJointure"><value>([^<]*)/.exec(pupil)![1];
  const name = (await q<{ first_name: string }>(cached, 'SELECT first_name FROM users WHERE external_id = $1', [ext]))[0].first_name;
  // Only a run that took the row from the cache can give this name: the file does not hold it.
  const tampered = await q(
    cached,
    `UPDATE aaf_record_cache SET rec = replace(rec, '"firstName":' || to_json($2::text), '"firstName":"Pris-Du-Cache"')
     WHERE ext = $1 AND strpos(rec, '"firstName":' || to_json($2::text)) > 0 RETURNING ext`,
    [ext, name],
  );
  assert.equal(tampered.length, 1);
  await runImport(cached, dir);
  assert.equal((await q<{ first_name: string }>(cached, 'SELECT first_name FROM users WHERE external_id = $1', [ext]))[0].first_name, 'Pris-Du-Cache');
  // The record's text changed (a space the reader drops): read again, the file's name is back.
  const file = kindFile(dir, 'Eleve');
  writeFileSync(file, readFileSync(file, 'utf8').replace(pupil, pupil.replace('<attributes>', '<attributes> ')));
  await runImport(cached, dir);
  assert.equal((await q<{ first_name: string }>(cached, 'SELECT first_name FROM users WHERE external_id = $1', [ext]))[0].first_name, name);
  } finally {
    await cached.close();
  }
});

test('what the cache keeps: nothing from a dry run; an erased account takes its entries; entries of nobody are pruned, not during an import', async () => {
  const ctx = await testContext();
  try {
    const dir = join(new URL('./fixtures/aaf/', import.meta.url).pathname, '2d');
    await runImport(ctx, dir, { dryRun: true });
    assert.deepEqual(await q(ctx, 'SELECT ext FROM aaf_record_cache'), []);
    const report = await runImport(ctx, dir);
    const exts = (await q<{ ext: string }>(ctx, 'SELECT ext FROM aaf_record_cache ORDER BY ext')).map((x) => x.ext);
    const people = (await q<{ external_id: string }>(ctx, `SELECT external_id FROM users WHERE source = 'aaf' ORDER BY external_id`)).map((x) => x.external_id);
    // Every person read and staged: the accounts, and the contacts no pupil names (read each time, left without one).
    const contacts = report.ignored.filter((x) => x.message?.code === 'ignoredAafNotLegal').map((x) => String(x.message!.params!.id));
    assert.ok(contacts.length > 0);
    assert.deepEqual(exts, [...people, ...contacts].sort(), JSON.stringify(report.ignored));

    const [gone] = await q<{ id: string; external_id: string }>(ctx, `SELECT id, external_id FROM users WHERE profile = 'Teacher' ORDER BY external_id LIMIT 1`);
    await eraseAccounts(ctx.database.pool, [gone.id]);
    assert.deepEqual(await q(ctx, 'SELECT ext FROM aaf_record_cache WHERE ext = $1', [gone.external_id]), []);

    // An entry of nobody (a run that read a person it did not import): pruned, but not while an import holds the lock.
    await q(ctx, `INSERT INTO aaf_record_cache (digest, ext, source, profile, structures, refs, rec) VALUES ('\\x00', 'personne', 'aaf', 'Student', '{}', '{}', '{}')`);
    const importing = await ctx.database.pool.connect();
    try {
      await importing.query('BEGIN');
      await importing.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK]);
      assert.equal(await pruneAafCache(ctx.database.pool), 0);
      await importing.query('COMMIT');
    } finally {
      importing.release();
    }
    // It, and the contacts, who have no account either (the next import caches them again).
    assert.equal(await pruneAafCache(ctx.database.pool), 1 + contacts.length);
    assert.deepEqual(
      (await q<{ ext: string }>(ctx, 'SELECT ext FROM aaf_record_cache ORDER BY ext')).map((x) => x.ext),
      people.filter((x) => x !== gone.external_id),
    );
  } finally {
    await ctx.close();
  }
});

test('the scanner hands each addRequest whole, in pieces of any size: taken ones are skipped in place, lines and order kept, saxes takes over after them', async () => {
  const feed = readFileSync(kindFile(original, 'Eleve'));
  const odd = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\r\n<ficAlimMENESR>\r\n' +
      '<addRequest>\r\n<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>\r\n<identifier><id>A1</id></identifier>\r\n<attributes><attr name="sn"><value>UN</value></attr></attributes>\r\n</addRequest>\r\n' +
      '<addRequest><!-- lu en entier --><identifier><id>A2</id></identifier><attributes><attr name="sn"><value>DEUX</value></attr></attributes></addRequest>\n' +
      '<addRequest>\n<identifier><id>A3</id></identifier><attributes><attr name="sn"><value>TROIS &amp; CIE</value></attr></attributes>\n</addRequest>\n' +
      '<?traitement après trois?>\n' +
      '<addRequest><identifier><id>A4</id></identifier></addRequest>\n</ficAlimMENESR>\n',
  );
  for (const [label, data] of [['generated feed', feed], ['odd document, saxes after a processing instruction', odd]] as const) {
    const all: AafRecord[] = [];
    await readAaf('ENT_Complet_20260901_Eleve_0000.xml', { data }, (r) => all.push(r));
    for (const chunkSize of [undefined, 1, 7, 64]) {
      // Every other record the cache may keep is taken.
      let n = 0;
      const events: (AafRecord | { taken: number; line: number })[] = [];
      const cache: AafRecordCache = {
        digestOf: (text) => (text.includes('<!--') ? null : createHash('sha256').update(text).digest('hex')),
        hit: (_d, line) => {
          if (n++ % 2) return false;
          events.push({ taken: n, line });
          return true;
        },
      };
      const { reader } = await readAaf('ENT_Complet_20260901_Eleve_0000.xml', { data }, (r) => events.push(r), undefined, { cache, chunkSize });
      const at = `${label}, pieces of ${chunkSize ?? 'default'}`;
      assert.equal(reader, data === odd ? 'saxes' : 'scan', at);
      assert.equal(events.length, all.length, at);
      assert.ok(events.some((e) => 'taken' in e), at);
      events.forEach((e, i) => {
        if ('taken' in e) assert.equal(e.line, all[i].line, at);
        else {
          const { digest, ...rest } = e;
          assert.deepEqual(rest, all[i], at);
          // A record the scanner read carries its digest, unless it may not be kept (A2: a comment in it); saxes
          // (A4, after the processing instruction) gives none.
          assert.equal(!!digest, !['A2', 'A4'].includes(rest.id), `${at}: ${rest.id}`);
        }
      });
    }
  }
});
