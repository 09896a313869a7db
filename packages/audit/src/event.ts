/**
 * The audit event model: its TypeScript types, event ids, the canonical encoding of an event
 * and the mapping to Elastic Common Schema (ECS) fields. The rules are checked in
 * `validate.ts`.
 */
import { canonicalJson, sortDeep } from './encoding.js';
import { isIpLiteral } from './ip.js';
import { randomBytes } from './primitives.js';

/**
 * A dotted lower-case verb with at least two parts, e.g. `auth.login`, `license.activate`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ACTION_PATTERN } from '@fluxel/audit';
 *
 * assert.ok(ACTION_PATTERN.test('admin.role.grant'));
 * assert.ok(!ACTION_PATTERN.test('Login')); // lower case, at least two dotted parts
 * ```
 */
// eslint-disable-next-line security/detect-unsafe-regex -- each repeated part starts with a literal dot the part itself cannot contain: linear time
export const ACTION_PATTERN: RegExp = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/;

/**
 * A geographic location.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { distanceKm, type Geo } from '@fluxel/audit';
 *
 * const berlin: Geo = { country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.405 };
 * const paris: Geo = { country: 'FR', city: 'Paris', lat: 48.8566, lon: 2.3522 };
 * const km = distanceKm({ lat: berlin.lat ?? 0, lon: berlin.lon ?? 0 }, { lat: paris.lat ?? 0, lon: paris.lon ?? 0 });
 * assert.ok(km > 850 && km < 900);
 * ```
 */
export interface Geo {
  /** ISO 3166-1 alpha-2 country code, upper case. */
  country?: string | undefined;
  city?: string | undefined;
  lat?: number | undefined;
  lon?: number | undefined;
}

/**
 * Who did it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Actor, normalizeEvent } from '@fluxel/audit';
 *
 * const actor: Actor = { type: 'device', id: 'laptop-7', name: 'Ann’s laptop', userAgent: 'fluxel-agent/2.1' };
 * const event = normalizeEvent({ tenant: 'acme', actor, action: 'license.activate', outcome: 'success' });
 * assert.deepEqual(event.actor, actor);
 * ```
 */
export interface Actor {
  type: 'user' | 'device' | 'service' | 'system';
  id: string;
  name?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  geo?: Geo | undefined;
}

/**
 * What it was done to.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, type Target } from '@fluxel/audit';
 *
 * const target: Target = { type: 'user', id: 'bob@acme.example', name: 'Bob' };
 * const event = normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'root' }, action: 'admin.role.grant', target, outcome: 'success' });
 * assert.equal(event.target?.id, 'bob@acme.example');
 * ```
 */
export interface Target {
  type: string;
  id: string;
  name?: string | undefined;
}

/**
 * How it ended.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Outcome, toEcs, normalizeEvent } from '@fluxel/audit';
 *
 * const outcome: Outcome = 'denied'; // an authorisation refusal
 * const event = normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'bob' }, action: 'report.export', outcome });
 * assert.equal(toEcs(event).event.outcome, 'failure');
 * assert.equal(toEcs(event).labels?.outcome, 'denied');
 * ```
 */
export type Outcome = 'success' | 'failure' | 'denied';

/**
 * A stored audit event (what `parseAuditEvent` returns).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AuditEvent, parseAuditEvent } from '@fluxel/audit';
 *
 * const event: AuditEvent = {
 *   id: '01JTB7Q8Z5W4X3V2T1S0R9Q8P7',
 *   time: '2026-05-01T12:00:00.000Z',
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example', ip: '192.0.2.10' },
 *   action: 'auth.login',
 *   outcome: 'failure',
 *   reason: 'bad password',
 *   requestId: 'req-81f2',
 * };
 * assert.deepEqual(parseAuditEvent(event), event);
 * ```
 */
export interface AuditEvent {
  id: string;
  /** ISO-8601 UTC, e.g. `2026-05-01T12:00:00.000Z`. */
  time: string;
  tenant: string;
  actor: Actor;
  /** Dotted lower-case verb, e.g. `auth.login`. */
  action: string;
  target?: Target | undefined;
  outcome: Outcome;
  reason?: string | undefined;
  requestId?: string | undefined;
  data?: Record<string, unknown> | undefined;
}

/**
 * An event as passed to `append`: `id` and `time` are optional.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type AuditEventInput, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const input: AuditEventInput = {
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example' },
 *   action: 'license.activate',
 *   target: { type: 'license', id: 'LIC-1234' },
 *   outcome: 'success',
 *   data: { seats: 5 },
 * };
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const receipt = await log.append(input); // `id` and `time` are filled in
 * await log.close();
 * assert.equal(receipt.id.length, 26);
 * ```
 */
export interface AuditEventInput extends Omit<AuditEvent, 'id' | 'time'> {
  id?: string | undefined;
  time?: string | undefined;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let pool: Uint8Array = new Uint8Array(0);
let poolAt = 0;
let timeMs = -1;
let timePart = '';

/**
 * A new event id: 26 characters, time-ordered (48-bit milliseconds then 80 random bits, in
 * Crockford base32, as ULIDs are).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { newEventId } from '@fluxel/audit';
 *
 * const earlier = newEventId(Date.parse('2026-05-01T12:00:00.000Z'));
 * const later = newEventId(Date.parse('2026-05-01T12:00:01.000Z'));
 * assert.match(earlier, /^[0-9A-HJKMNP-TV-Z]{26}$/);
 * assert.ok(earlier < later); // ids sort by time
 * ```
 */
export function newEventId(nowMs: number = Date.now()): string {
  if (nowMs !== timeMs) {
    let t = nowMs;
    let out = '';
    for (let i = 0; i < 10; i++) {
      out = CROCKFORD[t % 32] + out;
      t = Math.floor(t / 32);
    }
    timeMs = nowMs;
    timePart = out;
  }
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const p = pool;
  const at = poolAt;
  poolAt += 16;
  const c = (i: number) => CROCKFORD.charCodeAt((p[at + i] as number) & 31);
  return (
    timePart +
    String.fromCharCode(
      c(0),
      c(1),
      c(2),
      c(3),
      c(4),
      c(5),
      c(6),
      c(7),
      c(8),
      c(9),
      c(10),
      c(11),
      c(12),
      c(13),
      c(14),
      c(15),
    )
  );
}

function plainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const EVENT_KEYS = [
  'action',
  'actor',
  'data',
  'id',
  'outcome',
  'reason',
  'requestId',
  'target',
  'tenant',
  'time',
];
const ACTOR_KEYS = ['geo', 'id', 'ip', 'name', 'type', 'userAgent'];
const TARGET_KEYS = ['id', 'name', 'type'];
const EVENT_KEY_SET = new Set(EVENT_KEYS);
const ACTOR_KEY_SET = new Set(ACTOR_KEYS);
const TARGET_KEY_SET = new Set(TARGET_KEYS);

/**
 * True when `JSON.stringify(value)` is already canonical: plain objects with keys in sorted
 * order, finite numbers, no `undefined`, no `toJSON`, nothing JSON.stringify would drop.
 */
function isCanonical(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isCanonical(value[i], depth + 1)) return false;
        return true;
      }
      if (!plainObject(value)) return false;
      let previous: string | undefined;
      for (const key in value) {
        if (previous !== undefined && !(previous < key)) return false;
        previous = key;
        if (!isCanonical(value[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const SAFE_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON of a value; short printable-ASCII strings without quoting work skip `JSON.stringify`. */
function json(value: unknown): string {
  return typeof value === 'string' && SAFE_STRING.test(value)
    ? `"${value}"`
    : JSON.stringify(value);
}

/**
 * `JSON.stringify` of an event already in canonical form (keys known, sorted, values
 * canonical), written out field by field: about twice as fast for the common shape.
 */
function stringifyKnown(e: Record<string, unknown>, a: Record<string, unknown>): string {
  let out = `{"action":${json(e.action)},"actor":{`;
  let first = true;
  for (const key of ACTOR_KEYS) {
    const v = a[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}"${key}":${json(v)}`;
    first = false;
  }
  out += '}';
  for (let i = 2; i < EVENT_KEYS.length; i++) {
    const key = EVENT_KEYS[i] as string;
    const v = e[key];
    if (v !== undefined) out += `,"${key}":${json(v)}`;
  }
  return `${out}}`;
}

function knownKeys(value: Record<string, unknown>, known: Set<string>): boolean {
  for (const key in value) if (!known.has(key)) return false;
  return true;
}

function sortedKnown(
  value: Record<string, unknown>,
  keys: readonly string[],
  inner?: (key: string, v: unknown) => unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = value[key];
    if (v === undefined) continue;
    const special = inner?.(key, v);
    out[key] = special !== undefined ? special : sortDeep(v, 2);
  }
  return out;
}

/**
 * The canonical JSON of an event: identical to `canonicalJson(event)`, faster for the
 * event's known shape (falls back to the generic encoder for anything else).
 */
export function canonicalEvent(event: AuditEvent): string {
  const e = event as unknown as Record<string, unknown>;
  const actor = e.actor as Record<string, unknown>;
  const target = e.target as Record<string, unknown> | undefined;
  if (
    !plainObject(e) ||
    !knownKeys(e, EVENT_KEY_SET) ||
    !plainObject(actor) ||
    !knownKeys(actor, ACTOR_KEY_SET) ||
    (target !== undefined && (!plainObject(target) || !knownKeys(target, TARGET_KEY_SET)))
  )
    return canonicalJson(event);
  if (isCanonical(event, 0)) return stringifyKnown(e, actor);
  return JSON.stringify(
    sortedKnown(e, EVENT_KEYS, (key, v) =>
      key === 'actor'
        ? sortedKnown(actor, ACTOR_KEYS)
        : key === 'target'
          ? sortedKnown(v as Record<string, unknown>, TARGET_KEYS)
          : undefined,
    ),
  );
}

/**
 * An Elastic Common Schema document (the fields this package fills).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type EcsDocument, normalizeEvent, toEcs } from '@fluxel/audit';
 *
 * const doc: EcsDocument = toEcs(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'success' }),
 * );
 * assert.deepEqual(doc.event.category, ['authentication']);
 * assert.equal(doc.source?.ip, '192.0.2.10');
 * assert.equal(doc.organization.id, 'acme');
 * ```
 */
export interface EcsDocument {
  '@timestamp': string;
  message: string;
  ecs: { version: string };
  event: {
    id: string;
    action: string;
    outcome: 'success' | 'failure' | 'unknown';
    kind: 'event' | 'alert';
    category: string[];
    type: string[];
    reason?: string;
    sequence?: number;
    hash?: string;
    dataset: string;
  };
  organization: { id: string };
  user?: { id: string; name?: string };
  host?: { id: string; name?: string };
  service?: { name: string };
  source?: {
    ip?: string;
    geo?: {
      country_iso_code?: string;
      city_name?: string;
      location?: { lat: number; lon: number };
    };
  };
  user_agent?: { original: string };
  http?: { request: { id: string } };
  labels?: Record<string, string>;
  /** `actor_ip`: an address the privacy transform pseudonymised or encrypted. */
  fluxel?: { target?: Target; data?: Record<string, unknown>; actor_ip?: unknown };
}

function ecsCategory(action: string): { category: string[]; type: string[] } {
  const [head, verb = ''] = action.split('.');
  if (head === 'auth' || head === 'session')
    return { category: ['authentication'], type: [verb === 'logout' ? 'end' : 'start'] };
  if (head === 'admin' || head === 'iam' || action.includes('.role'))
    return { category: ['iam'], type: ['change'] };
  // ECS pairs intrusion_detection with allowed/denied/info; `indicator` belongs to `threat`.
  if (head === 'alert') return { category: ['intrusion_detection'], type: ['info'] };
  if (/create|add|issue|activate/.test(verb))
    return { category: ['configuration'], type: ['creation'] };
  if (/delete|remove|revoke|lock/.test(verb))
    return { category: ['configuration'], type: ['deletion'] };
  return { category: ['configuration'], type: ['change'] };
}

/**
 * Maps an event to an ECS document (ECS 8.x field names): `event.*`, `user.*` / `host.*` /
 * `service.name` by actor type, `source.ip` and `source.geo.*`, `organization.id` (tenant),
 * `http.request.id`, `user_agent.original`. `denied` maps to `event.outcome: failure` with
 * the label `outcome: denied`. Target and data stay under `fluxel.*`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, toEcs } from '@fluxel/audit';
 *
 * const event = normalizeEvent({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example', geo: { country: 'DE' } },
 *   action: 'auth.login',
 *   outcome: 'failure',
 *   reason: 'bad password',
 * });
 * const doc = toEcs(event, { seq: 7, hash: 'ab'.repeat(32) });
 * assert.equal(doc['@timestamp'], event.time);
 * assert.equal(doc.user?.id, 'ann@acme.example');
 * assert.equal(doc.event.sequence, 7);
 * assert.equal(doc.source?.geo?.country_iso_code, 'DE');
 * ```
 */
export function toEcs(event: AuditEvent, record?: { seq: number; hash: string }): EcsDocument {
  const { category, type } = ecsCategory(event.action);
  const doc: EcsDocument = {
    '@timestamp': event.time,
    message: `${event.action} ${event.outcome}${event.target ? ` ${event.target.type}:${event.target.id}` : ''} by ${event.actor.type}:${event.actor.id}`,
    ecs: { version: '8.11.0' },
    event: {
      id: event.id,
      action: event.action,
      outcome: event.outcome === 'success' ? 'success' : 'failure',
      kind: event.action.startsWith('alert.') ? 'alert' : 'event',
      category,
      type,
      dataset: 'fluxel.audit',
      ...(event.reason !== undefined ? { reason: event.reason } : {}),
      ...(record ? { sequence: record.seq, hash: record.hash } : {}),
    },
    organization: { id: event.tenant },
  };
  const { actor } = event;
  const named = actor.name !== undefined ? { name: actor.name } : {};
  if (actor.type === 'user') doc.user = { id: actor.id, ...named };
  else if (actor.type === 'device') doc.host = { id: actor.id, ...named };
  else doc.service = { name: actor.id };
  // A pseudonymised or encrypted address is no IP literal: Elasticsearch would refuse the
  // whole document for it, so it is kept as a keyword under `fluxel.actor_ip` instead.
  const ip = typeof actor.ip === 'string' && isIpLiteral(actor.ip) ? actor.ip : undefined;
  if (ip !== undefined || actor.geo !== undefined) {
    doc.source = {};
    if (ip !== undefined) doc.source.ip = ip;
    if (actor.geo) {
      const geo: NonNullable<NonNullable<EcsDocument['source']>['geo']> = {};
      if (actor.geo.country) geo.country_iso_code = actor.geo.country;
      if (actor.geo.city) geo.city_name = actor.geo.city;
      if (actor.geo.lat !== undefined && actor.geo.lon !== undefined)
        geo.location = { lat: actor.geo.lat, lon: actor.geo.lon };
      doc.source.geo = geo;
    }
  }
  if (actor.userAgent !== undefined) doc.user_agent = { original: actor.userAgent };
  if (event.requestId !== undefined) doc.http = { request: { id: event.requestId } };
  if (event.outcome === 'denied') doc.labels = { outcome: 'denied' };
  const opaqueIp = actor.ip !== undefined && ip === undefined ? actor.ip : undefined;
  if (event.target || event.data || opaqueIp !== undefined) {
    doc.fluxel = {};
    if (opaqueIp !== undefined) doc.fluxel.actor_ip = opaqueIp;
    if (event.target) doc.fluxel.target = event.target;
    if (event.data) doc.fluxel.data = event.data;
  }
  return doc;
}
