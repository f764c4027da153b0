// Import messages in the request's language (src/web/import-text.ts): every format label and every message code
// has an English rendering, and the French one is the command line's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROFILE_LABEL } from '../src/import/csv.js';
import { FORMAT_LABELS_FR } from '../src/import/index.js';
import { IMPORT_MESSAGES_FR, importText, type ImportCode } from '../src/import/messages.js';
import { rejection } from '../src/import/types.js';
import { IMPORT_FORMAT_EN } from '../src/web/i18n/import-errors.js';
import { formatText, importMessageText, rejectionText } from '../src/web/import-text.js';

test('every format label of the report has an English one; CSV labels are translated word by word', () => {
  for (const label of [...FORMAT_LABELS_FR, ...Object.values(PROFILE_LABEL)]) assert.ok(IMPORT_FORMAT_EN[label], label);
  assert.equal(formatText('en', 'AAF élèves'), 'AAF pupils');
  assert.equal(formatText('en', 'ignoré'), 'ignored');
  assert.equal(formatText('en', 'CSV élèves, parents'), 'CSV pupils, parents');
  assert.equal(formatText('en', 'ONDE/BE1D invités'), 'ONDE/BE1D guests');
  assert.equal(formatText('fr', 'CSV élèves, parents'), 'CSV élèves, parents');
});

test('rejected and ignored records: French as the command line prints it, English from the catalogue', () => {
  const r = rejection('ENT_Eleve.xml', 12, 'ENTPersonJointure', 'ignoredAafNotLegal', { who: 'Loriot Marc', id: 'R901' });
  assert.equal(r.reason, 'Loriot Marc (R901) : aucun élève ne le désigne comme représentant légal, pas de compte');
  assert.equal(rejectionText('fr', r), `ENT_Eleve.xml, ligne 12, ENTPersonJointure : ${r.reason}`);
  assert.equal(rejectionText('en', r), 'ENT_Eleve.xml, line 12, ENTPersonJointure: Loriot Marc (R901): no pupil names them as legal representative, no account');
  assert.equal(importText('applyNoPupilId', { id: 'STU-404' }), "aucun élève d'identifiant « STU-404 » dans cet établissement : lien non créé");
  // No English entry left in French: each differs from its French wording, or holds no French word.
  for (const code of Object.keys(IMPORT_MESSAGES_FR) as ImportCode[]) {
    const en = importMessageText('en', { code });
    assert.doesNotMatch(en, /\b(aucun|manquant|invalide|inconnue?|absente|élèves?|compte|fichier|ligne)\b/, code);
  }
});
