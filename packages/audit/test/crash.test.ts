import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError, AuditLog, signingKeyFromSeed } from '../src/index.ts';
import { FileStore, listSegments, verifyPath } from '../src/node.ts';
import { readLines, tempDir, writeLog } from './helpers.ts';

const key = signingKeyFromSeed(new Uint8Array(32).fill(7));

describe('durability', () => {
  it('kill -9 during sustained appends: every acknowledged event is there and verifies', async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/crash-child.ts'), dir],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..') },
    );
    const acked = new Map<number, string>();
    let buffer = '';
    let ready = false;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited early: ${code ?? signal}`));
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        buffer += text;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'ready') {
            ready = true;
            continue;
          }
          const [seq, id] = line.split(' ');
          acked.set(Number(seq), id as string);
        }
        // Kill mid-run, well into sustained appends (several segments, many batches).
        if (ready && acked.size >= 3000 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await exited;
    expect(acked.size).toBeGreaterThanOrEqual(3000);
    expect((await listSegments(dir)).length).toBeGreaterThan(1);

    // Reopen (the stale lock of the dead writer is taken over), continue, close.
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    const found = new Map<number, string>();
    for await (const record of log.store.read?.(1) ?? [])
      if (record.event) found.set(record.seq, record.event.id);
    for (const [seq, id] of acked) expect(found.get(seq), `acknowledged seq ${seq}`).toBe(id);
    await log.append({
      tenant: 'acme',
      actor: { type: 'system', id: 'restart' },
      action: 'audit.restart',
      outcome: 'success',
    });
    await log.close();
    const report = await verifyPath(dir, { publicKeys: [key] });
    expect(report.findings).toEqual([]);
    expect(report.lastSeq).toBeGreaterThanOrEqual(Math.max(...acked.keys()));
  });

  it('a torn final line (never acknowledged) is cut on open and recorded in a signed recover checkpoint', async () => {
    const { dir, segment } = await writeLog(12, { key });
    appendFileSync(segment, '{"s":99,"p":"00');
    // Before reopening, the verifier reports the torn tail.
    expect((await verifyPath(dir)).findings.map((f) => f.code)).toEqual(['torn-tail']);
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    await log.close();
    const recover = readLines(segment).filter((l) => l.includes('"reason":"recover"'));
    expect(recover).toHaveLength(1);
    expect(recover[0]).toContain('"recovered":{"truncatedBytes":15}');
    const report = await verifyPath(dir, { publicKeys: [key] });
    expect(report.findings).toEqual([]);
    expect(report.notes.join('\n')).toContain('recovered after a crash');
  });

  it('a crash between sealing a segment and opening the next one: the next segment still starts signed', async () => {
    const dir = tempDir();
    await writeLog(40, { dir, key, fileStore: { segmentMaxBytes: 2048 } });
    const segments = await listSegments(dir);
    const last = segments.at(-1) as { path: string; firstSeq: number };
    // Simulate the crash: the new segment file exists but nothing reached it.
    writeFileSync(last.path, '');
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    await log.close();
    const first = readLines(last.path)[0] as string;
    expect(first).toContain('"reason":"open"');
    expect(first).toContain(`{"s":${last.firstSeq},`);
    expect((await verifyPath(dir, { publicKeys: [key] })).findings).toEqual([]);
  });

  it('refuses to open a log whose last record is damaged (never repairs evidence)', async () => {
    const { dir, segment } = await writeLog(5, { key });
    const text = readFileSync(segment, 'utf8');
    writeFileSync(segment, `${text.slice(0, -20)}garbage\n`);
    await expect(
      AuditLog.open({ store: new FileStore(dir), signingKey: key }),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_STORAGE',
    });
  });

  it('a failed open (wrong key) releases the directory', async () => {
    const { dir } = await writeLog(3, { key });
    const other = signingKeyFromSeed(new Uint8Array(32).fill(8));
    await expect(
      AuditLog.open({ store: new FileStore(dir), signingKey: other }),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_KEY',
    });
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    await log.close();
  });

  it('one writer per directory', async () => {
    const dir = tempDir();
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    const error = await AuditLog.open({ store: new FileStore(dir), signingKey: key }).catch(
      (e: unknown) => e,
    );
    expect(AuditError.isInstance(error) && error.code).toBe('ERR_AUDIT_STORAGE');
    await log.close();
  });

  it('close() makes everything durable and later appends fail with ERR_AUDIT_LOG_CLOSED', async () => {
    const dir = tempDir();
    const log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    const pending = Array.from({ length: 100 }, (_, i) =>
      log.append({
        tenant: 't',
        actor: { type: 'user', id: `u${i}` },
        action: 'data.update',
        outcome: 'success',
      }),
    );
    await log.close();
    const receipts = await Promise.all(pending);
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    await expect(
      log.append({
        tenant: 't',
        actor: { type: 'user', id: 'u' },
        action: 'data.update',
        outcome: 'success',
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_LOG_CLOSED' });
    expect((await verifyPath(dir)).ok).toBe(true);
  });
});
