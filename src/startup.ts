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
  const publicUrl = publicUrlWarning(config);
  if (publicUrl) out.push({ level: 'warn', text: publicUrl });
  return out;
}

/**
 * Without TROUSSEAU_PUBLIC_URL, what sheets and QR codes would print (localhost and this process's port, which a
 * command run beside a server on another port does not even share), said by the start log and by the commands that
 * print sheets; null when it is set.
 */
export function publicUrlWarning(config: Config): string | null {
  return config.publicUrlSet
    ? null
    : `TROUSSEAU_PUBLIC_URL absent : les fiches et les QR codes imprimeront ${config.publicUrl}, injoignable pour les familles. Indiquez l’adresse publique de l’ENT.`;
}
