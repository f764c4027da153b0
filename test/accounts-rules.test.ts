// Pure rules of the account flows: contact details, password policy, redirect targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeEmail, normalizePhone } from '../src/accounts/contact.js';
import { checkPasswordPolicy } from '../src/accounts/passwords.js';
import { safeNext } from '../src/web/next.js';

test('emails are trimmed and lowered, implausible ones refused', () => {
  assert.equal(normalizeEmail('  Jean.Dupont@AC-Paris.FR '), 'jean.dupont@ac-paris.fr');
  for (const bad of ['jean', 'jean@', '@ac-paris.fr', 'jean@localhost', 'a b@c.fr', 'jean@-x.fr', '<x>@y.fr']) {
    assert.equal(normalizeEmail(bad), null, bad);
  }
});

test('French phone numbers in any usual spelling', () => {
  for (const p of ['0612345678', '06 12 34 56 78', '06.12.34.56.78', '06-12-34-56-78', '+33 6 12 34 56 78', '+33 (0)6 12 34 56 78', '0033612345678']) {
    assert.equal(normalizePhone(p), '06 12 34 56 78', p);
  }
  assert.equal(normalizePhone(''), '');
  assert.equal(normalizePhone('+44 20 7946 0958'), '+442079460958');
  for (const bad of ['12', '06 12 34', '=CMD()', '0012', '+33 6 12']) assert.equal(normalizePhone(bad), null, bad);
});

test('password policy: length, login, confirmation', () => {
  assert.deepEqual(checkPasswordPolicy('une phrase assez longue', 'une phrase assez longue', 'lea.petit'), {});
  assert.deepEqual(checkPasswordPolicy('court', 'court', 'x'), { password: 'password.tooShort' });
  assert.deepEqual(checkPasswordPolicy('AAALEA.PETITBBB', 'AAALEA.PETITBBB', 'lea.petit'), { password: 'password.containsLogin' });
  assert.deepEqual(checkPasswordPolicy('une phrase assez longue', 'autre chose', 'x'), { confirm: 'password.mismatch' });
  assert.deepEqual(checkPasswordPolicy('x'.repeat(300), 'x'.repeat(300), 'y'), { password: 'password.tooLong' });
});

test('only same-site paths are redirect targets', () => {
  assert.equal(safeNext('/console?a=1'), '/console?a=1');
  for (const bad of [undefined, '', 'https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/a\nb', ' /x']) {
    assert.equal(safeNext(bad), '/', String(bad));
  }
});
