import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldKey, foldName } from '../src/directory/fold.js';
import { BatchLoginAllocator, baseLogin, type LoginRequest } from '../src/directory/login.js';

/** The oracle: unique logins handed out against the set of every taken login (what imports did before batches). */
class LoginAllocator {
  private readonly next = new Map<string, number>();
  constructor(private readonly taken: Set<string>) {}

  allocate(firstName: string, lastName: string): string {
    const base = baseLogin(firstName, lastName);
    if (!this.taken.has(base)) {
      this.taken.add(base);
      return base;
    }
    let n = this.next.get(base) ?? 2;
    while (this.taken.has(`${base}${n}`)) n++;
    this.next.set(base, n + 1);
    this.taken.add(`${base}${n}`);
    return `${base}${n}`;
  }
}

test('login folding table', () => {
  const table: [string, string, string][] = [
    ['Kù', 'Long', 'ku.long'],
    ['Åslög', 'Frazier', 'aslog.frazier'],
    ['Léonore', 'Ray', 'leonore.ray'],
    ['Jean-Paul', 'FONTAINE', 'jean-paul.fontaine'],
    ['Anne Marie', "D'Arc", 'anne-marie.darc'],
    ['Zoé', 'DUPONT-DUPUIS', 'zoe.dupont-dupuis'],
    ['Øystein', 'Ærøskøbing', 'oystein.aeroskobing'],
    ['Chloé', 'Œuvray', 'chloe.oeuvray'],
    ['Ştefan', 'Müller', 'stefan.muller'],
    ['=CMD()', 'Nom', 'cmd.nom'],
    // compatibility forms and ligatures
    ['ﬁona', 'Ĳzerman', 'fiona.ijzerman'],
    ['Lise', 'BŒUF', 'lise.boeuf'],
    ['Æthel', 'Straße', 'aethel.strasse'],
    ['Ｚｏé', 'ＬＯＮＧ', 'zoe.long'],
    // other scripts are transliterated, not dropped
    ['Иван', 'Петров', 'ivan.petrov'],
    ['Σωκράτης', 'Παππάς', 'sokratis.pappas'],
    ['芳', '王', 'fang.wang'],
    ['🦄', '😀', 'utilisateur.inconnu'],
  ];
  for (const [f, l, want] of table) assert.equal(baseLogin(f, l), want, `${f} ${l}`);
  assert.equal(foldName('  É  '), 'e');
});

test('every Unicode dash is "-" in logins and keys', () => {
  for (const dash of ['\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '-']) {
    assert.equal(baseLogin(`Jean${dash}Paul`, `Roux${dash}Combaluzier`), 'jean-paul.roux-combaluzier', `U+${dash.charCodeAt(0).toString(16)}`);
    assert.equal(foldName(`JEAN ${dash} PAUL`), 'jean-paul');
  }
});

test('each login part is capped at 30 characters, without a trailing dash', () => {
  const login = baseLogin('Marie-Charlotte-Hortense-Eugénie', 'De La Tour d’Auvergne-Lauraguais-Montmorency');
  const [first, last] = login.split('.');
  assert.ok(first.length <= 30 && last.length <= 30, login);
  assert.equal(first, 'marie-charlotte-hortense-eugen');
  assert.equal(last, 'de-la-tour-dauvergne-lauraguai');
  assert.equal(baseLogin('Anne-Marie-Louise-Catherine-X', 'Y'), 'anne-marie-louise-catherine-x.y');
  assert.equal(baseLogin('Abcdefghijklmnopqrstuvwxyzabc-Z', 'Y'), 'abcdefghijklmnopqrstuvwxyzabc.y');
  assert.equal(foldKey('Jean–Paul'), 'jeanpaul');
});

test('collisions are suffixed 2, 3… across all logins', () => {
  const a = new LoginAllocator(new Set(['lea.colin', 'lea.colin3']));
  assert.equal(a.allocate('Léa', 'Colin'), 'lea.colin2');
  assert.equal(a.allocate('Lea', 'COLIN'), 'lea.colin4');
  assert.equal(a.allocate('Théo', 'Colin'), 'theo.colin');
  assert.equal(a.allocate('Theo', 'Colin'), 'theo.colin2');
});

for (const lag of [0, 1]) test(`logins by batches${lag ? ', each written once the next one has its logins,' : ''} asking the directory only about candidates, are those of one allocator over every login`, async () => {
  // Last names ending in digits (test accounts "Élève1"…): their base is another base's suffixed login.
  const names = ['Léa', 'Lea', 'Théo', 'Zoé'].flatMap((f) => ['Colin', 'COLIN', 'Roux', 'Colin2', 'Colin1'].map((l) => [f, l]));
  const directory = new Set(['lea.colin', 'lea.colin3', 'lea.colin4', 'lea.colin9', 'theo.roux', 'zoe.colin2', 'lea.colin12', 'lea.colin13']);
  const reference = new LoginAllocator(new Set(directory));
  const asked: number[] = [];
  const batches = new BatchLoginAllocator(async (logins) => {
    asked.push(logins.length);
    return logins.filter((x) => directory.has(x));
  });
  // A pseudo-random sequence of people, with a wanted login now and then (taken or free), in batches of 1 to 7.
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const people: LoginRequest[] = Array.from({ length: 120 }, (_, i) => {
    const [firstName, lastName] = names[rnd(names.length)];
    return i % 17 === 5 ? { firstName, lastName, login: i % 2 ? 'lea.colin5' : `admin${i}` } : i % 23 === 4 ? { firstName, lastName, login: 'theo.colin' } : { firstName, lastName };
  });
  const want: string[] = [];
  const taken = new Set(directory);
  for (const p of people) {
    const login = p.login && !taken.has(p.login) ? p.login : reference.allocate(p.firstName, p.lastName);
    taken.add(login);
    want.push(login);
  }
  const got: string[] = [];
  let unwritten: string[] = [];
  for (let i = 0; i < people.length; ) {
    const batch = people.slice(i, i + 1 + rnd(7));
    const logins = await batches.allocate(batch);
    // The batch is written before the next one is allocated, or (lag) just after.
    for (const l of lag ? unwritten : logins) directory.add(l);
    unwritten = logins;
    got.push(...logins);
    i += batch.length;
  }
  assert.deepEqual(got, want);
  assert.equal(new Set(got).size, got.length);
  assert.ok(Math.max(...asked) < 200, 'candidates only, never the directory');
});

test('a batch never hands out a login the directory has, when its window of suffixes is used up by the batch itself', async () => {
  const check = async (directory: Set<string>, people: LoginRequest[], want: string[]) => {
    const got = await new BatchLoginAllocator(async (logins) => logins.filter((x) => directory.has(x))).allocate(people);
    assert.deepEqual(got, want);
  };
  // `x.a2` is X A2's base and X A's first suffix; x.a3 … x.a10 are taken: the window of 8 is used up.
  const taken = new Set(['x.a', ...Array.from({ length: 8 }, (_, i) => `x.a${i + 3}`)]);
  await check(taken, [{ firstName: 'X', lastName: 'A2' }, { firstName: 'X', lastName: 'A' }], ['x.a2', 'x.a11']);
  // A wanted login equal to another person's base: the base alone in the batch gets its suffix asked about.
  await check(new Set(['lea.colin2']), [{ firstName: 'A', lastName: 'B', login: 'lea.colin' }, { firstName: 'Léa', lastName: 'Colin' }], ['lea.colin', 'lea.colin3']);
});
