import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/**
 * A real SMTP server on loopback for mail tests: every message it accepts is parsed with
 * mailparser. Recipients starting with "bounce" are refused with 550. It can be stopped and started again on the same port (a mail server that is down).
 */
export class TestSmtp {
  readonly messages: ParsedMail[] = [];
  port = 0;
  private server: SMTPServer | null = null;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Addresses starting with "bounce" are refused for good (550), as an unknown mailbox is.
      onRcptTo: (address, _session, done) => {
        if (address.address.toLowerCase().startsWith('bounce'))
          return done(Object.assign(new Error('5.1.1 No such mailbox'), { responseCode: 550 }));
        done();
      },
      onData: (stream, _session, done) => {
        simpleParser(stream)
          .then((mail) => {
            this.messages.push(mail);
            done();
          })
          .catch((err: Error) => done(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The messages sent to `to`. */
  to(to: string): ParsedMail[] {
    return this.messages.filter((m) => recipients(m).includes(to.toLowerCase()));
  }

  /** Waits for a message to `to` whose subject matches, or fails after `timeoutMs`. */
  async waitFor(to: string, subject: RegExp, timeoutMs = 10_000): Promise<ParsedMail> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.to(to).find((m) => subject.test(m.subject ?? ''));
      if (found) return found;
      if (Date.now() > end)
        throw new Error(
          `no mail to ${to} matching ${subject} within ${timeoutMs} ms; got: ${this.messages.map((m) => `${recipients(m).join(',')}: ${m.subject}`).join(' | ')}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function recipients(m: ParsedMail): string[] {
  const list = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
  return list.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}

/** The first link in a mail's text whose path is `path`. */
export function linkIn(m: ParsedMail, path: string): URL {
  const found = (m.text ?? '')
    .match(/https?:\/\/\S+/g)
    ?.map((u) => new URL(u))
    .find((u) => u.pathname === path);
  if (!found) throw new Error(`no ${path} link in mail "${m.subject}": ${m.text}`);
  return found;
}
