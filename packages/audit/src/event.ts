/**
 * The audit event model: a zod schema, its TypeScript types, and the mapping to Elastic
 * Common Schema (ECS) fields.
 */
import { z } from 'zod';
import { canonicalJson, sortDeep } from './encoding.js';
import { AuditError } from './errors.js';
import { ipLiteralSchema, isIpLiteral } from './ip.js';
import { randomBytes } from './primitives.js';

// Every object of the event is strict: a field the schema does not know is refused (and
// named), never dropped: a misspelt `requestID` must not vanish from the log. Free-form
// details go in `data`.

/**
 * Where an actor was, as resolved from its IP address or supplied by the caller.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { geoSchema } from '@fluxel/audit';
 *
 * assert.equal(geoSchema.safeParse({ country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.405 }).success, true);
 * assert.equal(geoSchema.safeParse({ country: 'de' }).success, false); // upper-case ISO code
 * ```
 */
export const geoSchema = z.strictObject({
  /** ISO 3166-1 alpha-2 country code, upper case. */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  city: z.string().max(200).optional(),
  lat: z.number().min(-90).max(90).optional(),
  lon: z.number().min(-180).max(180).optional(),
});

/**
 * Who did it: a person, a device (agent), a service, or the system itself.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { actorSchema } from '@fluxel/audit';
 *
 * assert.equal(actorSchema.safeParse({ type: 'user', id: 'ann@acme.example', ip: '192.0.2.10' }).success, true);
 * assert.equal(actorSchema.safeParse({ type: 'user', id: 'ann', department: 'it' }).success, false); // unknown field
 * ```
 */
export const actorSchema = z.strictObject({
  type: z.enum(['user', 'device', 'service', 'system']),
  id: z.string().min(1).max(512),
  name: z.string().max(512).optional(),
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(1024).optional(),
  geo: geoSchema.optional(),
});

/**
 * What it was done to.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { targetSchema } from '@fluxel/audit';
 *
 * assert.equal(targetSchema.safeParse({ type: 'license', id: 'LIC-1234', name: 'Pro' }).success, true);
 * assert.equal(targetSchema.safeParse({ type: 'license', id: '' }).success, false);
 * ```
 */
export const targetSchema = z.strictObject({
  type: z.string().min(1).max(128),
  id: z.string().min(1).max(512),
  name: z.string().max(512).optional(),
});

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
 * How it ended. `denied` is an authorisation refusal, `failure` any other failure.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { outcomeSchema } from '@fluxel/audit';
 *
 * assert.deepEqual(outcomeSchema.options, ['success', 'failure', 'denied']);
 * assert.equal(outcomeSchema.safeParse('ok').success, false);
 * ```
 */
export const outcomeSchema = z.enum(['success', 'failure', 'denied']);

const eventShape = {
  tenant: z.string().min(1).max(256),
  actor: actorSchema,
  action: z.string().max(128).regex(ACTION_PATTERN),
  target: targetSchema.optional(),
  outcome: outcomeSchema,
  reason: z.string().max(2048).optional(),
  requestId: z.string().max(256).optional(),
  /** Further details; PII belongs here so that it can be redacted or encrypted by path. */
  data: z.record(z.string(), z.unknown()).optional(),
};

/**
 * The schema of a stored audit event (every field present that the log fills in).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { auditEventSchema } from '@fluxel/audit';
 *
 * const stored = {
 *   id: '01JTB7Q8Z5W4X3V2T1S0R9Q8P7',
 *   time: '2026-05-01T12:00:00.000Z',
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example' },
 *   action: 'auth.login',
 *   outcome: 'success',
 * };
 * assert.equal(auditEventSchema.safeParse(stored).success, true);
 * assert.equal(auditEventSchema.safeParse({ ...stored, requestID: 'r-1' }).success, false);
 * ```
 */
export const auditEventSchema = z.strictObject({
  id: z.string().min(1).max(128),
  time: z.iso.datetime({ offset: false }),
  ...eventShape,
});

/**
 * The schema of what callers pass to `append`: `id` and `time` are filled in when absent, and
 * `actor.ip` must be one address literal (it becomes ECS `source.ip`, which Elasticsearch
 * indexes as type `ip`; what the privacy transform makes of it later is stored as it is).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { auditEventInputSchema } from '@fluxel/audit';
 *
 * const input = { tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'failure' };
 * assert.equal(auditEventInputSchema.safeParse(input).success, true);
 * // One address literal only: an X-Forwarded-For list is refused.
 * assert.equal(auditEventInputSchema.safeParse({ ...input, actor: { type: 'user', id: 'ann', ip: '192.0.2.10, 10.0.0.1' } }).success, false);
 * ```
 */
export const auditEventInputSchema = z.strictObject({
  id: z.string().min(1).max(128).optional(),
  time: z.iso.datetime({ offset: false }).optional(),
  ...eventShape,
  actor: actorSchema.extend({ ip: ipLiteralSchema.optional() }),
});

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
 * A stored audit event (the type of `auditEventSchema`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AuditEvent, auditEventSchema } from '@fluxel/audit';
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
 * assert.deepEqual(auditEventSchema.parse(event), event);
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

// The interfaces above are the schema's types, spelled out for readable API docs; this
// fails to compile if they ever drift apart.
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesTypes: [
  Same<z.infer<typeof auditEventSchema>, AuditEvent>,
  Same<z.input<typeof auditEventInputSchema>, AuditEventInput>,
] = [true, true];
void schemaMatchesTypes;

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

let isoMs = Number.NaN;
let isoText = '';

/** `new Date(ms).toISOString()`, cached for the last millisecond (many events share one). */
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoText = new Date(ms).toISOString();
    isoMs = ms;
  }
  return isoText;
}

const knownActions = new Set<string>();

function validAction(action: string): boolean {
  if (knownActions.has(action)) return true;
  if (action.length > 128 || !ACTION_PATTERN.test(action)) return false;
  if (knownActions.size >= 1024) knownActions.clear();
  knownActions.add(action);
  return true;
}

const ACTOR_TYPES = new Set(['user', 'device', 'service', 'system']);
const OUTCOMES = new Set(['success', 'failure', 'denied']);

function str(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}
function optStr(value: unknown, max: number): boolean {
  return value === undefined || (typeof value === 'string' && value.length <= max);
}
function plainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Unknown fields are refused by zod; the fast path only has to notice them and step aside.
// A switch over the names is cheaper here than a Set lookup per key.
function inputKeysKnown(value: Record<string, unknown>): boolean {
  for (const key in value) {
    switch (key) {
      case 'action':
      case 'actor':
      case 'data':
      case 'id':
      case 'outcome':
      case 'reason':
      case 'requestId':
      case 'target':
      case 'tenant':
      case 'time':
        continue;
      default:
        return false;
    }
  }
  return true;
}
function actorKeysKnown(value: Record<string, unknown>): boolean {
  for (const key in value) {
    switch (key) {
      case 'geo':
      case 'id':
      case 'ip':
      case 'name':
      case 'type':
      case 'userAgent':
        continue;
      default:
        return false;
    }
  }
  return true;
}
function targetKeysKnown(value: Record<string, unknown>): boolean {
  for (const key in value) if (key !== 'id' && key !== 'name' && key !== 'type') return false;
  return true;
}

/**
 * The common case checked without zod (5× faster): no `time` or `geo` given, only plain
 * values and known fields. It accepts only what the zod schema accepts and builds the same
 * output; anything else (an unknown field included) goes through zod, which decides and
 * names the problem.
 */
function fastNormalize(input: AuditEventInput, now: () => number): AuditEvent | undefined {
  const e = input as unknown as Record<string, unknown>;
  if (!plainObject(e) || e.time !== undefined || !inputKeysKnown(e)) return undefined;
  const a = e.actor;
  if (!plainObject(a) || a.geo !== undefined || !actorKeysKnown(a)) return undefined;
  if (
    !str(e.tenant, 1, 256) ||
    !ACTOR_TYPES.has(a.type as string) ||
    !str(a.id, 1, 512) ||
    !optStr(a.name, 512) ||
    !(a.ip === undefined || (typeof a.ip === 'string' && isIpLiteral(a.ip))) ||
    !optStr(a.userAgent, 1024) ||
    typeof e.action !== 'string' ||
    !validAction(e.action) ||
    !OUTCOMES.has(e.outcome as string) ||
    !optStr(e.reason, 2048) ||
    !optStr(e.requestId, 256) ||
    !(e.id === undefined || str(e.id, 1, 128)) ||
    !(e.data === undefined || plainObject(e.data))
  )
    return undefined;
  const t = e.target;
  if (
    t !== undefined &&
    (!plainObject(t) ||
      !targetKeysKnown(t) ||
      !str(t.type, 1, 128) ||
      !str(t.id, 1, 512) ||
      !optStr(t.name, 512))
  )
    return undefined;
  // Built with keys in canonical (sorted) order, so canonicalEvent can stringify it as is.
  const actor = { id: a.id } as Actor;
  if (a.ip !== undefined) actor.ip = a.ip as string;
  if (a.name !== undefined) actor.name = a.name as string;
  actor.type = a.type as Actor['type'];
  if (a.userAgent !== undefined) actor.userAgent = a.userAgent as string;
  const ms = now();
  const event = { action: e.action, actor } as AuditEvent;
  if (e.data !== undefined) event.data = { ...(e.data as Record<string, unknown>) };
  event.id = (e.id as string | undefined) ?? newEventId(ms);
  event.outcome = e.outcome as Outcome;
  if (e.reason !== undefined) event.reason = e.reason as string;
  if (e.requestId !== undefined) event.requestId = e.requestId as string;
  if (t !== undefined) {
    const target = { id: t.id } as Target;
    if (t.name !== undefined) target.name = t.name as string;
    target.type = t.type as string;
    event.target = target;
  }
  event.tenant = e.tenant;
  event.time = isoTime(ms);
  return event;
}

/**
 * Validates an input event and fills in `id` and `time`.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` naming the first offending path.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, normalizeEvent } from '@fluxel/audit';
 *
 * const event = normalizeEvent(
 *   { tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' },
 *   () => Date.parse('2026-05-01T12:00:00.000Z'),
 * );
 * assert.equal(event.time, '2026-05-01T12:00:00.000Z');
 * assert.throws(
 *   () => normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success', requestID: 'r-1' } as never),
 *   (error) => AuditError.isInstance(error) && error.code === 'ERR_AUDIT_INVALID_EVENT',
 * );
 * ```
 */
export function normalizeEvent(input: AuditEventInput, now: () => number = Date.now): AuditEvent {
  const fast = fastNormalize(input, now);
  if (fast) return fast;
  const parsed = auditEventInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys')
      throw new AuditError(
        'ERR_AUDIT_INVALID_EVENT',
        `invalid audit event: unknown field "${[...issue.path, issue.keys[0]].join('.')}" (free-form details go in data)`,
      );
    throw new AuditError(
      'ERR_AUDIT_INVALID_EVENT',
      `invalid audit event at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const value = parsed.data;
  const ms = value.time === undefined || value.id === undefined ? now() : 0;
  return {
    ...value,
    id: value.id ?? newEventId(ms),
    time: value.time ?? new Date(ms).toISOString(),
  };
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
