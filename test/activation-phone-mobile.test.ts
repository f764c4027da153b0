// Two small follow-ups of the day's import change (« Téléphone portable » fills users.mobile): a parent who gave only a
// mobile finds it offered on the activation form, as before; and the reminder filter reads « plus d’un jour ».
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findCodeHolder } from '../src/accounts/activation.js';
import { regenerateActivationCode } from '../src/accounts/renewal.js';
import { fileContext } from './helpers/db.js';
import { insertStructure, insertUser } from './helpers/directory-sample.js';

const ctx = await fileContext();

test('the activation form offers the mobile when the account has no other phone, the phone when it has one', async () => {
  const pool = ctx.database.pool;
  const school = await insertStructure(pool, 'École des Portables', '0440096U');
  const onlyMobile = await insertUser(pool, { firstName: 'Sylvie', lastName: 'PERRIN', profile: 'Relative', structureIds: [school] });
  const both = await insertUser(pool, { firstName: 'Hugo', lastName: 'PERRIN', profile: 'Relative', structureIds: [school], phone: '02 33 00 00 02' });
  await pool.query(`UPDATE users SET mobile = '06 12 34 56 78' WHERE id = ANY($1::uuid[])`, [[onlyMobile, both]]);
  const admin = await insertUser(pool, { firstName: 'Dir', lastName: 'ECOLE', profile: 'Personnel', structureIds: [school], superAdmin: true });
  const phoneOf = async (id: string) => {
    const code = await regenerateActivationCode(ctx, { kind: 'all' }, id, admin);
    const login = (await pool.query('SELECT login FROM users WHERE id = $1', [id])).rows[0].login as string;
    return (await findCodeHolder(ctx, 'activation', login, code))?.phone;
  };
  assert.equal(await phoneOf(onlyMobile), '06 12 34 56 78');
  assert.equal(await phoneOf(both), '02 33 00 00 02');
});
