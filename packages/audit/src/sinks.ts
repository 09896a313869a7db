/**
 * `@fluxel/audit/sinks`: HTTP sinks on `fetch` — Splunk HTTP Event Collector, Elasticsearch
 * bulk API with ECS documents, OpenTelemetry OTLP/HTTP JSON logs. Attach them to a log with
 * `attachSink`; delivery is at-least-once, in order, with retries.
 */
import type { Sink } from './delivery.js';
import { AuditError } from './errors.js';
import { toEcs } from './event.js';
import { type RecordFormat, renderValue } from './format.js';
import { randomBytes } from './primitives.js';
import type { StoredRecord } from './record.js';
import { PACKAGE_VERSION } from './version.js';

export type { Sink } from './delivery.js';
export type { Actor, AuditEvent, Geo, Outcome, Target } from './event.js';
export type { RecordFormat } from './format.js';
export type { Checkpoint, CheckpointReason, StoredRecord } from './record.js';

/**
 * Options common to the HTTP sinks.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type HttpSinkOptions, otlpLogsSink } from '@fluxel/audit/sinks';
 *
 * const urls: string[] = [];
 * const common: HttpSinkOptions = {
 *   url: 'https://otel-collector.acme.example:4318/',
 *   name: 'otlp-eu',
 *   headers: { 'X-Tenant': 'acme' },
 *   timeoutMs: 10_000,
 *   fetch: async (url) => (urls.push(String(url)), new Response('{}')), // a stand-in for the collector
 * };
 * const sink = otlpLogsSink(common);
 * assert.equal(sink.name, 'otlp-eu');
 * await sink.send([]); // nothing to send: no request
 * assert.deepEqual(urls, []);
 * ```
 */
export interface HttpSinkOptions {
  /** Base URL of the peer, e.g. `https://splunk.example:8088`. */
  readonly url: string;
  /** Sink name (cursor key); defaults to the kind of sink. */
  readonly name?: string;
  /** Extra request headers. */
  readonly headers?: Record<string, string>;
  /** `fetch` to use (default: the global one). For TLS with a private CA pass a dispatcher-bound fetch. */
  readonly fetch?: typeof fetch;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

async function post(
  options: HttpSinkOptions,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; headers: Headers }> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      body,
      headers: { ...headers, ...options.headers },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (cause) {
    throw new AuditError('ERR_AUDIT_SINK_FAILED', `POST ${url} failed`, { cause });
  }
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function failed(what: string, status: number, text: string): AuditError {
  return new AuditError(
    'ERR_AUDIT_SINK_FAILED',
    `${what} answered ${status}: ${text.slice(0, 200)}`,
  );
}

/**
 * Options of {@link splunkHecSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { type SplunkHecOptions, splunkHecSink } from '@fluxel/audit/sinks';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const bodies: string[] = [];
 * const options: SplunkHecOptions = {
 *   url: 'https://splunk.acme.example:8088',
 *   token: '00000000-0000-0000-0000-000000000000',
 *   index: 'audit',
 *   format: 'record', // the raw line: verifiable in Splunk too
 *   fetch: async (_url, init) => (bodies.push(String(init?.body)), Response.json({ text: 'Success', code: 0 })),
 * };
 * await splunkHecSink(options).send(store.records.filter((r) => r.kind === 'e'));
 * assert.equal(JSON.parse(bodies[0]!).index, 'audit');
 * ```
 */
export interface SplunkHecOptions extends HttpSinkOptions {
  /** The HEC token (sent as `Authorization: Splunk <token>`). */
  readonly token: string;
  readonly index?: string;
  readonly source?: string;
  /** Default `fluxel:audit`. */
  readonly sourcetype?: string;
  readonly host?: string;
  /** `event` (default), `ecs` or `record` (the raw line, verifiable). */
  readonly format?: RecordFormat;
  /**
   * Use indexer acknowledgement: send on a channel and count a batch as delivered only when
   * `/services/collector/ack` reports it indexed. Enable when the token has acks enabled.
   */
  readonly ack?: boolean;
  /** Channel id for acks (default: random UUID per sink). */
  readonly channel?: string;
  /** How often to poll for acks (default 500 ms) and how long to wait (default 60 s). */
  readonly ackPollMs?: number;
  readonly ackTimeoutMs?: number;
}

function uuid(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Splunk HTTP Event Collector: `POST /services/collector/event` with one JSON object per
 * event (`time` in epoch seconds, `host`, `source`, `sourcetype`, `index`, `event`), batched
 * in one body. With `ack`, the batch is sent on a channel and delivery waits for
 * `POST /services/collector/ack` to confirm the returned `ackId`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { splunkHecSink } from '@fluxel/audit/sinks';
 *
 * const requests: { url: string; auth: string | null }[] = [];
 * const sink = splunkHecSink({
 *   url: 'https://splunk.acme.example:8088',
 *   token: '00000000-0000-0000-0000-000000000000',
 *   // A stand-in for Splunk; omit `fetch` to use the global one.
 *   fetch: async (url, init) => {
 *     requests.push({ url: String(url), auth: new Headers(init?.headers).get('authorization') });
 *     return Response.json({ text: 'Success', code: 0 });
 *   },
 * });
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, { sink });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * assert.deepEqual(requests, [{ url: 'https://splunk.acme.example:8088/services/collector/event', auth: 'Splunk 00000000-0000-0000-0000-000000000000' }]);
 * ```
 */
export function splunkHecSink(options: SplunkHecOptions): Sink {
  const format = options.format ?? 'event';
  const channel = options.ack ? (options.channel ?? uuid()) : undefined;
  const auth: Record<string, string> = {
    Authorization: `Splunk ${options.token}`,
    'Content-Type': 'application/json',
    ...(channel ? { 'X-Splunk-Request-Channel': channel } : {}),
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    name: options.name ?? 'splunk-hec',
    async send(records) {
      let body = '';
      for (const record of records) {
        const time = record.event ? Date.parse(record.event.time) / 1000 : undefined;
        body += `${JSON.stringify({
          ...(time !== undefined ? { time } : {}),
          ...(options.host !== undefined ? { host: options.host } : {}),
          source: options.source ?? 'fluxel-audit',
          sourcetype: options.sourcetype ?? 'fluxel:audit',
          ...(options.index !== undefined ? { index: options.index } : {}),
          event: renderValue(record, format),
        })}\n`;
      }
      const url = joinUrl(options.url, '/services/collector/event');
      const res = await post(options, url, body, auth);
      if (res.status !== 200) throw failed('Splunk HEC', res.status, res.text);
      let parsed: { code?: number; ackId?: number };
      try {
        parsed = JSON.parse(res.text) as typeof parsed;
      } catch {
        throw failed('Splunk HEC', res.status, res.text);
      }
      if (parsed.code !== 0) throw failed('Splunk HEC', res.status, res.text);
      if (!channel) return;
      if (typeof parsed.ackId !== 'number')
        throw failed('Splunk HEC (no ackId)', res.status, res.text);
      const ackUrl = joinUrl(
        options.url,
        `/services/collector/ack?channel=${encodeURIComponent(channel)}`,
      );
      const deadline = Date.now() + (options.ackTimeoutMs ?? 60_000);
      while (Date.now() < deadline) {
        const ack = await post(options, ackUrl, JSON.stringify({ acks: [parsed.ackId] }), auth);
        if (ack.status !== 200) throw failed('Splunk HEC ack', ack.status, ack.text);
        const acks = (JSON.parse(ack.text) as { acks?: Record<string, boolean> }).acks ?? {};
        if (acks[String(parsed.ackId)] === true) return;
        await sleep(options.ackPollMs ?? 500);
      }
      throw new AuditError(
        'ERR_AUDIT_SINK_FAILED',
        `Splunk HEC did not acknowledge ackId ${parsed.ackId}`,
      );
    },
  };
}

/**
 * Options of {@link elasticBulkSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { StoredRecord } from '@fluxel/audit';
 * import { type ElasticBulkOptions, elasticBulkSink } from '@fluxel/audit/sinks';
 *
 * const deadLetters: StoredRecord[] = [];
 * const options: ElasticBulkOptions = {
 *   url: 'https://es.acme.example:9200',
 *   index: 'logs-fluxel.audit-acme',
 *   apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
 *   onRejected: (record) => deadLetters.push(record),
 * };
 * const sink = elasticBulkSink(options);
 * assert.equal(sink.name, 'elastic');
 * assert.equal(deadLetters.length, 0);
 * ```
 */
export interface ElasticBulkOptions extends HttpSinkOptions {
  /** Index or data stream (default `logs-fluxel.audit-default`). */
  readonly index?: string;
  /** An API key (`Authorization: ApiKey <key>`), already base64 as Elastic issues it. */
  readonly apiKey?: string;
  /**
   * Called once for each document Elasticsearch rejects permanently (a 4xx item other than
   * 409 and 429, e.g. a mapping error): write it to a dead-letter file or queue. Such a
   * document is never retried, so it cannot hold up the ones behind it. Without this option
   * the newest {@link ELASTIC_DEAD_LETTERS_KEPT} are kept in the sink's `rejected` list.
   */
  readonly onRejected?: (record: StoredRecord, error: unknown) => void;
}

/**
 * How many permanently rejected documents an {@link ElasticBulkSink} keeps without `onRejected`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ELASTIC_DEAD_LETTERS_KEPT } from '@fluxel/audit/sinks';
 *
 * // Without `onRejected`, a sink's `rejected` list keeps this many of the newest refusals.
 * assert.equal(ELASTIC_DEAD_LETTERS_KEPT, 1000);
 * ```
 */
export const ELASTIC_DEAD_LETTERS_KEPT = 1000;

/**
 * A document Elasticsearch refused for good, and its reason as Elasticsearch gave it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { elasticBulkSink, type RejectedDocument } from '@fluxel/audit/sinks';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const mappingError = { type: 'mapper_parsing_exception', reason: 'failed to parse field [source.ip]' };
 * const sink = elasticBulkSink({
 *   url: 'https://es.acme.example:9200',
 *   fetch: async () => Response.json({ errors: true, items: [{ create: { status: 400, error: mappingError } }] }),
 * });
 * await sink.send(store.records.filter((r) => r.kind === 'e')); // not retried: refused for good
 * const [rejected]: readonly RejectedDocument[] = sink.rejected;
 * assert.deepEqual(rejected?.error, mappingError);
 * ```
 */
export interface RejectedDocument {
  readonly record: StoredRecord;
  readonly error: unknown;
}

/**
 * The sink {@link elasticBulkSink} returns.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { type ElasticBulkSink, elasticBulkSink } from '@fluxel/audit/sinks';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const sink: ElasticBulkSink = elasticBulkSink({
 *   url: 'https://es.acme.example:9200',
 *   fetch: async () => Response.json({ errors: false, items: [{ create: { status: 201 } }] }),
 * });
 * await sink.send(store.records.filter((r) => r.kind === 'e'));
 * assert.equal(sink.rejected.length, 0);
 * ```
 */
export interface ElasticBulkSink extends Sink {
  /** The newest permanently rejected documents, when no `onRejected` takes them. */
  readonly rejected: readonly RejectedDocument[];
}

interface BulkItem {
  status: number;
  error?: unknown;
}

/**
 * Elasticsearch `_bulk` with ECS documents: `{"create":{"_index","_id":<event.id>}}` then the
 * document, NDJSON. `create` with the event id as `_id` makes redelivery idempotent: a 409
 * (already exists) counts as delivered. Items failing with 429 or 5xx are retried (the batch
 * again; what was indexed answers 409); an item refused for good goes to `onRejected` once.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { elasticBulkSink } from '@fluxel/audit/sinks';
 *
 * const bodies: string[] = [];
 * const sink = elasticBulkSink({
 *   url: 'https://es.acme.example:9200',
 *   // A stand-in for Elasticsearch; omit `fetch` to use the global one.
 *   fetch: async (_url, init) => {
 *     bodies.push(String(init?.body));
 *     return Response.json({ errors: false, items: [{ create: { status: 201 } }] });
 *   },
 * });
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, { sink });
 * const { id } = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * const [action, doc] = bodies[0]!.trim().split('\n').map((line) => JSON.parse(line));
 * assert.deepEqual(action, { create: { _index: 'logs-fluxel.audit-default', _id: id } }); // idempotent redelivery
 * assert.equal(doc.source.ip, '192.0.2.10'); // an ECS document
 * ```
 */
export function elasticBulkSink(options: ElasticBulkOptions): ElasticBulkSink {
  const index = options.index ?? 'logs-fluxel.audit-default';
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-ndjson',
    ...(options.apiKey ? { Authorization: `ApiKey ${options.apiKey}` } : {}),
  };
  const rejected: RejectedDocument[] = [];
  // Refused for good while the batch is retried for other items: left out of the retries.
  const refused = new Set<string>();
  const reject = (record: StoredRecord, error: unknown): void => {
    if (options.onRejected) {
      options.onRejected(record, error);
      return;
    }
    rejected.push({ record, error });
    if (rejected.length > ELASTIC_DEAD_LETTERS_KEPT) rejected.shift();
  };
  return {
    name: options.name ?? 'elastic',
    rejected,
    async send(records) {
      let body = '';
      const docs = records.filter((r) => r.event && !refused.has(r.event.id));
      for (const record of docs) {
        const event = record.event as NonNullable<StoredRecord['event']>;
        body += `${JSON.stringify({ create: { _index: index, _id: event.id } })}\n`;
        body += `${JSON.stringify(toEcs(event, { seq: record.seq, hash: record.hash }))}\n`;
      }
      if (docs.length === 0) return refused.clear();
      const res = await post(options, joinUrl(options.url, '/_bulk'), body, headers);
      if (res.status !== 200) throw failed('Elasticsearch _bulk', res.status, res.text);
      let parsed: { errors?: boolean; items?: Record<string, BulkItem>[] };
      try {
        parsed = JSON.parse(res.text) as typeof parsed;
      } catch {
        throw failed('Elasticsearch _bulk', res.status, res.text);
      }
      if (!parsed.errors) return refused.clear();
      const items = parsed.items ?? [];
      if (items.length !== docs.length)
        throw failed('Elasticsearch _bulk (item count)', res.status, res.text);
      let retry = 0;
      for (let i = 0; i < items.length; i++) {
        const item = Object.values(items[i] as Record<string, BulkItem>)[0] as BulkItem;
        if (item.status < 300 || item.status === 409) continue;
        if (item.status === 429 || item.status >= 500) retry++;
        else {
          const record = docs[i] as StoredRecord;
          refused.add((record.event as NonNullable<StoredRecord['event']>).id);
          reject(record, item.error);
        }
      }
      if (retry > 0)
        throw new AuditError(
          'ERR_AUDIT_SINK_FAILED',
          `Elasticsearch _bulk: ${retry} item(s) to retry`,
        );
      refused.clear();
    },
  };
}

/**
 * An RFC 3339 UTC time as OTLP's decimal nanoseconds, every fraction digit kept (a caller's
 * time may carry micro- or nanoseconds; `Date.parse` keeps milliseconds only).
 */
function isoToUnixNanos(time: string): string {
  const dot = time.indexOf('.');
  const fraction = dot < 0 ? '' : time.slice(dot + 1, time.length - 1);
  const seconds = Date.parse(dot < 0 ? time : `${time.slice(0, dot)}Z`);
  return `${BigInt(seconds) * 1_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9))}`;
}

/**
 * Options of {@link otlpLogsSink}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { type OtlpLogsOptions, otlpLogsSink } from '@fluxel/audit/sinks';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const rejections: number[] = [];
 * const options: OtlpLogsOptions = {
 *   url: 'http://localhost:4318',
 *   serviceName: 'license-portal',
 *   resource: { 'deployment.environment': 'production' },
 *   onRejected: (count) => rejections.push(count),
 *   fetch: async () => Response.json({ partialSuccess: { rejectedLogRecords: '1', errorMessage: 'too old' } }),
 * };
 * await otlpLogsSink(options).send(store.records.filter((r) => r.kind === 'e'));
 * assert.deepEqual(rejections, [1]);
 * ```
 */
export interface OtlpLogsOptions extends HttpSinkOptions {
  /** `service.name` resource attribute (default `fluxel-audit`). */
  readonly serviceName?: string;
  /** Further resource attributes. */
  readonly resource?: Record<string, string>;
  /** Called when the collector reports `partialSuccess.rejectedLogRecords`. */
  readonly onRejected?: (count: number, message: string) => void;
}

type AnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean };

function attr(key: string, value: string | number | undefined): { key: string; value: AnyValue }[] {
  if (value === undefined) return [];
  return [
    {
      key,
      value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
    },
  ];
}

/**
 * OpenTelemetry OTLP/HTTP with JSON encoding: `POST /v1/logs` with
 * `resourceLogs[].scopeLogs[].logRecords[]`. Each event becomes a log record whose body is
 * the event JSON, `eventName` the action, and attributes the ECS-like keys (`event.id`,
 * `event.action`, `event.outcome`, `user.id`, `source.address`, …) plus `fluxel.audit.seq`
 * and `fluxel.audit.hash`. 429/502/503/504 and network errors are retried.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '@fluxel/audit';
 * import { otlpLogsSink } from '@fluxel/audit/sinks';
 *
 * const bodies: unknown[] = [];
 * const sink = otlpLogsSink({
 *   url: 'http://localhost:4318',
 *   // A stand-in for the OpenTelemetry collector; omit `fetch` to use the global one.
 *   fetch: async (_url, init) => (bodies.push(JSON.parse(String(init?.body))), new Response('{}')),
 * });
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const runner = await attachSink(log, { sink });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await runner.drain();
 * await runner.stop();
 * await log.close();
 * const body = bodies[0] as { resourceLogs: { scopeLogs: { logRecords: { eventName: string }[] }[] }[] };
 * assert.equal(body.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.eventName, 'auth.login');
 * ```
 */
export function otlpLogsSink(options: OtlpLogsOptions): Sink {
  const resource = [
    ...attr('service.name', options.serviceName ?? 'fluxel-audit'),
    ...Object.entries(options.resource ?? {}).flatMap(([k, v]) => attr(k, v)),
  ];
  return {
    name: options.name ?? 'otlp',
    async send(records) {
      // When this exporter saw the records (OTLP's ObservedTimestamp), not when they happened.
      const observed = `${BigInt(Date.now()) * 1_000_000n}`;
      const logRecords = records
        .filter((r) => r.event)
        .map((record) => {
          const e = record.event as NonNullable<StoredRecord['event']>;
          // OTLP severity numbers: 9 INFO, 13 WARN, 17 ERROR.
          const severity = e.action.startsWith('alert.') ? 17 : e.outcome === 'success' ? 9 : 13;
          return {
            timeUnixNano: isoToUnixNanos(e.time),
            observedTimeUnixNano: observed,
            severityNumber: severity,
            severityText: severity === 17 ? 'ERROR' : severity === 13 ? 'WARN' : 'INFO',
            eventName: e.action,
            body: { stringValue: JSON.stringify(e) },
            attributes: [
              ...attr('event.id', e.id),
              ...attr('event.action', e.action),
              ...attr('event.outcome', e.outcome),
              ...attr('organization.id', e.tenant),
              ...attr(e.actor.type === 'user' ? 'user.id' : 'fluxel.actor.id', e.actor.id),
              ...attr('fluxel.actor.type', e.actor.type),
              ...attr('source.address', e.actor.ip),
              ...attr('http.request.id', e.requestId),
              ...attr('fluxel.audit.seq', record.seq),
              ...attr('fluxel.audit.hash', record.hash),
            ],
          };
        });
      if (logRecords.length === 0) return;
      const body = JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: resource },
            scopeLogs: [{ scope: { name: '@fluxel/audit', version: PACKAGE_VERSION }, logRecords }],
          },
        ],
      });
      const res = await post(options, joinUrl(options.url, '/v1/logs'), body, {
        'Content-Type': 'application/json',
      });
      if (res.status !== 200) throw failed('OTLP /v1/logs', res.status, res.text);
      if (res.text) {
        const parsed = JSON.parse(res.text) as {
          partialSuccess?: { rejectedLogRecords?: string | number; errorMessage?: string };
        };
        const rejected = Number(parsed.partialSuccess?.rejectedLogRecords ?? 0);
        if (rejected > 0) {
          if (!options.onRejected)
            throw failed('OTLP /v1/logs (partial success)', res.status, res.text);
          options.onRejected(rejected, parsed.partialSuccess?.errorMessage ?? '');
        }
      }
    },
  };
}
