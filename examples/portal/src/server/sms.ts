/**
 * Outgoing SMS: a `SmsTransport` interface, an in-memory sink for development and tests, and
 * one adapter for a generic HTTP/JSON SMS provider. Recipient numbers must be E.164
 * (`+` then 2–15 digits, no leading zero), checked before anything is sent.
 *
 * Wire format of `httpSmsTransport` (adapt a provider with a small proxy, or add an adapter):
 *
 *     POST <url>
 *     Authorization: Bearer <token>
 *     Content-Type: application/json
 *     Accept: application/json
 *
 *     {"from":"<sender id or E.164>","to":"+4915112345678","text":"Your code is 123456"}
 *
 * Any 2xx response is success (its body is read and ignored); anything else, or no answer
 * within `timeoutMs`, rejects with an `SmsSendError` that carries the status. The token never
 * appears in errors.
 */
import { request } from 'undici';
import { Inbox } from './mail.ts';

export interface SmsMessage {
  /** E.164 number, e.g. `+4915112345678`. */
  readonly to: string;
  readonly text: string;
}

export interface SmsTransport {
  send(message: SmsMessage): Promise<void>;
}

const E164 = /^\+[1-9][0-9]{1,14}$/;

/** True for an E.164 number: `+`, a non-zero digit, up to 15 digits in all. */
export function isE164(value: string): boolean {
  return E164.test(value);
}

function checkMessage(message: SmsMessage): void {
  if (!isE164(message.to)) throw new RangeError('recipient is not an E.164 phone number');
  if (message.text.length === 0) throw new RangeError('empty SMS text');
  if (message.text.length > 1600) throw new RangeError('SMS text too long');
}

export interface SmsSink extends SmsTransport {
  readonly messages: SmsMessage[];
  waitFor(predicate?: (message: SmsMessage) => boolean, timeoutMs?: number): Promise<SmsMessage>;
}

/** Keeps every message in memory (development and tests). Validates like a real transport. */
export function smsSink(): SmsSink {
  const inbox = new Inbox<SmsMessage>();
  return {
    messages: inbox.messages,
    async send(message) {
      checkMessage(message);
      inbox.push({ to: message.to, text: message.text });
    },
    waitFor: (predicate, timeoutMs) => inbox.waitFor(predicate, timeoutMs),
  };
}

export class SmsSendError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SmsSendError';
  }
}

export interface HttpSmsOptions {
  /** The provider's send endpoint (https, or http on loopback for tests). */
  readonly url: string;
  /** Bearer token. */
  readonly token: string;
  /** Sender id or number. */
  readonly from: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/** Sends via a generic HTTP/JSON provider (wire format in the header comment). */
export function httpSmsTransport(options: HttpSmsOptions): SmsTransport {
  const url = new URL(options.url);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new RangeError('SMS provider URL must be https (http only on loopback)');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async send(message) {
      checkMessage(message);
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.token}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({ from: options.from, to: message.to, text: message.text }),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (error) {
        throw new SmsSendError(`SMS provider unreachable: ${(error as Error).message}`);
      }
      const body = await response.body.text().catch(() => '');
      if (response.statusCode < 200 || response.statusCode > 299) {
        throw new SmsSendError(
          `SMS provider answered ${response.statusCode}: ${body.slice(0, 200)}`,
          response.statusCode,
        );
      }
    },
  };
}
