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

/** How serious an alert is. */
export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

/** What a rule reports. */
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

/** A rule: sees every event in order, returns alerts (or nothing). */
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

/** Options shared by the login rules. */
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

/** Password spraying: failed logins for many distinct accounts from one IP within a window. */
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

/** A successful login after at least N failures for the account within a window. */
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

/** A successful login from a country the account has not logged in from before. */
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

/** Admin role changes (grant, revoke, change), successful or attempted. */
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

/** The default rule set with default thresholds. */
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

/** The audit event that records an alert. */
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

/** Receives each alert event after it was recorded. */
export type AlertHook = (alert: AuditEvent) => Promise<void>;

/** Options of {@link AlertEngine}. */
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

/** Options of {@link webhookHook}. */
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

/** An e-mail as handed to a transport. */
export interface EmailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

/** Anything that sends e-mail (an SMTP client, an API client). */
export interface EmailTransport {
  send(message: EmailMessage): Promise<unknown>;
}

/** Sends each alert as a plain-text e-mail through a transport. */
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
