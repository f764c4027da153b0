// What a download that issues codes changes: audit rows, hand-out records and the stored codes. Two equal
// snapshots mean a request changed none of them (a GET, a forged POST).
import type pg from 'pg';

export async function sideEffects(pool: pg.Pool): Promise<string> {
  const r = await pool.query(
    `SELECT (SELECT count(*) FROM audit) AS audit, (SELECT count(*) FROM distribution_events) AS events,
            (SELECT md5(coalesce(string_agg(id::text || coalesce(activation_code_mac, '-'), ',' ORDER BY id), '')) FROM users) AS codes`,
  );
  return JSON.stringify(r.rows[0]);
}
