/**
 * Wiring of the end-to-end suite: each file starts the system it needs with the launcher (real
 * processes, real HTTPS, ephemeral ports, a temp folder) and stops it afterwards. PostgreSQL is
 * used when reachable (a fresh schema per system, dropped afterwards; much faster to start than
 * PGlite), else every component falls back to its embedded PGlite files.
 */

import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicJwk, signingKeyFromSeed } from '@fluxel/audit';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import pg from 'pg';
import { type System, type SystemOptions, startSystem } from '../src/index.ts';

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';
let pgUrl: Promise<string | undefined> | undefined;

/** `DATABASE_URL`, else the local default when it answers, else undefined (PGlite). */
export function databaseUrl(): Promise<string | undefined> {
  pgUrl ??= (async () => {
    const url = process.env.DATABASE_URL ?? DEFAULT_PG;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: READY_BOUND_MS,
    });
    try {
      await client.connect();
      await client.end();
      return url;
    } catch {
      await client.end().catch(() => {});
      return undefined;
    }
  })();
  return pgUrl;
}

export interface Booted extends System {
  readonly schema: string;
  readonly databaseUrl: string | undefined;
  /** Every stored value of every relay table as text (PostgreSQL), or the raw bytes of the relay's PGlite files. */
  relayStorage(): Promise<Buffer>;
  close(): Promise<void>;
}

export async function boot(options: Partial<SystemOptions> = {}): Promise<Booted> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-system-'));
  const url = await databaseUrl();
  const schema = `sys_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
  const dropSchemas = async () => {
    if (!url) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of [`${schema}_relay`, `${schema}_portal`])
      await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.end();
  };
  let system: System;
  try {
    system = await startSystem({
      dataDir,
      ...(url ? { databaseUrl: url, databaseSchema: schema } : {}),
      portal: false,
      ...options,
    });
  } catch (error) {
    // startSystem stopped what it had started; leave nothing else behind either.
    await dropSchemas().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return Object.assign(system, {
    schema,
    databaseUrl: url,
    async relayStorage() {
      if (!url) return readTree(join(dataDir, 'relay', 'pglite'));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
          [`${schema}_relay`],
        );
        const parts: string[] = [];
        for (const { table_name } of rows as { table_name: string }[]) {
          const res = await client.query(
            `SELECT t::text AS row FROM "${schema}_relay"."${table_name}" t`,
          );
          for (const r of res.rows as { row: string }[]) parts.push(`${table_name}: ${r.row}`);
        }
        return Buffer.from(parts.join('\n'));
      } finally {
        await client.end();
      }
    },
    async close() {
      await system.stop();
      await dropSchemas();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

function readTree(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir, { recursive: true })) {
    const path = join(dir, String(name));
    if (statSync(path).isFile()) parts.push(readFileSync(path));
  }
  return Buffer.concat(parts);
}

/** Issues a license through the admin gRPC API and activates a fresh agent folder with it (file key store), credentials set. */
export async function activatedAgent(
  system: System,
  name: string,
  options: { credentials?: boolean; tenant?: string } = {},
): Promise<{ dir: string; licenseId: string; licenseKey: string }> {
  const admin = system.admin();
  const { license, licenseKey } = await admin.create({
    tenant: options.tenant ?? 'demo-merchant',
    product: 'wawi-sync',
    entitlements: ['orders'],
  });
  const dir = join(system.dataDir, 'agents', name);
  const activated = await system.activateAgent(dir, licenseKey);
  if (activated.code !== 0) throw new Error(`activation failed: ${activated.stdout}`);
  if (options.credentials !== false) await putCredentials(system, dir);
  return { dir, licenseId: license.id, licenseKey };
}

export async function putCredentials(system: System, dir: string) {
  const res = await system.putAgentCredentials(dir);
  // The counterpart's webhooks go to this license's own hook URL from now on.
  if (res.code === 0) await system.useWebhookUrlFrom(res);
  return res;
}

/** Drops one record into the agent's folder (written under a dot name, then renamed). */
export function dropRecord(dir: string, name: string, record: unknown): void {
  const tmp = join(dir, 'outgoing', `.${name}.json`);
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, join(dir, 'outgoing', `${name}.json`));
}

/** The relay's audit events (every segment file, in order). */
export function relayAuditEvents(system: System): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const files = readdirSync(system.relayAuditDir)
    .filter((f) => !f.startsWith('.'))
    .sort();
  for (const f of files) {
    const path = join(system.relayAuditDir, f);
    if (!statSync(path).isFile()) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as { k?: string; e?: Record<string, unknown> };
        if (rec.k === 'e' && rec.e) out.push(rec.e);
      } catch {}
    }
  }
  return out;
}

/** The relay's audit checkpoint public key (from its dev secrets), written as a JWK file. */
export function relayAuditKeyFile(system: System): string {
  const secrets = JSON.parse(readFileSync(join(system.relayDataDir, 'secrets.json'), 'utf8')) as {
    auditSeed: string;
  };
  const key = signingKeyFromSeed(new Uint8Array(Buffer.from(secrets.auditSeed, 'base64')));
  const file = join(system.dataDir, 'relay-audit-key.json');
  writeFileSync(file, JSON.stringify(publicJwk(key)));
  return file;
}

export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = READY_BOUND_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Drops the two schemas a demo run made under `schema` (`<schema>_relay`, `<schema>_portal`)
 * when it ran on PostgreSQL (`url` set), and its data folder.
 */
export async function removeDemoData(
  url: string | undefined,
  schema: string,
  dataDir: string,
): Promise<void> {
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of [`${schema}_relay`, `${schema}_portal`])
      await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.end();
  }
  rmSync(dataDir, { recursive: true, force: true });
}
