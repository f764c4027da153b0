// The mail a family receives with its credentials, as Chromium renders its HTML part (the way a webmail shows it):
// the login and the code, which the family copies by hand, are shown in a monospace face where l, 1, i, o and 0
// cannot be taken for one another — as on the printed sheet (pdf.ts: DejaVu Sans Mono).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { textToHtml } from '../src/mail/compose.js';
import { defaultTemplate, type MergeFields } from '../src/publipostage/templates.js';
import { launchBrowser } from './helpers/browser.js';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(() => browser?.close());

const FIELDS: MergeFields = {
  prenom: 'Léa',
  nom: 'Lallemand',
  classe: '6A',
  // A login whose l, 1 and o, 0 a proportional face makes ambiguous.
  login: 'lea.lallemand10',
  code: 'MXTT-GF5E-A1',
  enfants: 'Noé Lallemand (6A)',
  etablissement: 'Collège Simone Veil',
  de_etablissement: 'du Collège Simone Veil',
  url: 'https://ent.example.fr',
  date_expiration: '01/03/2027',
  lien_activation: 'https://ent.example.fr/activation?login=lea.lallemand10&code=MXTTGF5EA1',
};

test('the credentials mail shows the login and the code in a monospace face, the link still whole', async () => {
  const context = await browser.newContext({ locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    for (const profile of ['Relative', 'Student'] as const) {
      for (const kind of ['mail_inactive', 'mail_active'] as const) {
        const t = defaultTemplate(profile, kind);
        await page.setContent(textToHtml(t.body, FIELDS, t.subject ?? ''));
        const shown = (await page.evaluate(`(() => {
          const faces = {};
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            for (const value of ${JSON.stringify([FIELDS.login, FIELDS.code])}) {
              if (n.textContent.trim() === value && !n.parentElement.closest('a')) faces[value] = getComputedStyle(n.parentElement).fontFamily;
            }
          }
          return faces;
        })()`)) as Record<string, string>;
        assert.ok(shown[FIELDS.login], `${profile} ${kind}: the login is shown on its own`);
        assert.match(shown[FIELDS.login], /mono/i, `${profile} ${kind}: the login is in a monospace face, not « ${shown[FIELDS.login]} »`);
        if (kind === 'mail_inactive') assert.match(shown[FIELDS.code] ?? '', /mono/i, `${profile} ${kind}: the code is in a monospace face`);
        if (kind === 'mail_inactive') {
          const href = await page.getAttribute('a[href*="/activation?"]', 'href');
          assert.equal(href, FIELDS.lien_activation, `${profile} ${kind}: the activation link is whole`);
        }
      }
    }
  } finally {
    await context.close();
  }
});
