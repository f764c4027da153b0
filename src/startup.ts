// What `npm start` tells the operator once listening: where, how mail leaves, and what looks misconfigured.
import type { Config } from './config.js';

/** SMTP URL without its password (user kept: it says which account sends). */
function redactedSmtp(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(SMTP_URL illisible)';
  }
}

/** The start log's lines, French as the rest of the console output; `warn` lines go to stderr. */
export function startupMessages(config: Config): Array<{ level: 'info' | 'warn'; text: string }> {
  const out: Array<{ level: 'info' | 'warn'; text: string }> = [{ level: 'info', text: `Trousseau écoute sur ${config.publicUrl}` }];
  out.push(config.smtpUrl
    ? { level: 'info', text: `Courriels envoyés par ${redactedSmtp(config.smtpUrl)} (expéditeur : ${config.mailFrom})` }
    : { level: 'warn', text: 'SMTP_URL absent : aucun courriel ne partira (les envois restent en file).' });
  if (!config.publicUrlSet) {
    out.push({
      level: 'warn',
      text: `TROUSSEAU_PUBLIC_URL absent : les fiches et les QR codes imprimeront ${config.publicUrl}, injoignable pour les familles. Indiquez l’adresse publique de l’ENT.`,
    });
  }
  return out;
}
