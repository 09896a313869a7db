/**
 * Outgoing e-mail: a small `MailTransport` interface with three implementations.
 *
 * - `smtpTransport` sends through an SMTP server with nodemailer. Unless told otherwise it
 *   insists on TLS (implicit on port 465, STARTTLS elsewhere) for every host but loopback, so
 *   mail and credentials never cross a network in the clear.
 * - `startSmtpSink` is a loopback SMTP server (smtp-server) that keeps what it receives, for
 *   development and tests: no TLS (STARTTLS with `tls: { key, cert }`, for a portal that
 *   insists on it), any credentials accepted. It decodes just enough MIME to
 *   get at the recipients, the subject (RFC 2047 encoded words), the text/plain part and an
 *   optional text/html part (quoted-printable, base64, 7bit/8bit; UTF-8 or Latin-1). Not a
 *   general MIME parser, and not for untrusted input.
 * - `memoryTransport` keeps messages in an array, for unit tests that need no SMTP.
 */
import type { AddressInfo } from 'node:net';
import { createTransport } from 'nodemailer';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}

export interface SmtpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (SMTPS); default true on port 465, otherwise STARTTLS is used when offered. */
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The From address, e.g. `"Fluxel Portal" <portal@example.com>`. */
  readonly from: string;
  /** TLS options (e.g. `ca`, `servername`); certificate checks stay on. */
  readonly tls?: { readonly ca?: string | Buffer; readonly servername?: string };
  /** Refuse to send without TLS; default true unless `host` is a loopback address. */
  readonly requireTLS?: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** A transport that sends through an SMTP server. `close()` ends pooled connections. */
export function smtpTransport(options: SmtpTransportOptions): MailTransport & { close(): void } {
  const secure = options.secure ?? options.port === 465;
  const transporter = createTransport({
    host: options.host,
    port: options.port,
    secure,
    requireTLS: options.requireTLS ?? (!secure && !LOOPBACK.has(options.host)),
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
    ...(options.tls ? { tls: { ...options.tls } } : {}),
  });
  return {
    async send(message) {
      await transporter.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
      });
    },
    close() {
      transporter.close();
    },
  };
}

/** A message as the sink received it. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  readonly from: string;
  /** Envelope recipients (RCPT TO). */
  readonly to: string[];
  /** The user name the client authenticated with, if it did. */
  readonly user?: string;
  /** Top-level headers, lower-case names, unfolded, encoded words decoded (first occurrence). */
  readonly headers: Record<string, string>;
  readonly subject: string;
  /** The text/plain part, decoded, with `\n` line ends. */
  readonly text: string;
  /** The text/html part, decoded, if there is one. */
  readonly html?: string;
  /** The message as received. */
  readonly raw: Buffer;
  /** When the sink received it (ms since the epoch); the dev mail viewer shows it. */
  readonly receivedAt: number;
}

interface Waiter<T> {
  readonly predicate: (message: T) => boolean;
  readonly resolve: (message: T) => void;
}

/** An in-memory list of messages with `waitFor`, shared by the sinks here and in sms.ts. */
export class Inbox<T> {
  readonly messages: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();

  push(message: T): void {
    this.messages.push(message);
    for (const waiter of this.#waiters) {
      if (waiter.predicate(message)) {
        this.#waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }

  /**
   * The first message (already received or still to come) matching `predicate`. The default
   * bound (5 minutes) only ends a hang: on a busy machine a mail may take long (issue 21).
   */
  waitFor(predicate: (message: T) => boolean = () => true, timeoutMs = 300_000): Promise<T> {
    const found = this.messages.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}

export interface SmtpSink {
  readonly port: number;
  readonly messages: ReceivedMail[];
  waitFor(
    predicate?: (message: ReceivedMail) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server on `host` (default loopback) and `port` (default 0: any free port)
 * that keeps every message. With `tls` it offers STARTTLS with that key and certificate.
 */
export async function startSmtpSink(
  options: { port?: number; host?: string; tls?: { key: string; cert: string } } = {},
): Promise<SmtpSink> {
  // Loaded here, not at the top: smtp-server is a development dependency, absent from the
  // production image (`pnpm deploy --prod`), and the production entry imports this module.
  const { SMTPServer } = await import('smtp-server');
  const inbox = new Inbox<ReceivedMail>();
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    ...(options.tls
      ? { key: options.tls.key, cert: options.tls.cert }
      : { disabledCommands: ['STARTTLS'] }),
    logger: false,
    size: 10 * 1024 * 1024,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        try {
          const raw = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom;
          const user = typeof session.user === 'string' ? session.user : undefined;
          inbox.push({
            from: mailFrom ? mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            ...(user === undefined ? {} : { user }),
            ...parseMessage(raw),
            raw,
            receivedAt: Date.now(),
          });
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // smtp-server keeps its net.Server in `server`; the typings do not say so.
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    port: address.port,
    messages: inbox.messages,
    waitFor: (predicate, timeoutMs) => inbox.waitFor(predicate, timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Keeps sent messages in `messages`; for tests. */
export function memoryTransport(): MailTransport & {
  readonly messages: MailMessage[];
  waitFor(predicate?: (message: MailMessage) => boolean, timeoutMs?: number): Promise<MailMessage>;
} {
  const inbox = new Inbox<MailMessage>();
  return {
    messages: inbox.messages,
    async send(message) {
      inbox.push({ ...message });
    },
    waitFor: (predicate, timeoutMs) => inbox.waitFor(predicate, timeoutMs),
  };
}

// --- minimal MIME reading, for the sink ---------------------------------------------------

interface Part {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function splitPart(data: Buffer): Part {
  const text = data.toString('latin1');
  let end = text.indexOf('\r\n\r\n');
  let skip = 4;
  if (end < 0) {
    end = text.indexOf('\n\n');
    skip = 2;
  }
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? Buffer.alloc(0) : data.subarray(end + skip);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** `type/subtype` and parameters of a Content-Type value. */
function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const [type = 'text/plain', ...rest] = (value ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const param of rest) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    params[param.slice(0, eq).trim().toLowerCase()] = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Quoted-printable (RFC 2045 §6.7) to bytes: soft line breaks dropped, `=XX` decoded. */
export function decodeQuotedPrintable(input: string): Buffer {
  const text = input.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    const hex = text.slice(i + 1, i + 3);
    if (char === 0x3d && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?utf-8?B?...?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(
      /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g,
      (_, charset: string, encoding: string, data: string) => {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(data, 'base64')
            : decodeQuotedPrintable(data.replace(/_/g, ' '));
        return decodeCharset(bytes, charset.replace(/\*.*$/, ''));
      },
    );
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const raw = part.body.toString('latin1');
  const bytes =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(raw)
      : encoding === 'base64'
        ? Buffer.from(raw.replace(/\s+/g, ''), 'base64')
        : part.body;
  const text = decodeCharset(bytes, contentType(part.headers['content-type']).params.charset);
  return text.replace(/\r\n/g, '\n');
}

/** The first text/plain and text/html parts, depth-first through multiparts. */
function findTexts(part: Part, found: { text?: string; html?: string }, depth = 0): void {
  const { type, params } = contentType(part.headers['content-type']);
  if (type.startsWith('multipart/') && params.boundary && depth < 10) {
    const delimiter = `--${params.boundary}`;
    const sections = part.body.toString('latin1').split(delimiter).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const content = section.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, '');
      findTexts(splitPart(Buffer.from(content, 'latin1')), found, depth + 1);
    }
    return;
  }
  if (/attachment/i.test(part.headers['content-disposition'] ?? '')) return;
  if (type === 'text/plain' && found.text === undefined) found.text = decodeBody(part);
  if (type === 'text/html' && found.html === undefined) found.html = decodeBody(part);
}

/** Headers, subject, text and html of a raw RFC 5322 message (see the header comment). */
export function parseMessage(raw: Buffer): {
  headers: Record<string, string>;
  subject: string;
  text: string;
  html?: string;
} {
  const part = splitPart(raw);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(part.headers)) {
    headers[name] = decodeEncodedWords(value);
  }
  const found: { text?: string; html?: string } = {};
  findTexts(part, found);
  return {
    headers,
    subject: headers.subject ?? '',
    text: found.text ?? '',
    ...(found.html === undefined ? {} : { html: found.html }),
  };
}
