/**
 * Test wiring: a counterpart, a relay (in-memory PGlite, admin gRPC and portal API on), a real
 * SMTP sink, an SMS sink and the portal, all over HTTPS with the dev CA. `browserless` clients
 * keep a cookie jar and send the Origin and CSRF headers a browser page would.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlertHook, webhookHook } from '@fluxel/audit';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, type NodeRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { createCounterpart, generateWebhookSecret } from '@fluxel-example/counterpart';
import { counterpartConnector, createRelay, ensureDevTls, type Relay } from '@fluxel-example/relay';
import { Agent, request, fetch as undiciFetch } from 'undici';
import { RELAY_ALERTS_PATH } from '../src/features/alerts/routes.ts';
import { totpCode } from '../src/features/auth/totp.ts';

import { devMailRoutes } from '../src/features/dev-mail/routes.ts';
import type { OnboardingTerms } from '../src/features/onboarding/contract.ts';
import { createPortal, type Portal, type PortalOptions } from '../src/server/app.ts';
import { type SmtpSink, smtpTransport, startSmtpSink } from '../src/server/mail.ts';
import { type SmsSink, smsSink } from '../src/server/sms.ts';
import type { SessionInfo } from '../src/shared/api.ts';

export const ADMIN_TOKEN = 'portal-test-admin-token-0123456789abcdef';
export const PORTAL_TOKEN = 'portal-test-portal-token-0123456789abcdef';
export const API_KEY = 'cp-portal-key-5e8a2b';
export const PASSWORD = 'ein langes Passwort für Tests';
export const RELAY_ALERT_SECRET = 'portal-test-relay-alert-secret-0123456789';

export interface PortalHarness {
  readonly dataDir: string;
  readonly portal: Portal;
  readonly relay: Relay;
  readonly smtp: SmtpSink;
  readonly sms: SmsSink;
  readonly clock: { offsetMs: number };
  client(): TestClient;
  /** Signs up by invitation and enrols TOTP; returns a signed-in client and the TOTP secret. */
  signUp(email: string, role: string, tenantId: string, name?: string): Promise<SignedUp>;
  /** A device-side relay client holding an activated license. */
  activate(licenseKey: string): Promise<NodeRelayClient>;
  close(): Promise<void>;
}

export interface SignedUp {
  readonly client: TestClient;
  readonly secret: string;
  readonly recoveryCodes: readonly string[];
  readonly userId: string;
}

export interface Response<T = unknown> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
  readonly text: string;
}

export class TestClient {
  readonly cookies = new Map<string, string>();
  csrf = '';
  origin: string;
  constructor(
    readonly base: string,
    readonly dispatcher: Agent,
  ) {
    this.origin = base;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; csrf?: boolean; origin?: string | null } = {},
  ): Promise<Response<T>> {
    const headers: Record<string, string> = {
      ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' && extra.csrf !== false && this.csrf
        ? { 'x-csrf-token': this.csrf }
        : {}),
      ...(method !== 'GET' && extra.origin !== null ? { origin: extra.origin ?? this.origin } : {}),
      ...extra.headers,
    };
    const res = await request(`${this.base}${path}`, {
      method: method as 'GET',
      dispatcher: this.dispatcher,
      headers,
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body) }
        : {}),
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value.join('='));
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    const out = { status: res.statusCode, headers: res.headers, body: parsed as T, text };
    const info = parsed as Partial<SessionInfo> | undefined;
    if (info && typeof info === 'object' && typeof info.csrfToken === 'string')
      this.csrf = info.csrfToken;
    const nested = (parsed as { session?: SessionInfo } | undefined)?.session;
    if (nested?.csrfToken) this.csrf = nested.csrfToken;
    return out;
  }

  async session(): Promise<SessionInfo> {
    return (await this.call<SessionInfo>('GET', '/api/session')).body;
  }

  get = <T = Record<string, unknown>>(path: string) => this.call<T>('GET', path);
  post = <T = Record<string, unknown>>(path: string, body: unknown = {}) =>
    this.call<T>('POST', path, body);
}

/** A TOTP code for `secret` at the harness clock, for step `offset` (±). */
export function code(h: PortalHarness, secret: string, offsetSteps = 0): string {
  return totpCode(secret, Date.now() + h.clock.offsetMs + offsetSteps * 30_000);
}

/** Signs in over the API with the password and a TOTP code (the clock moved past the last one). */
export async function signInWithTotpApi(
  h: PortalHarness,
  email: string,
  secret: string,
  password = PASSWORD,
): Promise<TestClient> {
  const c = h.client();
  await c.session();
  const login = await c.post('/api/auth/login', { email, password });
  if (login.status !== 200) throw new Error(login.text);
  h.clock.offsetMs += 30_000;
  const done = await c.post('/api/auth/second-factor', { method: 'totp', code: code(h, secret) });
  if (done.status !== 200) throw new Error(done.text);
  return c;
}

/** Confirms `s`'s identity again (password and a fresh TOTP code), as sensitive actions ask. */
export async function reauthenticate(h: PortalHarness, s: SignedUp): Promise<void> {
  h.clock.offsetMs += 30_000;
  const res = await s.client.post('/api/auth/reauth', {
    password: PASSWORD,
    method: 'totp',
    code: code(h, s.secret),
  });
  if (res.status !== 200) throw new Error(`reauth failed: ${res.text}`);
}

/** The acceptance fields of a partner application: the offered terms and ADV (German) as they stand. */
export async function acceptedTerms(client: TestClient) {
  const terms = (await client.get<OnboardingTerms>('/api/onboarding/terms?locale=de')).body;
  return {
    termsVersion: terms.terms.version,
    termsSha256: terms.terms.sha256,
    advVersion: terms.adv.version,
    advLocale: 'de',
    advSha256: terms.adv.sha256,
    acceptTerms: true,
    acceptAdv: true,
  };
}

export interface HarnessOptions {
  /** The dev start's mail viewer over the harness's SMTP sink (`src/features/dev-mail/`). */
  readonly devMailViewer?: boolean;
}

export async function startPortalHarness(
  options: Partial<PortalOptions> = {},
  harness: HarnessOptions = {},
): Promise<PortalHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-portal-test-'));
  const tls = ensureDevTls(join(dataDir, 'tls'));
  const counterpart = await createCounterpart({
    apiKey: API_KEY,
    webhook: { url: 'https://127.0.0.1:9/unset', secret: generateWebhookSecret(), ca: tls.ca },
  });
  const connector = counterpartConnector({ baseUrl: counterpart.url, timeoutMs: 5000 });
  const clock = { offsetMs: 0 };
  const now = () => Date.now() + clock.offsetMs;
  // The relay's alerts go to the portal's inbox as its signed webhook (bound once it listens).
  let forwardAlert: AlertHook | undefined;
  const relay = await createRelay({
    alerts: { hooks: [async (alert) => forwardAlert?.(alert)] },
    dataDir,
    connector,
    inMemoryDatabase: true,
    admin: { token: ADMIN_TOKEN, actor: 'portal' },
    portal: { token: PORTAL_TOKEN },
    rateLimit: false,
  });
  const smtp = await startSmtpSink();
  const mail = smtpTransport({ host: '127.0.0.1', port: smtp.port, from: 'portal@fluxel.test' });
  const sms = smsSink();
  const portal = await createPortal({
    dataDir,
    tls,
    inMemoryDatabase: true,
    relay: {
      adminAddress: `localhost:${relay.adminPort}`,
      adminToken: ADMIN_TOKEN,
      relayUrl: relay.url,
      portalToken: PORTAL_TOKEN,
      ca: tls.ca,
    },
    mail,
    sms,
    clock: now,
    alerts: { relaySecret: RELAY_ALERT_SECRET },
    // What the tests check of the status page is not how fast this machine is: on a busy one
    // a healthy relay's round trip takes seconds (a relay shown "degraded" failed a browser test).
    statusThresholds: { relaySlowMs: READY_BOUND_MS, relayTimeoutMs: READY_BOUND_MS },
    ...options,
    ...(harness.devMailViewer
      ? { extraRoutes: [...(options.extraRoutes ?? []), devMailRoutes(smtp)] }
      : {}),
  });
  const dispatcher = new Agent({ connect: { ca: tls.ca } });
  forwardAlert = webhookHook({
    url: `${portal.url}${RELAY_ALERTS_PATH}`,
    secret: RELAY_ALERT_SECRET,
    fetch: (url, init) =>
      undiciFetch(String(url), {
        ...(init as object),
        dispatcher,
      }) as unknown as Promise<globalThis.Response>,
  });
  const relayClients: NodeRelayClient[] = [];
  const h: PortalHarness = {
    dataDir,
    portal,
    relay,
    smtp,
    sms,
    clock,
    client: () => new TestClient(portal.url, dispatcher),
    async signUp(email, role, tenantId, name = 'Erika Mustermann') {
      const token = await portal.invite(email, role, tenantId);
      const client = h.client();
      await client.session();
      const accepted = await client.post<SessionInfo>(`/api/invitations/${token}/accept`, {
        name,
        password: PASSWORD,
      });
      if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.text}`);
      const start = await client.post<{ secret: string }>('/api/enrol/totp/start');
      const secret = start.body.secret;
      const done = await client.post<{ recoveryCodes: string[]; session: SessionInfo }>(
        '/api/enrol/totp/confirm',
        { code: code(h, secret) },
      );
      if (done.status !== 200) throw new Error(`enrol failed: ${done.text}`);
      return {
        client,
        secret,
        recoveryCodes: done.body.recoveryCodes,
        userId: done.body.session.user?.id as string,
      };
    },
    async activate(licenseKey) {
      const device = createDpopSigner((await generateKeyPair()).privateJwk);
      const client = createRelayClient({
        baseUrl: relay.url,
        ca: tls.ca,
        pins: [spkiPin(tls.ca)],
        proxy: false,
        device,
        retry: { attempts: 1 },
      });
      relayClients.push(client);
      await client.activate({ body: { licenseKey } });
      return client;
    },
    async close() {
      for (const c of relayClients) await c.close();
      await portal.close();
      await relay.close();
      await connector.close();
      await counterpart.close();
      mail.close();
      await smtp.close();
      await dispatcher.close();
    },
  };
  return h;
}
