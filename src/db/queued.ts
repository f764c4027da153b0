// Statements sent on one connection without waiting for each. PostgreSQL runs a connection's statements in the
// order they were sent, so a statement sent later sees the earlier ones' writes, while the caller goes on computing:
// an import plans its next chunk while PostgreSQL stores the previous one (issue #11).
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';

type Client = Pick<pg.PoolClient, 'query'>;

/**
 * `client` with its statements sent one after another, in call order, whether or not the caller awaited the
 * previous ones (node-postgres deprecates calling query() while one runs: this is the flow control it asks for).
 * Takes `query(text, values)` and `query(copyStream)` (pg-copy-streams: returned at once, sent in turn; rows written
 * to it meanwhile wait in its buffer). A statement that fails does not stop the next ones: PostgreSQL answers them
 * within the aborted transaction.
 */
export function sequenced(client: Client): Client {
  let tail: Promise<unknown> = Promise.resolve();
  const query = (first: unknown, values?: unknown): unknown => {
    if (typeof first === 'object' && first !== null && 'submit' in first) {
      const stream = first as unknown as Writable;
      // Ends once the server has answered (finished), failing or not. A stream destroyed before its turn is sent all
      // the same: pg-copy-streams ends it with CopyFail once the server answers (it would otherwise never finish).
      tail = tail.then(() => {
        client.query(first as pg.Submittable);
        return finished(stream).catch(() => {});
      });
      return stream;
    }
    const sent = tail.then(() => client.query(first as string, values as unknown[]));
    tail = sent.catch(() => {});
    return sent;
  };
  return { query } as Client;
}

/**
 * The writes of a sequenced connection that the caller does not wait for: held (`hold`, not sent yet: the caller may
 * first send statements that must not see them), then sent in the order they were held (`send`). `settle` waits for
 * the sent ones and throws the first failure: a failed write aborts the transaction, so any later statement's error
 * ("current transaction is aborted") is its consequence — `cause` gives the write's error in its place.
 */
export class QueuedWrites {
  private held: (() => Promise<unknown>)[] = [];
  /** Writes sent and not settled yet, and who waits for none to be left. */
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private failure: { error: unknown } | undefined;

  /** Keeps `write` (a function sending statements) to send with the others, in order, at the next `send`. */
  hold(write: () => Promise<unknown>): void {
    this.held.push(write);
  }

  /** Sends the held writes, in the order they were held. */
  send(): void {
    const held = this.held;
    this.held = [];
    for (const write of held) {
      this.inFlight++;
      write()
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
        });
    }
  }

  private async drained(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((wake) => this.idle.push(wake));
  }

  /** Sends what is held, waits for every write sent; throws the first one's error if any failed. */
  async settle(): Promise<void> {
    this.send();
    await this.drained();
    if (this.failure) throw this.failure.error;
  }

  /** The error to report for `e`, thrown while writes were in flight: the first failed write's, else `e`. Drops what is held. */
  async cause(e: unknown): Promise<unknown> {
    this.held = [];
    await this.drained();
    return this.failure ? this.failure.error : e;
  }
}
