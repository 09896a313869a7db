/**
 * Connectors: how the relay forwards one operation to one third party. The relay decrypts the
 * connection's credentials and hands them to the connector for this one call (it keeps the
 * opened values in memory for a short while, see `credentialCacheMs`); connectors must not
 * keep or log them.
 */
import { type JsonValue, jsonShapeProblem } from '@fluxel/relay-client/contract';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { trackConnectFailures } from './connect-failures.ts';

/** A JSON value within the relay contract's bounds (what `send` may answer as `result`). */
export type JsonResult = z.output<typeof JsonValue>;

export interface ConnectorCall {
  readonly operation: string;
  readonly payload: unknown;
  readonly credentials: {
    readonly kind: string;
    readonly fields: Readonly<Record<string, string>>;
  };
  readonly idempotencyKey: string;
  readonly signal?: AbortSignal;
}

/**
 * A delivered result from the third party's answer text: its JSON when it parses and stays
 * within the relay contract's bounds (depth, size, no `__proto__` key), else none — so the
 * relay answers the result as it is, without checking it again. Connectors use this.
 */
export function delivered(upstreamStatus: number, text: string): ConnectorResult {
  // JSON.parse's value is JSON by construction.
  let result: JsonResult | undefined;
  try {
    result = text ? JSON.parse(text) : undefined;
  } catch {
    result = undefined;
  }
  if (result !== undefined && jsonShapeProblem(result) !== undefined) result = undefined;
  return { kind: 'delivered', upstreamStatus, ...(result !== undefined ? { result } : {}) };
}

export type ConnectorResult =
  /** The third party accepted it. */
  | {
      readonly kind: 'delivered';
      readonly upstreamStatus: number;
      /** JSON within the contract's bounds (depth, size, no `__proto__` key), or absent. */
      readonly result?: JsonResult;
    }
  /** The third party refused it for good (4xx). */
  | { readonly kind: 'rejected'; readonly upstreamStatus: number }
  /**
   * Not executed, for certain: the connection never opened (nothing was written), or the third
   * party answered that it did not process the request (the connector's rule, e.g. 503 while
   * down). The relay releases the key; try again later.
   */
  | { readonly kind: 'unavailable'; readonly upstreamStatus?: number; readonly retryAfter?: number }
  /**
   * The request may have been executed, the connector cannot tell: a timeout after it was
   * written, the connection reset or closed before the answer's status arrived, a 5xx that
   * does not say "not processed". The relay keeps the key pending for its lease and sends
   * again after it with the same `Idempotency-Key`; never report this as `unavailable`.
   */
  | { readonly kind: 'unknown'; readonly reason: string; readonly upstreamStatus?: number }
  /** The connector does not know the operation or its payload. */
  | { readonly kind: 'unsupported'; readonly reason: string };

export interface Connector {
  /** Name used in problems (`upstream`) and audit events. */
  readonly name: string;
  send(call: ConnectorCall): Promise<ConnectorResult>;
}

const OrderStatusPayload = z.strictObject({
  order: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  status: z.enum(['accepted', 'packed', 'shipped', 'delivered', 'cancelled']),
  note: z.string().max(500).optional(),
});
const ShipmentPayload = z.strictObject({
  order: z.string().min(1).max(64),
  carrier: z.string().min(1).max(64),
  tracking: z.string().min(1).max(128),
});

export interface CounterpartConnectorOptions {
  /** Base URL of the counterpart, e.g. `http://127.0.0.1:4010`. */
  readonly baseUrl: string;
  /** PEM of a CA to trust for an HTTPS counterpart (verification stays on). */
  readonly ca?: string;
  /**
   * Connect timeout, and how long to wait for the answer's headers and for each chunk of its
   * body; default 10 000. Past it the outcome is unknown (the key stays pending for the
   * relay's `pendingLeaseMs`; keep that above this).
   */
  readonly timeoutMs?: number;
}

function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 86_400) : undefined;
}

/** Why a call's outcome is unknown, for the audit log (a code, never the error's text). */
function failureReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_ABORTED') return 'aborted';
  return 'connection lost';
}

/**
 * The counterpart's answers that say "not processed": 408 (the request was not read in time),
 * 429 (refused before processing) and 503 (its outage answers 503 and records nothing). Any
 * other 5xx (500, 502, 504, …) may come after the operation was executed (a failure while
 * answering, a gateway that gave up waiting): its outcome is unknown.
 */
function notProcessed(status: number): boolean {
  return status === 408 || status === 429 || status === 503;
}

/**
 * The connector for the example counterpart (marketplace + payment provider). A connection
 * that did not open or an answer of {@link notProcessed} is `unavailable` (not executed); a
 * timeout or broken connection after the request was written, or another 5xx, is `unknown`.
 * Once the answer's status arrived the outcome is that status's: a body cut off after a 2xx
 * is `delivered` without a result (it was executed).
 */
export function counterpartConnector(options: CounterpartConnectorOptions): Connector & {
  close(): Promise<void>;
} {
  const timeout = options.timeoutMs ?? 10_000;
  const tracking = trackConnectFailures({ timeout, ...(options.ca ? { ca: options.ca } : {}) });
  const agent = new Agent({
    connect: tracking.connect,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const base = options.baseUrl.replace(/\/$/, '');
  return {
    name: 'counterpart',
    async send(call) {
      let path: string;
      let body: unknown;
      if (call.operation === 'order.status') {
        const p = OrderStatusPayload.safeParse(call.payload);
        if (!p.success) return { kind: 'unsupported', reason: 'invalid order.status payload' };
        path = `/orders/${encodeURIComponent(p.data.order)}/status`;
        body = { status: p.data.status, ...(p.data.note ? { note: p.data.note } : {}) };
      } else if (call.operation === 'shipment.create') {
        const p = ShipmentPayload.safeParse(call.payload);
        if (!p.success) return { kind: 'unsupported', reason: 'invalid shipment.create payload' };
        path = '/shipments';
        body = p.data;
      } else {
        return { kind: 'unsupported', reason: 'unknown operation' };
      }
      const apiKey = call.credentials.fields.apiKey;
      if (call.credentials.kind !== 'api-key' || !apiKey)
        return { kind: 'unsupported', reason: 'the connection needs api-key credentials (apiKey)' };
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(`${base}${path}`, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${apiKey}`,
            'idempotency-key': call.idempotencyKey,
          },
          body: JSON.stringify(body),
          ...(call.signal ? { signal: call.signal } : {}),
        });
      } catch (error) {
        if (tracking.failedToConnect(error)) return { kind: 'unavailable' };
        return { kind: 'unknown', reason: failureReason(error) };
      }
      const status = res.statusCode;
      // The status decides; a body cut off (or too slow) only loses the result.
      const text = await res.body.text().catch(() => '');
      if (status >= 200 && status < 300) return delivered(status, text);
      if (notProcessed(status)) {
        const retryAfter = retryAfterSeconds(res.headers['retry-after']);
        return {
          kind: 'unavailable',
          upstreamStatus: status,
          ...(retryAfter !== undefined ? { retryAfter } : {}),
        };
      }
      if (status >= 500)
        return { kind: 'unknown', reason: 'upstream error', upstreamStatus: status };
      return { kind: 'rejected', upstreamStatus: status };
    },
    close: () => agent.close(),
  };
}
