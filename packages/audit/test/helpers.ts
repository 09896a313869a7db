import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import {
  type AuditEventInput,
  AuditLog,
  type AuditLogOptions,
  generateSigningKey,
  type SigningKey,
} from '../src/index.ts';
import { FileStore, type FileStoreOptions } from '../src/node.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the file's tests. */
export function tempDir(prefix = 'fluxel-audit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A typical login event. */
export function loginEvent(i: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    tenant: 'acme',
    actor: { type: 'user', id: `user-${i % 7}`, ip: '192.0.2.10', userAgent: 'Mozilla/5.0' },
    action: 'auth.login',
    outcome: i % 4 === 0 ? 'failure' : 'success',
    requestId: `req-${i}`,
    data: { method: 'password', attempt: i },
    ...overrides,
  };
}

/** Writes `count` events to a new file log and closes it. */
export async function writeLog(
  count: number,
  options: Partial<Omit<AuditLogOptions, 'store'>> & {
    dir?: string;
    key?: SigningKey;
    fileStore?: FileStoreOptions;
    concurrency?: number;
  } = {},
): Promise<{ dir: string; key: SigningKey; segment: string }> {
  const dir = options.dir ?? tempDir();
  const key = options.key ?? generateSigningKey();
  const log = await AuditLog.open({
    checkpointEvery: 10,
    checkpointIntervalMs: 0,
    ...options,
    store: new FileStore(dir, options.fileStore),
    signingKey: key,
  });
  const concurrency = options.concurrency ?? 1;
  for (let i = 0; i < count; i += concurrency) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + concurrency); j++)
      batch.push(log.append(loginEvent(j)));
    await Promise.all(batch);
  }
  await log.close();
  return { dir, key, segment: join(dir, '00000000000000000001.log') };
}

/** The lines of a file (without the final empty one). */
export function readLines(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop();
  return lines;
}

/** Writes lines back with a final newline. */
export function writeLines(path: string, lines: string[]): void {
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
}
