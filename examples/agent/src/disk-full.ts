/**
 * When the outbox cannot be written (the disk is full, or any other write failure), its log
 * refuses every later write until it is opened again: the agent stayed stuck — claimed files
 * not enqueued, delivered records not marked done — until someone restarted it. Now the
 * service notices (`ERR_RELAY_OUTBOX_STORAGE`), stops claiming (files stay in the drop
 * folder; claims already made are taken over on reopen, so nothing is lost), says so, probes
 * the outbox folder until a write succeeds again, and reopens.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Whether `error` is the outbox's storage failure. */
export function isStorageFailure(error: unknown): error is Error {
  return (error as { code?: unknown } | undefined)?.code === 'ERR_RELAY_OUTBOX_STORAGE';
}

/** A short reason: "the disk is full (ENOSPC)" when it is, else the deepest cause's message. */
export function storageReason(error: Error): string {
  let e: unknown = error;
  let last = error.message;
  for (let depth = 0; e && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC') return 'the disk is full (ENOSPC)';
    if (code === 'EDQUOT') return 'the disk quota is exhausted (EDQUOT)';
    if (e instanceof Error) last = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  return last;
}

/** Room the outbox needs before it is reopened: a probe of this size is written and synced. */
const PROBE_BYTES = 256 * 1024;

/** Whether `dir` takes a write of {@link PROBE_BYTES} now (the probe is removed again). */
export function writable(dir: string): boolean {
  const probe = join(dir, '.space-probe');
  try {
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, Buffer.alloc(PROBE_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Waits until `dir` is writable again (true) or `signal` aborts (false). */
export async function waitUntilWritable(
  dir: string,
  signal: AbortSignal,
  everyMs = 1000,
): Promise<boolean> {
  while (!signal.aborted) {
    if (writable(dir)) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, everyMs);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
  return false;
}
