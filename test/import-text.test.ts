// Import messages in the request's language (src/web/import-text.ts): every format label and every message code
// has an English rendering, and the French one is the command line's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROFILE_LABEL } from '../src/import/csv.js';
import { FORMAT_LABELS_FR } from '../src/import/index.js';
import { IMPORT_MESSAGES_FR, importText, type ImportCode } from '../src/import/messages.js';
import { formatRejection, rejectionLine } from '../src/import/report.js';
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

test('a refused row reads as a sentence, « fichier, ligne N, champ : raison », not « fichier:N:champ — raison »', () => {
  const r = rejection('eleves-6F.csv', 2, 'Date de naissance', 'rowInvalidDate', { value: '31/02/2014' });
  assert.match(rejectionText('fr', r), /^eleves-6F\.csv, ligne 2, Date de naissance : date invalide « 31\/02\/2014 »/);
  assert.match(rejectionText('en', r), /^eleves-6F\.csv, line 2, Date de naissance: invalid date “31\/02\/2014”/);
  assert.equal(formatRejection(r), rejectionText('fr', r), 'the command line and the console say it alike');
  // No field (a line of a file), no line (a whole file).
  assert.equal(rejectionLine({ file: 'CSV_Parents.csv', line: 4, field: '' }, 'CSV mal formé', 'fr'), 'CSV_Parents.csv, ligne 4 : CSV mal formé');
  assert.equal(rejectionLine({ file: 'photo.jpg', line: 0, field: '' }, 'fichier refusé', 'fr'), 'photo.jpg : fichier refusé');
  assert.equal(rejectionLine({ file: 'photo.jpg', line: 0, field: '' }, 'file refused', 'en'), 'photo.jpg: file refused');
});
