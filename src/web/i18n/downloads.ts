// Downloads that issue codes are POSTs (src/web/post-download.ts): the page a GET on their URL shows instead.
import type { Catalogue } from './types.js';

const fr = {
  'download.confirm.title': 'Télécharger le fichier',
  'download.confirm.lead':
    'Ce fichier donne un code d’activation neuf aux comptes qui n’en ont plus de valable, et sa remise est enregistrée au journal. Confirmez le téléchargement avec le bouton ci-dessous.',
  'download.confirm.button': 'Télécharger',
  'download.confirm.back': 'Retour',
  'download.postOnly': 'Ce téléchargement se demande par POST (avec l’en-tête x-csrf-token de la session).',
};

const en: Record<keyof typeof fr, string> = {
  'download.confirm.title': 'Download the file',
  'download.confirm.lead': 'This file gives a new activation code to the accounts without a valid one, and handing it out is recorded in the log. Confirm the download with the button below.',
  'download.confirm.button': 'Download',
  'download.confirm.back': 'Back',
  'download.postOnly': 'This download is requested with POST (with the session’s x-csrf-token header).',
};

export const downloadsCatalogue = { fr, en } satisfies Catalogue;
