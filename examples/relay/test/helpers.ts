/** Test wiring: a counterpart, a relay on an in-memory PGlite, clients pinned to the dev CA. */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, MemoryStore } from '@fluxel/audit';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { createDpopSigner, type DpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, type NodeRelayClient, spkiPin } from '@fluxel/relay-client/node';
import {
  type Counterpart,
  type CounterpartOptions,
  createCounterpart,
  generateWebhookSecret,
  type SendWebhookInput,
} from '@fluxel-example/counterpart';
import type { Database } from '@fluxel-example/kit/database';
import { ensureDevTls } from '@fluxel-example/kit/tls';
import pg from 'pg';
import { createClient } from 'redis';
import { Agent, request } from 'undici';
import { type Connector, counterpartConnector } from '../src/connector.ts';
import { createRelay, type Relay, type RelayOptions } from '../src/relay.ts';

export const API_KEY = 'cp-live-key-7f3a9c1e5b';

export interface Harness {
  dataDir: string;
  relay: Relay;
  counterpart: Counterpart;
  connector: ReturnType<typeof counterpartConnector>;
  auditStore: MemoryStore;
  webhookSecret: string;
  /** Milliseconds added to the relay's mailbox/webhook clock. */
  clockOffset: { ms: number };
  /**
   * A signed webhook from the counterpart to the connection's own hook URL (of `licenseId`,
   * default the connection's oldest row), unless `input.url` names another.
   */
  hook(
    connection: string,
    input?: SendWebhookInput & { licenseId?: string },
  ): ReturnType<Counterpart['sendPaymentWebhook']>;
  /** The connection's own hook URL (of `licenseId`, default the connection's oldest row). */
  hookUrl(connection: string, licenseId?: string): Promise<string>;
  client(device?: DpopSigner): Promise<{ client: NodeRelayClient; device: DpopSigner }>;
  issueKey(tenant?: string): Promise<string>;
  audited(action: string): AuditEvent[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  database?: Database;
  /** Further relay options (admin API, Redis, rate limits, …). */
  relay?: Partial<RelayOptions>;
  /** Wraps the counterpart connector (e.g. to slow it down). */
  wrapConnector?: (connector: Connector) => Connector;
  /** Share the data directory (secrets, KEK, TLS) with another harness, as instances do. */
  dataDir?: string;
  /** Further counterpart options (`idempotent`, `answerDelayMs`, …). */
  counterpart?: Partial<CounterpartOptions>;
  /** The counterpart connector's timeout; default 5000 ms. */
  connectorTimeoutMs?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fluxel-relay-test-'));
  const tls = ensureDevTls(join(dataDir, 'tls'));
  const webhookSecret = generateWebhookSecret();
  const counterpart = await createCounterpart({
    apiKey: API_KEY,
    webhook: { url: 'https://127.0.0.1:9/unset', secret: webhookSecret, ca: tls.ca },
    ...options.counterpart,
  });
  const connector = counterpartConnector({
    baseUrl: counterpart.url,
    timeoutMs: options.connectorTimeoutMs ?? 5000,
  });
  const auditStore = new MemoryStore();
  const clockOffset = { ms: 0 };
  const relay = await createRelay({
    dataDir,
    connector: options.wrapConnector ? options.wrapConnector(connector) : connector,
    inMemoryDatabase: true,
    ...(options.database ? { database: options.database } : {}),
    auditStore,
    clock: () => Date.now() + clockOffset.ms,
    ...options.relay,
  });
  const clients: NodeRelayClient[] = [];
  async function hookUrl(connection: string, licenseId?: string): Promise<string> {
    const { rows } = await relay.database.query(
      `SELECT hook_id FROM relay_credentials WHERE connection = $1 AND ($2::text IS NULL OR license_id = $2)
       ORDER BY set_at LIMIT 1`,
      [connection, licenseId ?? null],
    );
    const hookId = rows[0]?.hook_id;
    // No credentials (yet): a well-formed id that names nothing.
    return `${relay.url}/v1/hooks/${connection}/${hookId ? String(hookId) : 'x'.repeat(32)}`;
  }
  return {
    dataDir,
    relay,
    counterpart,
    connector,
    auditStore,
    webhookSecret,
    clockOffset,
    hookUrl,
    async hook(connection, { licenseId, ...input } = {}) {
      const url = input.url ?? (await hookUrl(connection, licenseId));
      return counterpart.sendPaymentWebhook({ ...input, url });
    },
    async client(device) {
      const signer = device ?? createDpopSigner((await generateKeyPair()).privateJwk);
      const client = createRelayClient({
        baseUrl: relay.url,
        ca: relay.tls.ca,
        pins: [spkiPin(relay.tls.ca)],
        proxy: false,
        device: signer,
        retry: { attempts: 1 },
      });
      clients.push(client);
      return { client, device: signer };
    },
    issueKey: async (tenant = 'merchant-1') =>
      (await relay.authority.issue({ tenant, product: 'wawi-sync', entitlements: ['orders'] })).key,
    audited: (action) =>
      auditStore.records
        .filter((r) => r.kind === 'e' && r.event?.action === action)
        .map((r) => r.event as AuditEvent),
    async close() {
      for (const c of clients) await c.close();
      await relay.close();
      await connector.close();
      await counterpart.close();
    },
  };
}

/** A hand-made request (to send what the typed client would refuse to send), CA-pinned. */
export async function rawRequest(
  h: Harness,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: {
    body?: string | Buffer;
    device?: DpopSigner;
    accessToken?: string;
    headers?: Record<string, string>;
    proof?: string;
  } = {},
) {
  const url = `${h.relay.url}${path}`;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.accessToken) headers.authorization = `DPoP ${options.accessToken}`;
  if (options.proof) headers.dpop = options.proof;
  else if (options.device) {
    const nonce = h.relay.authority.nonce();
    headers.dpop = await options.device.proof({
      method,
      url,
      ...(options.accessToken ? { accessToken: options.accessToken } : {}),
      ...(nonce ? { nonce } : {}),
      ...(options.body !== undefined
        ? { body: typeof options.body === 'string' ? options.body : new Uint8Array(options.body) }
        : {}),
    });
  }
  const dispatcher = new Agent({ connect: { ca: h.relay.tls.ca } });
  try {
    const res = await request(url, {
      method,
      headers,
      dispatcher,
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  } finally {
    await dispatcher.close();
  }
}

/** PostgreSQL for the tests that need a real server (`DATABASE_URL`, default the local one). */
/** A client of a fresh license, activated, with the counterpart's API key stored for `connection`. */
export async function connectedClient(h: Harness, connection: string): Promise<NodeRelayClient> {
  const { client } = await h.client();
  await client.activate({ body: { licenseKey: await h.issueKey() } });
  await client.putCredentials({
    connection,
    body: { kind: 'api-key', fields: { apiKey: API_KEY } },
  });
  return client;
}

/** The states of the idempotency records of `key` (`[]` when there is none). */
export async function idempotencyStates(h: Harness, key: string): Promise<unknown[]> {
  const { rows } = await h.relay.database.query(
    'SELECT state FROM relay_idempotency WHERE key = $1',
    [key],
  );
  return rows.map((r) => r.state);
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether that Redis answers. */
export async function redisReachable(): Promise<boolean> {
  const probe = createClient({
    url: REDIS_URL,
    socket: { connectTimeout: READY_BOUND_MS, reconnectStrategy: false },
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    await probe.close().catch(() => {});
  }
}

export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether that PostgreSQL answers. */
export async function postgresReachable(): Promise<boolean> {
  const probe = new pg.Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: READY_BOUND_MS,
  });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await probe.end().catch(() => {});
  }
}
