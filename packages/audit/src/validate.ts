/**
 * The rules of an audit event, checked by hand (no schema library, so a project on any zod
 * gets none from us): one pass that checks every field, refuses fields it does not know and
 * builds a fresh event with its keys in canonical order, ready to be hashed as it is.
 */
import { AuditError } from './errors.js';
import {
  ACTION_PATTERN,
  type Actor,
  type AuditEvent,
  type AuditEventInput,
  type Geo,
  newEventId,
  type Outcome,
  type Target,
} from './event.js';
import { isIpLiteral } from './ip.js';

// Every object of the event is strict: a field the model does not know is refused (and
// named), never dropped: a misspelt `requestID` must not vanish from the log. Free-form
// details go in `data`.

/**
 * The actor types, in the order the docs list them.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { ACTOR_TYPES } from '@fluxel/audit';
 *
 * assert.deepEqual(ACTOR_TYPES, ['user', 'device', 'service', 'system']);
 * ```
 */
export const ACTOR_TYPES = ['user', 'device', 'service', 'system'] as const;

/**
 * The outcomes: `denied` is an authorisation refusal, `failure` any other failure.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { OUTCOMES } from '@fluxel/audit';
 *
 * assert.deepEqual(OUTCOMES, ['success', 'failure', 'denied']);
 * assert.ok(!(OUTCOMES as readonly string[]).includes('ok'));
 * ```
 */
export const OUTCOMES = ['success', 'failure', 'denied'] as const;

/**
 * What is wrong with an event: the first problem found.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type AuditEventIssue, validateAuditEventInput } from '@fluxel/audit';
 *
 * const issue: AuditEventIssue | undefined = validateAuditEventInput({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann', department: 'it' },
 *   action: 'auth.login',
 *   outcome: 'success',
 * });
 * assert.deepEqual(issue, { path: 'actor.department', kind: 'unknown-field', message: 'unknown field (free-form details go in data)' });
 * ```
 */
export interface AuditEventIssue {
  /** Dotted path of the offending field, e.g. `actor.ip`; `''` for the event itself. */
  readonly path: string;
  /** `unknown-field`: not part of the event model; `invalid`: missing or breaks a rule. */
  readonly kind: 'unknown-field' | 'invalid';
  /** The rule it breaks, for people, e.g. `at most 128 characters`. */
  readonly message: string;
}

/** Thrown inside the validator only; the exported functions turn it into their result. */
class Refusal {
  constructor(readonly issue: AuditEventIssue) {}
}

function refuse(path: string, message: string): never {
  throw new Refusal({ path, kind: 'invalid', message });
}

function refuseUnknown(path: string, key: string): never {
  throw new Refusal({
    path: path === '' ? key : `${path}.${key}`,
    kind: 'unknown-field',
    message: 'unknown field (free-form details go in data)',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (!isObject(value)) refuse(path, value === undefined ? 'required' : 'expected an object');
  return value;
}

function text(value: unknown, path: string, min: number, max: number): string {
  if (typeof value !== 'string')
    refuse(path, value === undefined ? 'required' : 'expected a string');
  if (value.length < min) refuse(path, 'must not be empty');
  if (value.length > max) refuse(path, `at most ${max} characters`);
  return value;
}

function optionalText(value: unknown, path: string, max: number): string | undefined {
  return value === undefined ? undefined : text(value, path, 0, max);
}

// Unknown fields, by a switch over the names: cheaper here than a Set lookup per key. `for…in`
// as the check of an object's fields: own and inherited enumerable string keys.
function unknownEventKey(value: Record<string, unknown>): string | undefined {
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
        return key;
    }
  }
  return undefined;
}
function unknownActorKey(value: Record<string, unknown>): string | undefined {
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
        return key;
    }
  }
  return undefined;
}
function unknownKey(value: Record<string, unknown>, a: string, b: string, c: string, d = a) {
  for (const key in value) if (key !== a && key !== b && key !== c && key !== d) return key;
  return undefined;
}

const knownActions = new Set<string>();

/** A dotted lower-case verb of at most 128 characters; recent valid actions are remembered. */
function validAction(action: string): boolean {
  if (knownActions.has(action)) return true;
  if (action.length > 128 || !ACTION_PATTERN.test(action)) return false;
  if (knownActions.size >= 1024) knownActions.clear();
  knownActions.add(action);
  return true;
}

const COUNTRY = /^[A-Z]{2}$/;

function coordinate(value: unknown, path: string, limit: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    refuse(path, 'expected a finite number');
  if (value < -limit || value > limit) refuse(path, `between -${limit} and ${limit}`);
  return value;
}

function readGeo(value: unknown): Geo {
  const g = object(value, 'actor.geo');
  const unknown = unknownKey(g, 'city', 'country', 'lat', 'lon');
  if (unknown !== undefined) refuseUnknown('actor.geo', unknown);
  const country = g.country;
  if (country !== undefined && (typeof country !== 'string' || !COUNTRY.test(country)))
    refuse('actor.geo.country', 'an upper-case ISO 3166-1 alpha-2 code, e.g. "DE"');
  const city = optionalText(g.city, 'actor.geo.city', 200);
  const lat = coordinate(g.lat, 'actor.geo.lat', 90);
  const lon = coordinate(g.lon, 'actor.geo.lon', 180);
  const geo: Geo = {};
  if (city !== undefined) geo.city = city;
  if (country !== undefined) geo.country = country;
  if (lat !== undefined) geo.lat = lat;
  if (lon !== undefined) geo.lon = lon;
  return geo;
}

const IP_RULE = 'one IPv4 or IPv6 address (not "unknown" or a forwarded-for list)';

function readActor(value: unknown, input: boolean): Actor {
  const a = object(value, 'actor');
  const unknown = unknownActorKey(a);
  if (unknown !== undefined) refuseUnknown('actor', unknown);
  const type = a.type;
  if (type !== 'user' && type !== 'device' && type !== 'service' && type !== 'system')
    refuse('actor.type', 'one of user, device, service, system');
  const id = text(a.id, 'actor.id', 1, 512);
  const name = optionalText(a.name, 'actor.name', 512);
  const ip = a.ip;
  if (ip !== undefined) {
    // When appended it becomes ECS `source.ip`; stored, it may be pseudonymised or encrypted.
    if (input) {
      if (typeof ip !== 'string' || !isIpLiteral(ip)) refuse('actor.ip', `must be ${IP_RULE}`);
    } else text(ip, 'actor.ip', 0, 64);
  }
  const userAgent = optionalText(a.userAgent, 'actor.userAgent', 1024);
  const geo = a.geo === undefined ? undefined : readGeo(a.geo);
  // Keys in canonical (sorted) order, so that the event can be stringified as it is.
  const actor = {} as Actor;
  if (geo !== undefined) actor.geo = geo;
  actor.id = id;
  if (ip !== undefined) actor.ip = ip as string;
  if (name !== undefined) actor.name = name;
  actor.type = type;
  if (userAgent !== undefined) actor.userAgent = userAgent;
  return actor;
}

function readTarget(value: unknown): Target {
  const t = object(value, 'target');
  const unknown = unknownKey(t, 'id', 'name', 'type');
  if (unknown !== undefined) refuseUnknown('target', unknown);
  const type = text(t.type, 'target.type', 1, 128);
  const id = text(t.id, 'target.id', 1, 512);
  const name = optionalText(t.name, 'target.name', 512);
  const target = { id } as Target;
  if (name !== undefined) target.name = name;
  target.type = type;
  return target;
}

/**
 * A record in the sense of the previous zod schema (`z.record(z.string(), z.unknown())`): an
 * object, not an array, whose constructor (if it has a callable one) is `Object`-like — a
 * plain or null-prototype object, not a class instance — and no enumerable symbol keys.
 */
function readData(value: unknown): Record<string, unknown> {
  if (!isObject(value)) refuse('data', 'expected a plain object');
  const ctor = value.constructor;
  if (ctor !== Object && typeof ctor === 'function') {
    const proto: unknown = ctor.prototype;
    if (!isObject(proto) || !Object.hasOwn(proto, 'isPrototypeOf'))
      refuse('data', 'expected a plain object');
  }
  for (const symbol of Object.getOwnPropertySymbols(value))
    if (Object.prototype.propertyIsEnumerable.call(value, symbol))
      refuse('data', 'keys must be strings');
  return { ...value };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// eslint-disable-next-line security/detect-unsafe-regex -- anchored, fixed-width fields and one optional fraction that starts with a literal dot: linear time
const ISO_UTC = /^(\d{4})-(\d\d)-(\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$/;

/**
 * ISO 8601 / RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, a real calendar date
 * (Gregorian leap years), seconds required, no offset other than `Z`, no leap second.
 */
function isIsoUtc(value: string): boolean {
  const m = ISO_UTC.exec(value);
  if (m === null) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(m[1]), month);
}

const TIME_RULE = 'ISO 8601 UTC with seconds, e.g. 2026-05-01T12:00:00.000Z';

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

/**
 * The one validator. `input`: the rules of what `append` takes (`id`, `time` optional,
 * `actor.ip` an address literal); otherwise those of a stored event. With `now`, a missing
 * `id` and `time` are filled in. Throws a {@link Refusal}.
 */
function readEvent(value: unknown, input: boolean, now?: () => number): AuditEvent {
  const e = object(value, '');
  const unknown = unknownEventKey(e);
  if (unknown !== undefined) refuseUnknown('', unknown);
  let id = e.id as string | undefined;
  if (id !== undefined || !input) text(id, 'id', 1, 128);
  let time = e.time as string | undefined;
  if (time !== undefined || !input) {
    if (typeof time !== 'string')
      refuse('time', time === undefined ? 'required' : 'expected a string');
    if (!isIsoUtc(time)) refuse('time', TIME_RULE);
  }
  const tenant = text(e.tenant, 'tenant', 1, 256);
  const actor = readActor(e.actor, input);
  const action = e.action;
  if (typeof action !== 'string')
    refuse('action', action === undefined ? 'required' : 'expected a string');
  if (!validAction(action))
    refuse('action', 'a dotted lower-case verb of at most 128 characters, e.g. auth.login');
  const target = e.target === undefined ? undefined : readTarget(e.target);
  const outcome = e.outcome;
  if (outcome !== 'success' && outcome !== 'failure' && outcome !== 'denied')
    refuse('outcome', 'one of success, failure, denied');
  const reason = optionalText(e.reason, 'reason', 2048);
  const requestId = optionalText(e.requestId, 'requestId', 256);
  const data = e.data === undefined ? undefined : readData(e.data);
  if (now !== undefined && (id === undefined || time === undefined)) {
    const ms = now();
    id ??= newEventId(ms);
    time ??= isoTime(ms);
  }
  // Keys in canonical (sorted) order, so canonicalEvent can stringify it as it is.
  const event = { action, actor } as AuditEvent;
  if (data !== undefined) event.data = data;
  if (id !== undefined) event.id = id;
  event.outcome = outcome as Outcome;
  if (reason !== undefined) event.reason = reason;
  if (requestId !== undefined) event.requestId = requestId;
  if (target !== undefined) event.target = target;
  event.tenant = tenant;
  if (time !== undefined) event.time = time;
  return event;
}

function invalid(issue: AuditEventIssue): AuditError {
  return new AuditError(
    'ERR_AUDIT_INVALID_EVENT',
    issue.kind === 'unknown-field'
      ? `invalid audit event: unknown field "${issue.path}" (free-form details go in data)`
      : `invalid audit event at ${issue.path || '(root)'}: ${issue.message}`,
  );
}

function parse(value: unknown, input: boolean, now?: () => number): AuditEvent {
  try {
    return readEvent(value, input, now);
  } catch (error) {
    if (error instanceof Refusal) throw invalid(error.issue);
    throw error;
  }
}

function validate(value: unknown, input: boolean): AuditEventIssue | undefined {
  try {
    readEvent(value, input);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.issue;
    throw error;
  }
}

/**
 * Checks a stored event (every field the log fills in present) and returns a copy.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` naming the first offending field.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, parseAuditEvent } from '@fluxel/audit';
 *
 * const stored = {
 *   id: '01JTB7Q8Z5W4X3V2T1S0R9Q8P7',
 *   time: '2026-05-01T12:00:00.000Z',
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example' },
 *   action: 'auth.login',
 *   outcome: 'success',
 * };
 * assert.deepEqual(parseAuditEvent(stored), stored);
 * assert.throws(
 *   () => parseAuditEvent({ ...stored, requestID: 'r-1' }),
 *   (error) => AuditError.isInstance(error) && /unknown field "requestID"/.test(error.message),
 * );
 * ```
 */
export function parseAuditEvent(value: unknown): AuditEvent {
  return parse(value, false);
}

/**
 * Checks what a caller would pass to `append` and returns a copy; `id` and `time` stay
 * absent when they are (`normalizeEvent` fills them in).
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` naming the first offending field.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, parseAuditEventInput } from '@fluxel/audit';
 *
 * const input = { tenant: 'acme', actor: { type: 'user', id: 'ann', ip: '192.0.2.10' }, action: 'auth.login', outcome: 'failure' };
 * assert.deepEqual(parseAuditEventInput(input), input);
 * // One address literal only: an X-Forwarded-For list is refused.
 * assert.throws(
 *   () => parseAuditEventInput({ ...input, actor: { type: 'user', id: 'ann', ip: '192.0.2.10, 10.0.0.1' } }),
 *   (error) => AuditError.isInstance(error) && error.message.startsWith('invalid audit event at actor.ip'),
 * );
 * ```
 */
export function parseAuditEventInput(value: unknown): AuditEventInput {
  return parse(value, true);
}

/**
 * The first problem of a stored event, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { validateAuditEvent } from '@fluxel/audit';
 *
 * const stored = {
 *   id: '01JTB7Q8Z5W4X3V2T1S0R9Q8P7',
 *   time: '2026-05-01T12:00:00.000Z',
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example', geo: { country: 'DE' } },
 *   action: 'auth.login',
 *   outcome: 'success',
 * };
 * assert.equal(validateAuditEvent(stored), undefined);
 * assert.equal(validateAuditEvent({ ...stored, time: '2026-05-01T12:00:00+02:00' })?.path, 'time');
 * assert.equal(validateAuditEvent({ ...stored, actor: { type: 'user', id: 'ann', geo: { country: 'de' } } })?.path, 'actor.geo.country');
 * ```
 */
export function validateAuditEvent(value: unknown): AuditEventIssue | undefined {
  return validate(value, false);
}

/**
 * The first problem of an event as passed to `append`, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { validateAuditEventInput } from '@fluxel/audit';
 *
 * const input = { tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' };
 * assert.equal(validateAuditEventInput(input), undefined);
 * assert.deepEqual(validateAuditEventInput({ ...input, action: 'Login' }), {
 *   path: 'action',
 *   kind: 'invalid',
 *   message: 'a dotted lower-case verb of at most 128 characters, e.g. auth.login',
 * });
 * ```
 */
export function validateAuditEventInput(value: unknown): AuditEventIssue | undefined {
  return validate(value, true);
}

/**
 * Validates an input event and fills in `id` and `time`.
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_EVENT` naming the first offending field.
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
  return parse(input, true, now);
}

// The lists above are the types' members, spelled out for runtime use; this fails to compile
// if they ever drift apart.
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const listsMatchTypes: [
  Same<(typeof ACTOR_TYPES)[number], Actor['type']>,
  Same<(typeof OUTCOMES)[number], Outcome>,
] = [true, true];
void listsMatchTypes;
