/**
 * The production entry (`src/server/main.ts`, deployment gaps 1, 3, 10) as a child process:
 * configured from the environment only, it accepts writes from `PORTAL_PUBLIC_ORIGIN` (and
 * refuses others), reaches the relay at `RELAY_ADMIN_ADDRESS` with tokens read from
 * `*_FILE`, mails the first administrator's invitation, and exits 1 naming missing variables.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@fluxel/audit';
import type { Keyring } from '@fluxel/crypto';
import { startKmsStandIn } from '@fluxel/internal/kms-standin';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import {
  type Counterpart,
  createCounterpart,
  generateWebhookSecret,
} from '@fluxel-example/counterpart';
import {
  counterpartConnector,
  createRelay,
  type DevTls,
  ensureDevTls,
  type Relay,
} from '@fluxel-example/relay';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortal } from '../src/server/app.ts';
import { memoryTransport, type SmtpSink, startSmtpSink } from '../src/server/mail.ts';
import { smsSink } from '../src/server/sms.ts';

const ADMIN_TOKEN = 'main-test-admin-token-0123456789abcdefgh';
const PORTAL_TOKEN = 'main-test-portal-token-0123456789abcdefg';
const ORIGIN = 'https://portal.fluxel.test';
const MAIN = join(import.meta.dirname, '../src/server/main.ts');
const TSX = join(import.meta.dirname, '../node_modules/.bin/tsx');

interface Child {
  readonly process: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

function start(env: Record<string, string>): Child {
  let output = '';
  const child = spawn(TSX, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { process: child, output: () => output, exit };
}

/** Waits for `portal ready` (or the child's exit); returns the port it listens on. */
async function ready(child: Child, timeoutMs = READY_BOUND_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exit.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    const match = /listening on [^\s]+:(\d+)[\s\S]*portal ready/.exec(child.output());
    if (match) return Number(match[1]);
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(
    `the portal did not print "portal ready" (${exited ? 'it exited' : `within ${timeoutMs} ms`}):\n${child.output()}`,
  );
}

describe('portal production entry (main.ts)', () => {
  let tls: DevTls;
  let relay: Relay;
  let counterpart: Counterpart;
  let connector: ReturnType<typeof counterpartConnector>;
  let smtp: SmtpSink;
  let dir: string;
  const relayAudit = new MemoryStore();
  const children: Child[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fluxel-portal-main-'));
    tls = ensureDevTls(join(dir, 'relay', 'tls'));
    counterpart = await createCounterpart({
      apiKey: 'cp-main-key-1',
      webhook: { url: 'https://127.0.0.1:9/unset', secret: generateWebhookSecret(), ca: tls.ca },
    });
    connector = counterpartConnector({ baseUrl: counterpart.url, timeoutMs: 5000 });
    relay = await createRelay({
      dataDir: join(dir, 'relay'),
      connector,
      inMemoryDatabase: true,
      auditStore: relayAudit,
      admin: { token: ADMIN_TOKEN, actor: 'portal' },
      portal: { token: PORTAL_TOKEN },
      rateLimit: false,
    });
    smtp = await startSmtpSink();
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null) {
        child.process.kill('SIGTERM');
        await child.exit;
      }
    }
    await smtp?.close();
    await relay?.close();
    await connector?.close();
    await counterpart?.close();
  });

  /** The production environment; tokens as Docker-secret-style files with a trailing newline. */
  function productionEnv(name: string): Record<string, string> {
    const dataDir = join(dir, name);
    const adminFile = join(dir, `${name}-admin-token`);
    const portalFile = join(dir, `${name}-portal-token`);
    writeFileSync(adminFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(portalFile, `${PORTAL_TOKEN}\n`, { mode: 0o600 });
    return {
      PORTAL_PUBLIC_ORIGIN: ORIGIN,
      PORTAL_HOST: '127.0.0.1',
      PORTAL_PORT: '0',
      PORTAL_DATA_DIR: dataDir,
      PORTAL_TLS_CERT: join(tls.dir, 'server.pem'),
      PORTAL_TLS_KEY: join(tls.dir, 'server.key'),
      RELAY_ADMIN_ADDRESS: `localhost:${relay.adminPort}`,
      RELAY_ADMIN_TOKEN_FILE: adminFile,
      RELAY_PORTAL_URL: relay.url,
      RELAY_PORTAL_TOKEN_FILE: portalFile,
      RELAY_CA: tls.caPath,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'portal@fluxel.test',
      PORTAL_ADMIN_EMAIL: 'admin@fluxel.test',
    };
  }

  it('serves the configured origin, reaches the relay with *_FILE tokens, mails the first invitation', async () => {
    const child = start(productionEnv('ok'));
    children.push(child);
    const port = await ready(child);
    const dispatcher = new Agent({ connect: { ca: tls.ca } });
    const base = `https://127.0.0.1:${port}`;
    try {
      const session = await request(`${base}/api/session`, { dispatcher });
      expect(session.statusCode).toBe(200);
      const cookie = ([] as string[])
        .concat(session.headers['set-cookie'] ?? [])
        .map((c) => c.split(';')[0])
        .join('; ');
      const { csrfToken } = (await session.body.json()) as { csrfToken: string };
      expect(csrfToken).toBeTruthy();
      const login = (origin: string) =>
        request(`${base}/api/auth/login`, {
          method: 'POST',
          dispatcher,
          headers: {
            'content-type': 'application/json',
            origin,
            'x-csrf-token': csrfToken,
            ...(cookie ? { cookie } : {}),
          },
          body: JSON.stringify({ email: 'nobody@fluxel.test', password: 'not the password 123' }),
        });
      // From the configured origin the CSRF check passes: the login itself is what fails.
      const allowed = await login(ORIGIN);
      const allowedBody = (await allowed.body.json()) as { code?: string };
      expect(allowed.statusCode).not.toBe(403);
      expect(allowedBody.code).not.toBe('csrf');
      // What dev.ts would have used is refused now.
      const refused = await login(`https://localhost:${port}`);
      expect(refused.statusCode).toBe(403);
      expect(((await refused.body.json()) as { code?: string }).code).toBe('csrf');

      // The relay probes use the admin gRPC API and the portal API with the file tokens.
      const status = await request(`${base}/api/status`, { dispatcher });
      const body = (await status.body.json()) as {
        components: { id: string; state: string }[];
      };
      const relayComponent = body.components.find((c) => c.id === 'relay');
      expect(relayComponent?.state).toBe('operational');
      // Authenticated with the token from the file: the relay records the token's actor.
      const adminCalls = relayAudit.records
        .filter((r) => r.kind === 'e' && r.event?.action === 'admin.license.list')
        .map((r) => ({ outcome: r.event?.outcome, actor: r.event?.actor.id }));
      expect(adminCalls.length).toBeGreaterThan(0);
      for (const call of adminCalls) {
        expect(call.outcome).not.toBe('denied');
        expect(call.actor).toBe('portal');
      }

      // The first administrator's invitation goes by mail, with the public origin.
      const deadline = Date.now() + READY_BOUND_MS;
      while (Date.now() < deadline && smtp.messages.length === 0)
        await new Promise((done) => setTimeout(done, 100));
      const invitation = smtp.messages.find((m) => m.to.includes('admin@fluxel.test'));
      expect(invitation?.text).toContain(`${ORIGIN}/invite/`);
      // …and never reaches the log.
      expect(child.output()).not.toContain('/invite/');
      expect(child.output()).not.toContain(ADMIN_TOKEN);
    } finally {
      await dispatcher.close();
    }
    child.process.kill('SIGTERM');
    expect(await child.exit).toBe(0);
  });

  it('exits 1 naming every missing required variable', async () => {
    const env = productionEnv('missing');
    delete env.PORTAL_PUBLIC_ORIGIN;
    delete env.RELAY_ADMIN_TOKEN_FILE;
    const child = start(env);
    children.push(child);
    expect(await child.exit).toBe(1);
    expect(child.output()).toMatch(
      /missing required environment variables: .*PORTAL_PUBLIC_ORIGIN/,
    );
    expect(child.output()).toContain('RELAY_ADMIN_TOKEN');
    expect(child.output()).not.toContain('RELAY_PORTAL_TOKEN');
    expect(child.output()).not.toContain('portal ready');
  });

  it('waits for an unreachable database, saying so, then exits 1 with what to check', async () => {
    const closed = net.createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const { port } = closed.address() as { port: number };
    await new Promise((done) => closed.close(done));
    const child = start({
      ...productionEnv('nodb'),
      DATABASE_URL: `postgres://portal:secret-password@127.0.0.1:${port}/portal`,
      DATABASE_WAIT_MS: '1500',
    });
    children.push(child);
    expect(await child.exit).toBe(1);
    expect(child.output()).toMatch(/portal: database not reachable \(ECONNREFUSED\), retrying in/);
    expect(child.output()).toMatch(
      /portal: could not start: the database was not reachable \(ECONNREFUSED\) for 1\.5 s: check DATABASE_URL/,
    );
    expect(child.output()).not.toContain('secret-password');
    expect(child.output()).not.toMatch(/\n\s+at /);

    const invalid = start({ ...productionEnv('badwait'), DATABASE_WAIT_MS: 'soon' });
    children.push(invalid);
    expect(await invalid.exit).toBe(1);
    expect(invalid.output()).toContain('DATABASE_WAIT_MS must be a whole number of milliseconds');
  });

  it('refuses a secret set both directly and as *_FILE, and an unreadable *_FILE', async () => {
    const both = start({ ...productionEnv('both'), RELAY_PORTAL_TOKEN: PORTAL_TOKEN });
    children.push(both);
    expect(await both.exit).toBe(1);
    expect(both.output()).toContain('set RELAY_PORTAL_TOKEN or RELAY_PORTAL_TOKEN_FILE, not both');
    expect(both.output()).not.toContain(PORTAL_TOKEN);

    const unreadable = start({
      ...productionEnv('unreadable'),
      RELAY_ADMIN_TOKEN_FILE: join(dir, 'no-such-file'),
    });
    children.push(unreadable);
    expect(await unreadable.exit).toBe(1);
    expect(unreadable.output()).toContain('RELAY_ADMIN_TOKEN_FILE');
  });

  it('PORTAL_KMS_KEY_ID: seals with the KMS key (the key file kept), names it at start; not an ARN: exit 1', async () => {
    const kms = await startKmsStandIn();
    try {
      const keyId = kms.createKey();
      const child = start({
        ...productionEnv('kms'),
        PORTAL_KMS_KEY_ID: keyId,
        AWS_ENDPOINT_URL_KMS: kms.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      });
      children.push(child);
      await ready(child);
      expect(child.output()).toContain(
        `portal: KEK: aws-kms:${keyId} seals; also opens portal-file-kek`,
      );
      child.process.kill('SIGTERM');
      await child.exit;
    } finally {
      await kms.close();
    }

    const bad = start({ ...productionEnv('kms-bad'), PORTAL_KMS_KEY_ID: 'alias/portal' });
    children.push(bad);
    expect(await bad.exit).toBe(1);
    expect(bad.output()).toContain(
      'portal: PORTAL_KMS_KEY_ID: "alias/portal" is not a KMS key ARN',
    );
  });

  it('createPortal refuses a keyring that is not a Keyring, saying what to pass', async () => {
    await expect(
      createPortal({
        dataDir: join(dir, 'bad-keyring'),
        tls,
        inMemoryDatabase: true,
        keyring: { primary: {} } as unknown as Keyring,
        relay: {
          adminAddress: `localhost:${relay.adminPort}`,
          adminToken: ADMIN_TOKEN,
          relayUrl: relay.url,
          portalToken: PORTAL_TOKEN,
          ca: tls.ca,
        },
        mail: memoryTransport(),
        sms: smsSink(),
      }),
    ).rejects.toThrow(/keyring must be a Keyring of @fluxel\/crypto/);
  });

  it('createPortal binds the `host` option (default 127.0.0.1)', async () => {
    const bound: { address: string; family: string }[] = [];
    const v6 = await new Promise<boolean>((done) => {
      const probe = net.createServer();
      probe.once('error', () => done(false));
      probe.listen(0, '::1', () => probe.close(() => done(true)));
    });
    for (const host of [undefined, '0.0.0.0', ...(v6 ? ['::1'] : [])]) {
      const portal = await createPortal({
        dataDir: join(dir, `host-${host ?? 'default'}`),
        tls,
        ...(host ? { host } : {}),
        inMemoryDatabase: true,
        relay: {
          adminAddress: `localhost:${relay.adminPort}`,
          adminToken: ADMIN_TOKEN,
          relayUrl: relay.url,
          portalToken: PORTAL_TOKEN,
          ca: tls.ca,
        },
        mail: memoryTransport(),
        sms: smsSink(),
      });
      try {
        const address = portal.app.server.address() as net.AddressInfo;
        expect(address.port).toBe(portal.port);
        bound.push({ address: address.address, family: address.family });
      } finally {
        await portal.close();
      }
    }
    expect(bound[0]).toEqual({ address: '127.0.0.1', family: 'IPv4' });
    expect(bound[1]).toEqual({ address: '0.0.0.0', family: 'IPv4' });
    if (v6) expect(bound[2]).toEqual({ address: '::1', family: 'IPv6' });
  });
});
