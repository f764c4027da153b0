// The English pages said « Email address » on the field and « your e-mail address » in its hint and its error, side by
// side on « My account » (and « e-mail » here and there in the console). One spelling: « email ».
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { account } from '../src/web/i18n/account.js';
import { classe } from '../src/web/i18n/classe.js';
import { common } from '../src/web/i18n/common.js';
import { consoleCatalogue } from '../src/web/i18n/console.js';
import { distributionCatalogue } from '../src/web/i18n/distribution.js';
import { downloadsCatalogue } from '../src/web/i18n/downloads.js';
import { errorsCatalogue } from '../src/web/i18n/errors.js';
import { federationCatalogue } from '../src/web/i18n/federation.js';
import { handoutCatalogue } from '../src/web/i18n/handout.js';
import { importErrorsCatalogue } from '../src/web/i18n/import-errors.js';
import { oidcCatalogue } from '../src/web/i18n/oidc.js';
import { rulesCatalogue } from '../src/web/i18n/rules.js';
import { tokensCatalogue } from '../src/web/i18n/tokens.js';

test('the English catalogue spells « email » one way', () => {
  const catalogues = [account, classe, common, consoleCatalogue, distributionCatalogue, downloadsCatalogue, errorsCatalogue, federationCatalogue, handoutCatalogue, importErrorsCatalogue, oidcCatalogue, rulesCatalogue, tokensCatalogue];
  const hyphenated = catalogues.flatMap((c) => Object.entries(c.en as Record<string, string>)).filter(([, v]) => /e-mail/i.test(v));
  assert.deepEqual(hyphenated, []);
});
