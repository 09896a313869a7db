/**
 * The status page's probes and classifiers. The classifiers are pure (state from numbers), so
 * thresholds are tested without a broken relay or an expiring certificate; the probes never
 * throw and never pass on an error's text.
 */
import { X509Certificate } from 'node:crypto';
import type { Database } from '../../server/db.ts';
import { RelayGatewayError } from '../../server/relay-gateway.ts';
import type {
  ComponentId,
  ComponentNote,
  ComponentState,
  ComponentStatus,
  MaintenanceWindow,
  OverallState,
  TlsInfo,
} from './contract.ts';
import { ping } from './store.ts';

const DAY_MS = 86_400_000;

export const THRESHOLDS = {
  /** Certificates with fewer days left are `degraded` (ACME renews at 30). */
  certificateDays: 14,
  /** A relay round trip slower than this is `degraded`. */
  relaySlowMs: 1_000,
  /** Give up on the relay after this long (`outage`). */
  relayTimeoutMs: 2_500,
  databaseTimeoutMs: 2_000,
  /** Held events in the relay's mailbox above this are `degraded`. */
  backlogHigh: 10_000,
  /** An event waiting longer than this (the mailbox keeps 7 days) is `degraded`. */
  backlogOldSeconds: 2 * 86_400,
} as const;

/** How slow the relay may be before it shows `degraded`, and before it counts as down. */
export interface RelayThresholds {
  /** Default `THRESHOLDS.relaySlowMs` (1 s). */
  readonly relaySlowMs: number;
  /** Default `THRESHOLDS.relayTimeoutMs` (2.5 s); also the mailbox statistics' deadline. */
  readonly relayTimeoutMs: number;
}

/**
 * `PortalOptions.statusThresholds` checked and completed with the defaults: whole numbers of
 * milliseconds ≥ 1, the timeout not below the slow mark.
 */
export function relayThresholds(given: Partial<RelayThresholds> = {}): RelayThresholds {
  const out = {
    relaySlowMs: given.relaySlowMs ?? THRESHOLDS.relaySlowMs,
    relayTimeoutMs: given.relayTimeoutMs ?? THRESHOLDS.relayTimeoutMs,
  };
  for (const [name, value] of Object.entries(out))
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(
        `statusThresholds.${name} must be a whole number of milliseconds ≥ 1, got ${value}`,
      );
  if (out.relayTimeoutMs < out.relaySlowMs)
    throw new RangeError(
      `statusThresholds.relayTimeoutMs (${out.relayTimeoutMs}) must not be below relaySlowMs (${out.relaySlowMs})`,
    );
  return out;
}

type Verdict = { state: ComponentState; note?: ComponentNote };

/** `acme`: expired or not yet valid → outage; under 14 days → degraded. */
export function classifyCertificate(
  validFromMs: number,
  validToMs: number,
  nowMs: number,
): Verdict & { daysLeft: number } {
  const daysLeft = Math.floor((validToMs - nowMs) / DAY_MS);
  if (nowMs >= validToMs) return { state: 'outage', note: 'certificate_expired', daysLeft };
  if (nowMs < validFromMs) return { state: 'outage', note: 'certificate_not_yet_valid', daysLeft };
  if (validToMs - nowMs < THRESHOLDS.certificateDays * DAY_MS)
    return { state: 'degraded', note: 'certificate_expiring', daysLeft };
  return { state: 'operational', daysLeft };
}

/** `relay`: unreachable or timed out → outage; slow → degraded. */
export function classifyRelay(
  result: { reachable: boolean; latencyMs: number },
  slowMs: number = THRESHOLDS.relaySlowMs,
): Verdict {
  if (!result.reachable) return { state: 'outage', note: 'relay_unreachable' };
  if (result.latencyMs > slowMs) return { state: 'degraded', note: 'relay_slow' };
  return { state: 'operational' };
}

export interface RelayStats {
  readonly mailboxBacklog: number;
  readonly oldestEventAgeSeconds: number;
}

/** `mailbox`: no statistics → unknown; a large or old backlog → degraded. */
export function classifyMailbox(stats: RelayStats | undefined): Verdict {
  if (!stats) return { state: 'unknown', note: 'stats_unavailable' };
  if (stats.mailboxBacklog > THRESHOLDS.backlogHigh)
    return { state: 'degraded', note: 'backlog_high' };
  if (stats.mailboxBacklog > 0 && stats.oldestEventAgeSeconds > THRESHOLDS.backlogOldSeconds)
    return { state: 'degraded', note: 'backlog_old' };
  return { state: 'operational' };
}

const RANK: Record<ComponentState, number> = {
  operational: 0,
  unknown: 0,
  maintenance: 1,
  degraded: 2,
  outage: 3,
};

/**
 * The worst component wins: any outage → `outage`, else any degradation → `degraded`, else any
 * component in maintenance → `maintenance`. `unknown` (no data yet) does not lower the state.
 */
export function overallState(components: readonly Pick<ComponentStatus, 'state'>[]): OverallState {
  const worst = Math.max(0, ...components.map((c) => RANK[c.state]));
  return worst === 3
    ? 'outage'
    : worst === 2
      ? 'degraded'
      : worst === 1
        ? 'maintenance'
        : 'operational';
}

/** Components inside a running window show `maintenance` (the probe's finding is set aside). */
export function applyMaintenance(
  components: readonly ComponentStatus[],
  windows: readonly MaintenanceWindow[],
): ComponentStatus[] {
  return components.map((c) => {
    const window = windows.find((w) => w.active && w.components.includes(c.id));
    if (!window) return c;
    const { note: _note, ...rest } = c;
    return { ...rest, state: 'maintenance', note: 'in_maintenance', maintenanceId: window.id };
  });
}

/** Runs `run` with a deadline; the result is `undefined` when it took too long. */
async function within<T>(ms: number, run: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function probeDatabase(db: Database): Promise<ComponentStatus> {
  const started = performance.now();
  try {
    const ok = await within(THRESHOLDS.databaseTimeoutMs, async () => {
      await ping(db);
      return true;
    });
    const latencyMs = Math.round(performance.now() - started);
    if (!ok) return { id: 'portal', state: 'outage', note: 'database_unavailable' };
    return { id: 'portal', state: 'operational', latencyMs };
  } catch {
    return { id: 'portal', state: 'outage', note: 'database_unavailable' };
  }
}

/**
 * One cheap admin call (`List` for a tenant that cannot exist). Any answer — also a refusal —
 * proves the relay is up; only "unavailable" or the deadline count as down.
 */
export async function probeRelay(
  list: (tenant: string) => Promise<unknown>,
  thresholds: RelayThresholds = THRESHOLDS,
): Promise<ComponentStatus> {
  const started = performance.now();
  let reachable: boolean;
  try {
    const answered = await within(thresholds.relayTimeoutMs, async () => {
      await list('__status-probe__');
      return true;
    });
    reachable = answered === true;
  } catch (error) {
    reachable = error instanceof RelayGatewayError && error.reason !== 'unavailable';
  }
  const latencyMs = Math.round(performance.now() - started);
  const verdict = classifyRelay({ reachable, latencyMs }, thresholds.relaySlowMs);
  return { id: 'relay', ...verdict, ...(reachable ? { latencyMs } : {}) };
}

/** `stats` is the relay's statistics call, when the gateway offers one (see relay-stats.ts). */
export async function probeMailbox(
  stats: (() => Promise<RelayStats | undefined>) | undefined,
  timeoutMs: number = THRESHOLDS.relayTimeoutMs,
): Promise<ComponentStatus> {
  let value: RelayStats | undefined;
  if (stats) {
    try {
      value = await within(timeoutMs, stats);
    } catch {
      value = undefined;
    }
  }
  const verdict = classifyMailbox(value);
  return {
    id: 'mailbox',
    ...verdict,
    ...(value
      ? { backlog: value.mailboxBacklog, oldestAgeSeconds: value.oldestEventAgeSeconds }
      : {}),
  };
}

/** The served certificate (the first of the chain), read with node:crypto. */
export function certificateInfo(pem: string, nowMs: number): TlsInfo | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const validFrom = Date.parse(cert.validFrom);
  const validTo = Date.parse(cert.validTo);
  const verdict = classifyCertificate(validFrom, validTo, nowMs);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    subjectAltNames: (cert.subjectAltName ?? '')
      .split(/,\s*/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validFrom: new Date(validFrom).toISOString(),
    validTo: new Date(validTo).toISOString(),
    daysLeft: verdict.daysLeft,
    state: verdict.state,
    ...(verdict.note ? { note: verdict.note } : {}),
  };
}

/** `acme`: public part only (expiry and days left; the certificate is public anyway). */
export function acmeComponent(info: TlsInfo | undefined): ComponentStatus {
  if (!info) return { id: 'acme', state: 'outage', note: 'certificate_unreadable' };
  return {
    id: 'acme',
    state: info.state,
    ...(info.note ? { note: info.note } : {}),
    expiresAt: info.validTo,
    daysLeft: info.daysLeft,
  };
}

export const COMPONENT_ORDER: readonly ComponentId[] = ['portal', 'relay', 'acme', 'mailbox'];
