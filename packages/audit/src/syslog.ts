/**
 * Syslog RFC 5424 over TCP or TLS with octet-counting framing (RFC 6587 §3.4.1, RFC 5425).
 * Node only (exported from `@fluxel/audit/node`).
 */

import { connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { Sink } from './delivery.js';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import type { StoredRecord } from './record.js';

/**
 * Options of {@link syslogSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { formatSyslog, type SyslogOptions } from '@fluxel/audit/node';
 *
 * const options: SyslogOptions = {
 *   host: 'syslog.acme.example',
 *   port: 6514,
 *   tls: { servername: 'syslog.acme.example' }, // add `ca` for a private CA
 *   hostname: 'portal-1',
 *   appName: 'license-portal',
 * };
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.match(formatSyslog(store.records[1]!, options), / portal-1 license-portal \d+ auth\.login /);
 * ```
 */
export interface SyslogOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options (CA, client certificate, servername). Verification is always on. */
  readonly tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername' | 'minVersion'>;
  /** Facility (default 13, "log audit"). */
  readonly facility?: number;
  /** HOSTNAME field (default the machine's host name). */
  readonly hostname?: string;
  /** APP-NAME field (default `fluxel-audit`). */
  readonly appName?: string;
  /** SD-ID of the event's structured data (default `fluxel@32473`, the documentation PEN). */
  readonly sdId?: string;
  readonly name?: string;
  /** Connect timeout (default 10 s). */
  readonly timeoutMs?: number;
}

/** SD-NAME (RFC 5424 §6.3.2): 1–32 printable US-ASCII, no `=`, space, `]` or `"`. */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;

/** `name@<private enterprise number>`, e.g. `fluxel@32473` or `origin@32473.1`. */
function privateSdId(sdId: string): boolean {
  const [name, pen, more] = sdId.split('@');
  return (
    !!name && more === undefined && !!pen && pen.split('.').every((part) => /^\d+$/.test(part))
  );
}

/**
 * Checks the options a message is built from, so a bad one fails when the sink is built and
 * not as messages a collector silently mis-parses.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_ARGUMENT` naming the option.
 */
function checkSyslogOptions(options: Partial<SyslogOptions>): void {
  const { facility, sdId } = options;
  if (facility !== undefined && !(Number.isInteger(facility) && facility >= 0 && facility <= 23))
    throw new AuditError(
      'ERR_AUDIT_INVALID_ARGUMENT',
      `syslog facility must be an integer from 0 to 23 (RFC 5424 §6.2.1; 13 is "log audit"), got ${String(facility)}`,
    );
  if (
    sdId !== undefined &&
    !(typeof sdId === 'string' && SD_NAME.test(sdId) && !/[= \]"]/.test(sdId) && privateSdId(sdId))
  )
    throw new AuditError(
      'ERR_AUDIT_INVALID_ARGUMENT',
      'syslog sdId must be "name@<private enterprise number>", at most 32 printable characters without "=", space, "]" or \'"\' (RFC 5424 §6.3.2), e.g. "fluxel@32473"',
    );
}

/**
 * The TIMESTAMP field: RFC 5424 §6.2.3 allows at most six fraction digits; a caller-supplied
 * time with more (nanoseconds) is cut to microseconds, never rounded into the next second.
 */
function syslogTime(time: string): string {
  return time.replace(/(\.\d{6})\d+/, '$1');
}

function severity(event: AuditEvent): number {
  if (event.action.startsWith('alert.')) return 1;
  if (event.outcome === 'denied') return 4;
  if (event.outcome === 'failure') return 5;
  return 6;
}

function sdEscape(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

function printable(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return cleaned || '-';
}

/**
 * Formats one record as an RFC 5424 message: the header (PRI, version 1, timestamp, host
 * name, app name, process id, and the action as MSGID), structured data `meta` with
 * `sequenceId` and `fluxel@32473` with id, tenant, action, outcome, actor, ip, seq and
 * hash, then a UTF-8 BOM and the event as JSON.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { formatSyslog } from '@fluxel/audit/node';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'failure' });
 * await log.close();
 * const message = formatSyslog(store.records[1]!, { hostname: 'portal-1' });
 * assert.match(message, /^<\d+>1 \S+ portal-1 fluxel-audit \d+ auth\.login \[meta sequenceId="2"\]\[fluxel@32473 /);
 * assert.ok(message.includes(' ip="192.0.2.10"'));
 * ```
 */
export function formatSyslog(record: StoredRecord, options: Partial<SyslogOptions> = {}): string {
  checkSyslogOptions(options);
  const event = record.event as AuditEvent;
  const pri = (options.facility ?? 13) * 8 + severity(event);
  const sequenceId = ((record.seq - 1) % 2147483647) + 1;
  const sdId = options.sdId ?? 'fluxel@32473';
  const params: [string, string | undefined][] = [
    ['id', event.id],
    ['tenant', event.tenant],
    ['action', event.action],
    ['outcome', event.outcome],
    ['actor', `${event.actor.type}:${event.actor.id}`],
    ['ip', event.actor.ip],
    ['seq', String(record.seq)],
    ['hash', record.hash],
  ];
  const sd = `[meta sequenceId="${sequenceId}"][${sdId}${params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${sdEscape(v as string)}"`)
    .join('')}]`;
  const header = `<${pri}>1 ${syslogTime(event.time)} ${printable(options.hostname ?? hostname(), 255)} ${printable(options.appName ?? 'fluxel-audit', 48)} ${process.pid} ${printable(event.action, 32)}`;
  return `${header} ${sd} \uFEFF${JSON.stringify(event)}`;
}

/**
 * Syslog over TCP (or TLS when `tls` is given) with octet-counted frames. A broken connection
 * is re-established on the next attempt. Plain syslog has no application acknowledgement:
 * a batch counts as delivered once the kernel accepted it, so a peer that dies with data in
 * flight can lose that data — use an HTTP sink where that matters.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError } from '@fluxel/audit';
 * import { syslogSink } from '@fluxel/audit/node';
 *
 * // Connects on the first send; attach it with `attachSink(log, { sink })`. Not sent here: that
 * // needs a syslog server (rsyslog, syslog-ng, a SIEM collector).
 * const sink = syslogSink({ host: 'syslog.acme.example', port: 6514, tls: {}, name: 'siem-syslog' });
 * assert.equal(sink.name, 'siem-syslog');
 * assert.throws(
 *   () => syslogSink({ host: 'syslog.acme.example', port: 6514, facility: 99 }), // checked when built
 *   (error) => AuditError.isInstance(error) && error.code === 'ERR_AUDIT_INVALID_ARGUMENT',
 * );
 * ```
 */
export function syslogSink(options: SyslogOptions): Sink {
  checkSyslogOptions(options);
  let socket: Socket | undefined;
  const connect = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = options.tls
        ? tlsConnect({ host: options.host, port: options.port, ...options.tls })
        : netConnect({ host: options.host, port: options.port });
      const timer = setTimeout(
        () => s.destroy(new Error('connect timeout')),
        options.timeoutMs ?? 10_000,
      );
      const ready = options.tls ? 'secureConnect' : 'connect';
      s.once(ready, () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      const drop = () => {
        if (socket === s) socket = undefined;
      };
      s.on('close', drop);
      s.on('end', drop);
      s.on('error', drop);
      s.on('data', () => {});
    });
  return {
    name: options.name ?? 'syslog',
    async send(records) {
      let payload = '';
      for (const record of records) {
        if (!record.event) continue;
        const message = formatSyslog(record, options);
        payload += `${Buffer.byteLength(message)} ${message}`;
      }
      if (!payload) return;
      try {
        if (!socket || socket.destroyed) socket = await connect();
        const s = socket;
        await new Promise<void>((resolve, reject) => {
          s.write(payload, (error) => (error ? reject(error) : resolve()));
        });
      } catch (cause) {
        socket?.destroy();
        socket = undefined;
        throw new AuditError(
          'ERR_AUDIT_SINK_FAILED',
          `syslog ${options.host}:${options.port} failed`,
          { cause },
        );
      }
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
    },
  };
}
