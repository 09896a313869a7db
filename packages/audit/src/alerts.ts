/**
 * Alert rules evaluated in-process over the event stream. Rules are plain objects with an
 * `observe(event)` method and bounded state; they judge by event time, so recorded
 * sequences replay deterministically. Each alert becomes an audit event itself
 * (`alert.<rule>`), and delivery hooks (webhook, e-mail) are told about it.
 */
import { toHex, utf8 } from './encoding.js';
import { AuditError } from './errors.js';
import type { AuditEvent, AuditEventInput } from './event.js';
import { distanceKm } from './geo.js';
import type { AuditLog } from './log.js';
import { hmacSha256 } from './primitives.js';

/**
 * How serious an alert is.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { AlertSeverity } from '@fluxel/audit';
 *
 * const severity: AlertSeverity = 'high';
 * assert.ok(['low', 'medium', 'high', 'critical'].includes(severity));
 * ```
 */
export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

/**
 * What a rule reports.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type Alert, alertEvent, normalizeEvent } from '@fluxel/audit';
 *
 * const login = normalizeEvent({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann@acme.example' },
 *   action: 'auth.login',
 *   outcome: 'failure',
 * });
 * const alert: Alert = {
 *   rule: 'brute-force-account',
 *   severity: 'high',
 *   summary: '5 failed logins in 5 minutes',
 *   subject: { type: 'account', id: 'acme/ann@acme.example' },
 *   events: [login.id],
 * };
 * assert.equal(alertEvent(alert, login, Date.now()).action, 'alert.brute-force-account');
 * ```
 */
export interface Alert {
  /** The rule's name; the alert event's action is `alert.<rule>`. */
  readonly rule: string;
  readonly severity: AlertSeverity;
  readonly summary: string;
  /** What the alert is about: an account, an IP, a license… */
  readonly subject: { readonly type: string; readonly id: string };
  /** Ids of the events that triggered it. */
  readonly events: readonly string[];
  readonly details?: Record<string, unknown>;
}

/**
 * A rule: sees every event in order, returns alerts (or nothing).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, type AlertRule, normalizeEvent } from '@fluxel/audit';
 *
 * // A custom rule: every export of the audit data is worth a look.
 * const exports: AlertRule = {
 *   name: 'data-export',
 *   observe: (event) =>
 *     event.action === 'data.export'
 *       ? [{ rule: 'data-export', severity: 'medium', summary: 'data exported', subject: { type: 'tenant', id: event.tenant }, events: [event.id] }]
 *       : undefined,
 * };
 * const engine = new AlertEngine({ rules: [exports] });
 * const alerts = engine.observe(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'data.export', outcome: 'success' }),
 * );
 * assert.equal(alerts[0]?.action, 'alert.data-export');
 * ```
 */
export interface AlertRule {
  readonly name: string;
  observe(event: AuditEvent): Alert[] | undefined;
}

function ms(event: AuditEvent): number {
  return Date.parse(event.time);
}

/** A map that forgets its oldest keys beyond `max` entries. */
class Bounded<V> extends Map<string, V> {
  constructor(readonly max: number) {
    super();
  }
  override set(key: string, value: V): this {
    if (!this.has(key) && this.size >= this.max) {
      const oldest = this.keys().next().value as string;
      this.delete(oldest);
    }
    return super.set(key, value);
  }
}

/**
 * Options shared by the login rules.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { bruteForce, type LoginRuleOptions, normalizeEvent } from '@fluxel/audit';
 *
 * // Count SSO and password logins alike, per e-mail address across tenants.
 * const options: LoginRuleOptions = {
 *   loginActions: ['auth.login', 'auth.sso'],
 *   account: (event) => event.actor.id,
 * };
 * const rule = bruteForce({ ...options, threshold: 2 });
 * const fail = (action: string) =>
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action, outcome: 'failure' });
 * assert.equal(rule.observe(fail('auth.login')), undefined);
 * assert.equal(rule.observe(fail('auth.sso'))?.[0]?.rule, 'brute-force-account');
 * ```
 */
export interface LoginRuleOptions {
  /** Actions that are login attempts (default `['auth.login']`). */
  readonly loginActions?: readonly string[];
  /** The account an event concerns (default `<tenant>/<actor.id>`). */
  readonly account?: (event: AuditEvent) => string;
  /** Most accounts/IPs remembered (default 100 000). */
  readonly maxKeys?: number;
}

function loginRule(options: LoginRuleOptions) {
  const actions = new Set(options.loginActions ?? ['auth.login']);
  return {
    isLogin: (e: AuditEvent) => actions.has(e.action),
    account: options.account ?? ((e: AuditEvent) => `${e.tenant}/${e.actor.id}`),
    maxKeys: options.maxKeys ?? 100_000,
  };
}

function isFailure(e: AuditEvent): boolean {
  return e.outcome !== 'success';
}

/**
 * N failed logins per account (`by: 'account'`) or per source IP (`by: 'ip'`) within a
 * window. Fires once when the threshold is reached, then stays quiet for a window.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { bruteForce, normalizeEvent } from '@fluxel/audit';
 *
 * const rule = bruteForce({ threshold: 3, windowMs: 60_000 });
 * const failedLogin = () =>
 *   normalizeEvent({
 *     tenant: 'acme',
 *     actor: { type: 'user', id: 'ann@acme.example', ip: '192.0.2.10' },
 *     action: 'auth.login',
 *     outcome: 'failure',
 *   });
 * assert.equal(rule.observe(failedLogin()), undefined);
 * assert.equal(rule.observe(failedLogin()), undefined);
 * const [alert] = rule.observe(failedLogin()) ?? [];
 * assert.equal(alert?.rule, 'brute-force-account');
 * assert.equal(alert?.events.length, 3);
 * ```
 */
export function bruteForce(
  options: LoginRuleOptions & { threshold?: number; windowMs?: number; by?: 'account' | 'ip' } = {},
): AlertRule {
  const base = loginRule(options);
  const threshold = options.threshold ?? 5;
  const windowMs = options.windowMs ?? 5 * 60_000;
  const by = options.by ?? 'account';
  const state = new Bounded<{ times: number[]; ids: string[]; quietUntil: number }>(base.maxKeys);
  const name = by === 'account' ? 'brute-force-account' : 'brute-force-ip';
  return {
    name,
    observe(event) {
      if (!base.isLogin(event) || !isFailure(event)) return undefined;
      const key = by === 'account' ? base.account(event) : event.actor.ip;
      if (key === undefined) return undefined;
      const t = ms(event);
      const s = state.get(key) ?? { times: [], ids: [], quietUntil: 0 };
      while (s.times.length > 0 && (s.times[0] as number) <= t - windowMs) {
        s.times.shift();
        s.ids.shift();
      }
      s.times.push(t);
      s.ids.push(event.id);
      state.set(key, s);
      if (s.times.length < threshold || t < s.quietUntil) return undefined;
      s.quietUntil = t + windowMs;
      return [
        {
          rule: name,
          severity: 'high',
          summary: `${s.times.length} failed logins for ${by} ${key} within ${windowMs / 1000} s`,
          subject: { type: by, id: key },
          events: [...s.ids],
          details: { failures: s.times.length, windowMs },
        },
      ];
    },
  };
}

/**
 * Password spraying: failed logins for many distinct accounts from one IP within a window.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, passwordSpraying } from '@fluxel/audit';
 *
 * const rule = passwordSpraying({ accounts: 3 });
 * const fired = ['ann', 'bob', 'cid'].map((id) =>
 *   rule.observe(
 *     normalizeEvent({
 *       tenant: 'acme',
 *       actor: { type: 'user', id, ip: '203.0.113.7' },
 *       action: 'auth.login',
 *       outcome: 'failure',
 *     }),
 *   ),
 * );
 * assert.equal(fired[2]?.[0]?.rule, 'password-spraying');
 * ```
 */
export function passwordSpraying(
  options: LoginRuleOptions & { accounts?: number; windowMs?: number } = {},
): AlertRule {
  const base = loginRule(options);
  const accounts = options.accounts ?? 10;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const state = new Bounded<{ seen: Map<string, number>; quietUntil: number }>(base.maxKeys);
  return {
    name: 'password-spraying',
    observe(event) {
      if (!base.isLogin(event) || !isFailure(event) || event.actor.ip === undefined)
        return undefined;
      const ip = event.actor.ip;
      const t = ms(event);
      const s = state.get(ip) ?? { seen: new Map<string, number>(), quietUntil: 0 };
      for (const [account, at] of s.seen) if (at <= t - windowMs) s.seen.delete(account);
      s.seen.delete(base.account(event));
      s.seen.set(base.account(event), t);
      state.set(ip, s);
      if (s.seen.size < accounts || t < s.quietUntil) return undefined;
      s.quietUntil = t + windowMs;
      return [
        {
          rule: 'password-spraying',
          severity: 'high',
          summary: `failed logins for ${s.seen.size} accounts from ${ip} within ${windowMs / 1000} s`,
          subject: { type: 'ip', id: ip },
          events: [event.id],
          details: { accounts: s.seen.size, windowMs },
        },
      ];
    },
  };
}

/**
 * A successful login after at least N failures for the account within a window.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, successAfterFailures } from '@fluxel/audit';
 *
 * const rule = successAfterFailures({ failures: 2 });
 * const login = (outcome: 'success' | 'failure') =>
 *   rule.observe(
 *     normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome }),
 *   );
 * login('failure');
 * login('failure');
 * assert.equal(login('success')?.[0]?.rule, 'success-after-failures');
 * ```
 */
export function successAfterFailures(
  options: LoginRuleOptions & { failures?: number; windowMs?: number } = {},
): AlertRule {
  const base = loginRule(options);
  const failures = options.failures ?? 3;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const state = new Bounded<number[]>(base.maxKeys);
  return {
    name: 'success-after-failures',
    observe(event) {
      if (!base.isLogin(event)) return undefined;
      const key = base.account(event);
      const t = ms(event);
      const times = (state.get(key) ?? []).filter((x) => x > t - windowMs);
      if (isFailure(event)) {
        times.push(t);
        state.set(key, times);
        return undefined;
      }
      state.delete(key);
      if (times.length < failures) return undefined;
      return [
        {
          rule: 'success-after-failures',
          severity: 'high',
          summary: `login of ${key} succeeded after ${times.length} failures`,
          subject: { type: 'account', id: key },
          events: [event.id],
          details: { failures: times.length, windowMs },
        },
      ];
    },
  };
}

/**
 * A successful login from a country the account has not logged in from before.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { newCountry, normalizeEvent } from '@fluxel/audit';
 *
 * const rule = newCountry();
 * const loginFrom = (country: string) =>
 *   rule.observe(
 *     normalizeEvent({
 *       tenant: 'acme',
 *       actor: { type: 'user', id: 'ann', geo: { country } },
 *       action: 'auth.login',
 *       outcome: 'success',
 *     }),
 *   );
 * assert.equal(loginFrom('DE'), undefined); // the first country is learnt
 * assert.equal(loginFrom('DE'), undefined);
 * assert.equal(loginFrom('BR')?.[0]?.rule, 'new-country');
 * ```
 */
export function newCountry(options: LoginRuleOptions & { maxCountries?: number } = {}): AlertRule {
  const base = loginRule(options);
  const state = new Bounded<Set<string>>(base.maxKeys);
  return {
    name: 'new-country',
    observe(event) {
      const country = event.actor.geo?.country;
      if (!base.isLogin(event) || isFailure(event) || !country) return undefined;
      const key = base.account(event);
      const seen = state.get(key);
      if (!seen) {
        state.set(key, new Set([country]));
        return undefined;
      }
      if (seen.has(country)) return undefined;
      const known = [...seen];
      if (seen.size < (options.maxCountries ?? 50)) seen.add(country);
      return [
        {
          rule: 'new-country',
          severity: 'medium',
          summary: `${key} logged in from ${country} for the first time (known: ${known.join(', ')})`,
          subject: { type: 'account', id: key },
          events: [event.id],
          details: { country, known },
        },
      ];
    },
  };
}

/**
 * Two successful logins of one account from places farther apart than `maxKmh` allows in
 * the time between them (default 1000 km/h; distances under `minKm`, default 100, ignored).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { impossibleTravel, normalizeEvent, offlineGeoResolver } from '@fluxel/audit';
 *
 * const rule = impossibleTravel({ maxKmh: 1000 });
 * const loginAt = (ip: string, time: string) =>
 *   rule.observe(
 *     normalizeEvent({
 *       time,
 *       tenant: 'acme',
 *       actor: { type: 'user', id: 'ann', ip, geo: offlineGeoResolver.lookup(ip) },
 *       action: 'auth.login',
 *       outcome: 'success',
 *     }),
 *   );
 * loginAt('192.0.2.10', '2026-05-01T12:00:00.000Z'); // Berlin
 * const alerts = loginAt('203.0.113.7', '2026-05-01T13:00:00.000Z'); // Sydney, an hour later
 * assert.equal(alerts?.[0]?.rule, 'impossible-travel');
 * ```
 */
export function impossibleTravel(
  options: LoginRuleOptions & { maxKmh?: number; minKm?: number } = {},
): AlertRule {
  const base = loginRule(options);
  const maxKmh = options.maxKmh ?? 1000;
  const minKm = options.minKm ?? 100;
  const state = new Bounded<{ lat: number; lon: number; t: number; id: string; where: string }>(
    base.maxKeys,
  );
  return {
    name: 'impossible-travel',
    observe(event) {
      const geo = event.actor.geo;
      if (
        !base.isLogin(event) ||
        isFailure(event) ||
        geo?.lat === undefined ||
        geo.lon === undefined
      )
        return undefined;
      const key = base.account(event);
      const t = ms(event);
      const here = {
        lat: geo.lat,
        lon: geo.lon,
        t,
        id: event.id,
        where: geo.city ?? geo.country ?? `${geo.lat},${geo.lon}`,
      };
      const last = state.get(key);
      state.set(key, here);
      if (!last) return undefined;
      const km = distanceKm(last, here);
      if (km < minKm) return undefined;
      const hours = Math.max(t - last.t, 1) / 3_600_000;
      const kmh = km / hours;
      if (kmh <= maxKmh) return undefined;
      return [
        {
          rule: 'impossible-travel',
          severity: 'high',
          summary: `${key} logged in from ${last.where} and ${here.where} (${Math.round(km)} km) ${Math.round(hours * 60)} min apart: ${Math.round(kmh)} km/h`,
          subject: { type: 'account', id: key },
          events: [last.id, event.id],
          details: { km: Math.round(km), kmh: Math.round(kmh) },
        },
      ];
    },
  };
}

/**
 * Any activation attempt on a license that was already activated (seen here, or reported
 * by the event as `reason` mentioning "spent"/"already activated").
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, secondActivation } from '@fluxel/audit';
 *
 * const rule = secondActivation();
 * const activate = () =>
 *   rule.observe(
 *     normalizeEvent({
 *       tenant: 'acme',
 *       actor: { type: 'device', id: 'laptop-7' },
 *       action: 'license.activate',
 *       target: { type: 'license', id: 'LIC-1234' },
 *       outcome: 'success',
 *     }),
 *   );
 * assert.equal(activate(), undefined);
 * assert.equal(activate()?.[0]?.rule, 'second-activation');
 * ```
 */
export function secondActivation(options: { action?: string; maxKeys?: number } = {}): AlertRule {
  const action = options.action ?? 'license.activate';
  const activated = new Bounded<string>(options.maxKeys ?? 1_000_000);
  return {
    name: 'second-activation',
    observe(event) {
      if (event.action !== action || !event.target) return undefined;
      const key = `${event.tenant}/${event.target.type}/${event.target.id}`;
      const first = activated.get(key);
      const spent =
        event.outcome !== 'success' && /spent|already activated/i.test(event.reason ?? '');
      if (first === undefined && !spent) {
        if (event.outcome === 'success') activated.set(key, event.id);
        return undefined;
      }
      return [
        {
          rule: 'second-activation',
          severity: 'critical',
          summary: `activation attempt on already activated ${event.target.type} ${event.target.id} by ${event.actor.type}:${event.actor.id}${event.actor.ip ? ` from ${event.actor.ip}` : ''}`,
          subject: { type: event.target.type, id: event.target.id },
          events: first !== undefined ? [first, event.id] : [event.id],
          details: { outcome: event.outcome },
        },
      ];
    },
  };
}

/** `text` as a literal inside a regular expression. */
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * Admin role changes (grant, revoke, change), successful or attempted.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { adminRoleChange, normalizeEvent } from '@fluxel/audit';
 *
 * const rule = adminRoleChange();
 * const alerts = rule.observe(
 *   normalizeEvent({
 *     tenant: 'acme',
 *     actor: { type: 'user', id: 'root@acme.example' },
 *     action: 'admin.role.grant',
 *     target: { type: 'user', id: 'bob@acme.example' },
 *     outcome: 'success',
 *   }),
 * );
 * assert.equal(alerts?.[0]?.rule, 'admin-role-change');
 * ```
 */
export function adminRoleChange(options: { actions?: readonly string[] } = {}): AlertRule {
  const patterns = (options.actions ?? ['admin.role.*', 'iam.role.*', 'user.role.*']).map(
    (p) =>
      // eslint-disable-next-line security/detect-non-literal-regexp -- every character but `*` is escaped
      new RegExp(`^${p.split('*').map(escapeRegExp).join('[a-z0-9_.-]+')}$`),
  );
  return {
    name: 'admin-role-change',
    observe(event) {
      if (!patterns.some((p) => p.test(event.action))) return undefined;
      return [
        {
          rule: 'admin-role-change',
          severity: event.outcome === 'success' ? 'high' : 'medium',
          summary: `${event.action} (${event.outcome}) on ${event.target ? `${event.target.type}:${event.target.id}` : 'unknown'} by ${event.actor.type}:${event.actor.id}`,
          subject: event.target
            ? { type: event.target.type, id: event.target.id }
            : { type: 'actor', id: event.actor.id },
          events: [event.id],
          details: { action: event.action, outcome: event.outcome },
        },
      ];
    },
  };
}

/**
 * The default rule set with default thresholds.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, defaultRules } from '@fluxel/audit';
 *
 * const rules = defaultRules();
 * assert.ok(rules.some((rule) => rule.name === 'password-spraying'));
 * const engine = new AlertEngine({ rules }); // the same as `new AlertEngine()`
 * assert.equal(engine.rules.length, rules.length);
 * ```
 */
export function defaultRules(): AlertRule[] {
  return [
    bruteForce({ by: 'account' }),
    bruteForce({ by: 'ip', threshold: 20 }),
    passwordSpraying(),
    successAfterFailures(),
    newCountry(),
    impossibleTravel(),
    secondActivation(),
    adminRoleChange(),
  ];
}

/**
 * The audit event that records an alert.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { alertEvent, normalizeEvent } from '@fluxel/audit';
 *
 * const source = normalizeEvent({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'root' },
 *   action: 'admin.role.grant',
 *   outcome: 'success',
 * });
 * const input = alertEvent(
 *   { rule: 'admin-role-change', severity: 'medium', summary: 'role granted', subject: { type: 'user', id: 'bob' }, events: [source.id] },
 *   source,
 *   Date.parse('2026-05-01T12:00:00.000Z'),
 * );
 * assert.equal(input.tenant, 'acme');
 * assert.deepEqual(input.actor, { type: 'system', id: 'fluxel-audit/alerts' });
 * assert.equal((input.data as { severity: string }).severity, 'medium');
 * ```
 */
export function alertEvent(alert: Alert, source: AuditEvent, now: number): AuditEventInput {
  return {
    time: new Date(now).toISOString(),
    tenant: source.tenant,
    actor: { type: 'system', id: 'fluxel-audit/alerts' },
    action: `alert.${alert.rule}`,
    target: { type: alert.subject.type, id: alert.subject.id },
    outcome: 'success',
    reason: alert.summary,
    data: {
      severity: alert.severity,
      events: [...alert.events],
      ...(alert.details ? { details: alert.details } : {}),
    },
  };
}

/**
 * Receives each alert event after it was recorded.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, type AlertHook, AuditLog, bruteForce, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const seen: string[] = [];
 * const toChat: AlertHook = async (alert) => {
 *   seen.push(`${alert.action}: ${alert.reason}`);
 * };
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const engine = new AlertEngine({ rules: [bruteForce({ threshold: 1 })], hooks: [toChat] });
 * engine.attach(log);
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' });
 * await engine.settled();
 * await log.close();
 * assert.equal(seen.length, 1);
 * assert.match(seen[0] ?? '', /^alert\.brute-force-account/);
 * ```
 */
export type AlertHook = (alert: AuditEvent) => Promise<void>;

/**
 * Options of {@link AlertEngine}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, type AlertEngineOptions, bruteForce, newCountry, normalizeEvent } from '@fluxel/audit';
 *
 * const options: AlertEngineOptions = {
 *   rules: [bruteForce({ threshold: 1 }), newCountry()],
 *   now: () => Date.parse('2026-05-01T12:00:00.000Z'),
 *   onHookError: (error) => console.error('alert hook failed', error),
 * };
 * const [alert] = new AlertEngine(options).observe(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' }),
 * );
 * assert.equal(alert?.time, '2026-05-01T12:00:00.000Z');
 * ```
 */
export interface AlertEngineOptions {
  readonly rules?: readonly AlertRule[];
  readonly hooks?: readonly AlertHook[];
  /** The clock for alert times (default `Date.now`). */
  readonly now?: () => number;
  /** Told when a hook fails (after its retries). */
  readonly onHookError?: (error: unknown, alert: AuditEvent) => void;
}

/**
 * Runs rules over events. Use {@link AlertEngine.observe} directly over any event stream,
 * or {@link AlertEngine.attach} to a log: alerts are then appended to the log as
 * `alert.<rule>` events and the hooks run after each alert is durable.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, AuditLog, bruteForce, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * const engine = new AlertEngine({ rules: [bruteForce({ threshold: 2 })] });
 * const detach = engine.attach(log);
 * for (let i = 0; i < 2; i++)
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' });
 * await engine.settled(); // the alert is now an event of the log
 * detach();
 * await log.close();
 * assert.ok(store.records.some((record) => record.event?.action === 'alert.brute-force-account'));
 * ```
 */
export class AlertEngine {
  readonly rules: readonly AlertRule[];
  readonly #hooks: readonly AlertHook[];
  readonly #now: () => number;
  readonly #onHookError: ((error: unknown, alert: AuditEvent) => void) | undefined;
  #pending = new Set<Promise<unknown>>();

  constructor(options: AlertEngineOptions = {}) {
    this.rules = options.rules ?? defaultRules();
    this.#hooks = options.hooks ?? [];
    this.#now = options.now ?? Date.now;
    this.#onHookError = options.onHookError;
  }

  /** Evaluates every rule on an event (alert events are ignored) and returns the alert events. */
  observe(event: AuditEvent): AuditEventInput[] {
    if (event.action.startsWith('alert.')) return [];
    const out: AuditEventInput[] = [];
    for (const rule of this.rules) {
      const alerts = rule.observe(event);
      if (alerts) for (const alert of alerts) out.push(alertEvent(alert, event, this.#now()));
    }
    return out;
  }

  /** Evaluates the rules on each committed event of the log and records alerts in it. */
  attach(log: AuditLog): () => void {
    return log.subscribe((records) => {
      for (const record of records) {
        if (!record.event) continue;
        for (const alert of this.observe(record.event)) {
          // Appending inside the listener must not wait for durability (the log waits for us).
          const done = log
            .append(alert)
            .then(async ({ id }) => {
              const stored = { ...(alert as AuditEvent), id };
              await Promise.all(this.#hooks.map((hook) => this.#runHook(hook, stored)));
            })
            .catch((error) => this.#onHookError?.(error, alert as AuditEvent));
          this.#pending.add(done);
          void done.finally(() => this.#pending.delete(done));
        }
      }
    });
  }

  async #runHook(hook: AlertHook, alert: AuditEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await hook(alert);
        return;
      } catch (error) {
        if (attempt >= 3) {
          this.#onHookError?.(error, alert);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /** Resolves when every alert raised so far is recorded and its hooks have run. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/**
 * Options of {@link webhookHook}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { normalizeEvent, webhookHook, type WebhookHookOptions } from '@fluxel/audit';
 *
 * const headers: Headers[] = [];
 * const options: WebhookHookOptions = {
 *   url: 'https://alerts.acme.example/fluxel',
 *   secret: 'a-shared-secret-of-32-characters',
 *   // A stand-in for the receiver; omit `fetch` to use the global one.
 *   fetch: async (_url, init) => {
 *     headers.push(new Headers(init?.headers));
 *     return new Response(null, { status: 204 });
 *   },
 * };
 * await webhookHook(options)(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'system', id: 'fluxel-audit/alerts' }, action: 'alert.new-country', outcome: 'success' }),
 * );
 * assert.match(headers[0]?.get('x-fluxel-signature') ?? '', /^v1=[0-9a-f]{64}$/);
 * ```
 */
export interface WebhookHookOptions {
  readonly url: string;
  /** Shared secret for the `X-Fluxel-Signature` HMAC-SHA-256 header (≥ 16 bytes). */
  readonly secret: Uint8Array | string;
  readonly fetch?: typeof fetch;
  /** Clock in ms, for the signed timestamp. */
  readonly now?: () => number;
}

/**
 * POSTs the alert event as JSON. Headers: `X-Fluxel-Timestamp` (unix seconds) and
 * `X-Fluxel-Signature: v1=<hex HMAC-SHA-256(secret, "<timestamp>.<body>")>`; receivers
 * should reject old timestamps. Non-2xx responses fail (and are retried by the engine).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AlertEngine, AuditLog, adminRoleChange, generateSigningKey, MemoryStore, webhookHook } from '@fluxel/audit';
 *
 * const received: unknown[] = [];
 * const hook = webhookHook({
 *   url: 'https://alerts.acme.example/fluxel',
 *   secret: 'a-shared-secret-of-32-characters',
 *   fetch: async (_url, init) => {
 *     received.push(JSON.parse(String(init?.body)));
 *     return new Response('ok');
 *   },
 * });
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const engine = new AlertEngine({ rules: [adminRoleChange()], hooks: [hook] });
 * engine.attach(log);
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'root' }, action: 'admin.role.grant', outcome: 'success' });
 * await engine.settled();
 * await log.close();
 * assert.equal((received[0] as { action: string }).action, 'alert.admin-role-change');
 * ```
 */
export function webhookHook(options: WebhookHookOptions): AlertHook {
  const secret = typeof options.secret === 'string' ? utf8(options.secret) : options.secret;
  if (secret.length < 16)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'webhook secret must have at least 16 bytes');
  return async (alert) => {
    const body = JSON.stringify(alert);
    const ts = String(Math.floor((options.now ?? Date.now)() / 1000));
    const signature = toHex(hmacSha256(secret, utf8(`${ts}.${body}`)));
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-Fluxel-Timestamp': ts,
        'X-Fluxel-Signature': `v1=${signature}`,
      },
    });
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok)
      throw new AuditError('ERR_AUDIT_SINK_FAILED', `alert webhook answered ${response.status}`);
  };
}

/**
 * An e-mail as handed to a transport.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import type { EmailMessage } from '@fluxel/audit';
 *
 * const message: EmailMessage = {
 *   from: 'audit@acme.example',
 *   to: ['security@acme.example'],
 *   subject: '[audit alert] high: alert.brute-force-account account acme/ann',
 *   text: '5 failed logins in 5 minutes',
 * };
 * assert.equal(message.to.length, 1);
 * ```
 */
export interface EmailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

/**
 * Anything that sends e-mail (an SMTP client, an API client).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type EmailMessage, type EmailTransport, emailHook, normalizeEvent } from '@fluxel/audit';
 *
 * // Wrap your SMTP or mail API client; this one keeps the messages in memory.
 * const outbox: EmailMessage[] = [];
 * const transport: EmailTransport = { send: async (message) => outbox.push(message) };
 * await emailHook({ transport, from: 'audit@acme.example', to: ['soc@acme.example'] })(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'system', id: 'fluxel-audit/alerts' }, action: 'alert.new-country', outcome: 'success' }),
 * );
 * assert.equal(outbox.length, 1);
 * ```
 */
export interface EmailTransport {
  send(message: EmailMessage): Promise<unknown>;
}

/**
 * Sends each alert as a plain-text e-mail through a transport.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { alertEvent, type EmailMessage, emailHook, normalizeEvent } from '@fluxel/audit';
 *
 * const sent: EmailMessage[] = [];
 * const hook = emailHook({
 *   transport: { send: async (message) => sent.push(message) },
 *   from: 'audit@acme.example',
 *   to: ['soc@acme.example'],
 *   subjectPrefix: '[acme audit]',
 * });
 * const login = normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' });
 * const alert = normalizeEvent(
 *   alertEvent({ rule: 'brute-force-account', severity: 'high', summary: 'too many failures', subject: { type: 'account', id: 'acme/ann' }, events: [login.id] }, login, Date.now()),
 * );
 * await hook(alert);
 * assert.equal(sent[0]?.subject, '[acme audit] high: alert.brute-force-account account acme/ann');
 * ```
 */
export function emailHook(options: {
  transport: EmailTransport;
  from: string;
  to: readonly string[];
  subjectPrefix?: string;
}): AlertHook {
  return async (alert) => {
    const severity = String((alert.data as { severity?: string } | undefined)?.severity ?? '');
    await options.transport.send({
      from: options.from,
      to: options.to,
      subject:
        `${options.subjectPrefix ?? '[audit alert]'} ${severity ? `${severity}: ` : ''}${alert.action} ${alert.target ? `${alert.target.type} ${alert.target.id}` : ''}`.trim(),
      text: `${alert.reason ?? alert.action}\n\ntenant: ${alert.tenant}\ntime: ${alert.time}\nevent id: ${alert.id}\n\n${JSON.stringify(alert.data ?? {}, null, 2)}\n`,
    });
  };
}
