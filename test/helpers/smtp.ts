// A real SMTP server on 127.0.0.1 for tests: collects every accepted message, parsed.
// It can refuse recipients with a temporary error, and be stopped and restarted on the same port.
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface TestSmtp {
  /** smtp://127.0.0.1:port — put it in SMTP_URL. */
  url: string;
  port: number;
  messages: ParsedMail[];
  /** RCPT TO addresses offered, accepted or not, in order. */
  rcptAttempts: string[];
  /** Answer `451` (temporary) to the next RCPT TO of these addresses, once per listed occurrence. */
  failRcptOnce(...addresses: string[]): void;
  /** Answer `code` to every RCPT TO of this address from now on (550 = permanent, 451 = temporary). */
  refuseRcpt(address: string, code: number): void;
  /** Messages received for one address. */
  to(address: string): ParsedMail[];
  /** Closes the listening socket (connections get refused) until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `dataDelayMs`: each message is accepted that long after its data arrived (a slow server, mails in flight). */
export async function startTestSmtp(opts: { dataDelayMs?: number } = {}): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  const rcptAttempts: string[] = [];
  const toFail: string[] = [];
  const refused = new Map<string, number>();
  let port = 0;
  let server: SMTPServer | undefined;

  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 100,
    onRcptTo(address, _session, callback) {
      const addr = address.address.toLowerCase();
      rcptAttempts.push(addr);
      const i = toFail.indexOf(addr);
      if (i >= 0) toFail.splice(i, 1);
      const code = i >= 0 ? 451 : refused.get(addr);
      if (code) {
        const text = code >= 500 ? 'Destinataire inconnu' : 'Boîte temporairement indisponible, réessayez plus tard';
        const err = new Error(text) as Error & { responseCode: number };
        err.responseCode = code;
        return callback(err);
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (opts.dataDelayMs) await new Promise((r) => setTimeout(r, opts.dataDelayMs));
          messages.push(mail);
          callback();
        })
        .catch((e) => callback(e as Error));
    },
  };

  const listen = () =>
    new Promise<void>((ok, ko) => {
      const s = new SMTPServer(options);
      s.once('error', ko);
      s.listen(port, '127.0.0.1', () => {
        port = (s.server.address() as AddressInfo).port;
        server = s;
        ok();
      });
    });
  const shut = () =>
    new Promise<void>((ok) => {
      const s = server;
      server = undefined;
      if (!s) return ok();
      s.close(() => ok());
    });

  await listen();
  const recipientsOf = (m: ParsedMail): string[] => {
    const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
    return to.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
  };
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    rcptAttempts,
    failRcptOnce(...addresses) {
      toFail.push(...addresses.map((a) => a.toLowerCase()));
    },
    refuseRcpt(address, code) {
      refused.set(address.toLowerCase(), code);
    },
    to(address) {
      return messages.filter((m) => recipientsOf(m).includes(address.toLowerCase()));
    },
    stop: shut,
    start: listen,
    close: shut,
  };
}

/** Polls `cond` until it holds (bounded: fails with `what` after `limit` tries, 25 ms apart). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, limit = 400): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition jamais remplie : ${what}`);
}
