/**
 * Connectors: how the relay forwards one operation to one third party. The relay decrypts the
 * connection's credentials and hands them to the connector for this one call (it keeps the
 * opened values in memory for a short while, see `credentialCacheMs`); connectors must not
 * keep or log them.
 */
import { type JsonValue, jsonShapeProblem } from '@fluxel/relay-client/contract';
import { Agent, request } from 'undici';
import { z } from 'zod';

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
  /** The third party is unavailable (5xx, network): try again later. */
  | { readonly kind: 'unavailable'; readonly upstreamStatus?: number; readonly retryAfter?: number }
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
  readonly timeoutMs?: number;
}

function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 86_400) : undefined;
}

/** The connector for the example counterpart (marketplace + payment provider). */
export function counterpartConnector(options: CounterpartConnectorOptions): Connector & {
  close(): Promise<void>;
} {
  const timeout = options.timeoutMs ?? 10_000;
  const agent = new Agent({
    connect: { timeout, ...(options.ca ? { ca: options.ca } : {}) },
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
      try {
        const res = await request(`${base}${path}`, {
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
        const text = await res.body.text();
        const status = res.statusCode;
        if (status >= 200 && status < 300) {
          return delivered(status, text);
        }
        if (status === 408 || status === 429 || status >= 500) {
          const retryAfter = retryAfterSeconds(res.headers['retry-after']);
          return {
            kind: 'unavailable',
            upstreamStatus: status,
            ...(retryAfter !== undefined ? { retryAfter } : {}),
          };
        }
        return { kind: 'rejected', upstreamStatus: status };
      } catch {
        return { kind: 'unavailable' };
      }
    },
    close: () => agent.close(),
  };
}
