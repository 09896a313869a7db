/**
 * The relay's mailbox statistics for the `mailbox` component. The relay does not offer them
 * yet; the endpoint it should offer is
 *
 *   GET /internal/portal/v1/stats   (bearer: the portal token)
 *   200 { "mailboxBacklog": number, "oldestEventAgeSeconds": number }
 *
 * (`mailboxBacklog`: events held and not expired; `oldestEventAgeSeconds`: age of the oldest,
 * 0 when none). Until then this client answers `undefined` (a 404 is "not offered"), and the
 * component shows `unknown`.
 */
import { Agent, request } from 'undici';
import type { RelayGateway, RelayGatewayOptions } from '../../server/relay-gateway.ts';
import type { RelayStats } from './probes.ts';

export const RELAY_STATS_PATH = '/internal/portal/v1/stats';

function isStats(value: unknown): value is RelayStats {
  const v = value as Partial<RelayStats> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isFinite(v.mailboxBacklog) &&
    Number.isFinite(v.oldestEventAgeSeconds) &&
    (v.mailboxBacklog as number) >= 0 &&
    (v.oldestEventAgeSeconds as number) >= 0
  );
}

/**
 * A stats client for the relay's portal API. `undefined` when the relay does not offer the
 * endpoint (404) or answers something else; throws only when the relay is unreachable.
 */
export function relayStatsClient(
  options: Pick<RelayGatewayOptions, 'relayUrl' | 'portalToken' | 'ca'> & { timeoutMs?: number },
): { stats(): Promise<RelayStats | undefined>; close(): Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: options.ca }, connections: 1 });
  const url = `${options.relayUrl.replace(/\/$/, '')}${RELAY_STATS_PATH}`;
  const timeout = options.timeoutMs ?? 2_500;
  return {
    async stats() {
      const res = await request(url, {
        method: 'GET',
        dispatcher,
        headers: { authorization: `Bearer ${options.portalToken}`, accept: 'application/json' },
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) return undefined;
      try {
        const body: unknown = JSON.parse(text);
        return isStats(body)
          ? {
              mailboxBacklog: Math.floor(body.mailboxBacklog),
              oldestEventAgeSeconds: Math.floor(body.oldestEventAgeSeconds),
            }
          : undefined;
      } catch {
        return undefined;
      }
    },
    close: () => dispatcher.close(),
  };
}

/** A gateway that (later) offers the relay's statistics. */
export interface RelayStatsSource {
  stats(): Promise<RelayStats | undefined>;
}

/** The gateway's `stats()` when it has one (the integrator adds it), else `undefined`. */
export function statsOf(relay: RelayGateway): (() => Promise<RelayStats | undefined>) | undefined {
  const candidate = (relay as RelayGateway & Partial<RelayStatsSource>).stats;
  return typeof candidate === 'function' ? () => candidate.call(relay) : undefined;
}
