// The import key shown beside a user's origin (console user page): the feed's identifier or a file's « Identifiant »
// column, never the key Trousseau builds from the names (a newcomer saw « csv:a0cbd0b8-…:Teacher:roussel:beatrice: »).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shownExternalId } from '../src/web/console/views/users.js';

const school = 'a0cbd0b8-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

test('feed identifiers are shown, a file’s id column too, the name-built keys never', () => {
  assert.equal(shownExternalId('1234567'), '1234567');
  assert.equal(shownExternalId(`csv:${school}:id:E-0042`), 'E-0042');
  assert.equal(shownExternalId(`be1d:${school}:id:0123456789A`), '0123456789A');
  assert.equal(shownExternalId(`csv:${school}:Teacher:roussel:beatrice:`), null);
  assert.equal(shownExternalId(`be1d:${school}:Student:martin:lea:2015-04-05`), null);
  assert.equal(shownExternalId(null), null);
});
