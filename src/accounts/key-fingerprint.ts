// One key per database: codes sealed by an instance must open on every other one sharing the database. The
// first instance to start records its key's fingerprint; any instance with another key refuses to start
// (otherwise it would refuse every printed code and re-issue codes on export, killing printed sheets).
import type { Queryable } from '../db/index.js';
import type { Secrets } from './secrets.js';

export class KeyMismatchError extends Error {
  constructor() {
    super(
      'TROUSSEAU_SECRET ne correspond pas à la clé de cette base : les codes déjà émis y sont chiffrés avec une autre clé. ' +
        'Donnez à toutes les instances la même valeur de TROUSSEAU_SECRET (celle du premier démarrage, ou le contenu de ' +
        'data/secret.key de l’instance qui a créé la base). Démarrage refusé.',
    );
    this.name = 'KeyMismatchError';
  }
}

/** Records the key's fingerprint on first start; throws KeyMismatchError when the database knows another one. */
export async function checkKeyFingerprint(db: Queryable, secrets: Pick<Secrets, 'fingerprint'>): Promise<void> {
  await db.query(
    `INSERT INTO instance_settings (name, value) VALUES ('key_fingerprint', $1) ON CONFLICT (name) DO NOTHING`,
    [secrets.fingerprint],
  );
  const { rows } = await db.query(`SELECT value FROM instance_settings WHERE name = 'key_fingerprint'`);
  if (rows[0]?.value !== secrets.fingerprint) throw new KeyMismatchError();
}
