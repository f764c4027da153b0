// Run a function inside one transaction on a pooled client.
import type pg from 'pg';

/** `begin` opens it: 'BEGIN', or that with its settings in the same round trip ('BEGIN READ ONLY; SET LOCAL …'). */
export async function withTransaction<T>(pool: Pick<pg.Pool, 'connect'>, fn: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
