/**
 * The lock file of a file-backed store (outbox, mailbox dedupe): keeps a second process out,
 * takes over from a dead one on this host. Node only; not part of the public API.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { processAlive } from '../../../internal/src/process-alive.js';
import { RelayError } from '../errors.js';

export function storageError(message: string, cause?: unknown): RelayError {
  return new RelayError('ERR_RELAY_OUTBOX_STORAGE', message, cause === undefined ? {} : { cause });
}

/** A RelayError as is; anything else as a storage error with `message`. */
export function wrap(error: unknown, message: string): RelayError {
  if (RelayError.isInstance(error)) return error;
  return storageError(message, error);
}

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly at: number;
}

/** Lock files held by this process (absolute paths). */
const heldLocks = new Set<string>();

/** Options of {@link LockFile.acquire}. */
export interface LockOptions {
  /**
   * Take over a lock left by a process on another host name. Only for a folder that no
   * other machine can reach, when the host name changes per run (containers). Default false.
   */
  readonly takeOverFromOtherHost?: boolean;
}

/**
 * An exclusive lock file holding `{pid, host, token}`. Created atomically (written to a
 * temporary file, then hard-linked into place, which fails if the lock exists). A lock
 * whose process is gone (same host, no such pid) is stale and taken over; the caller is
 * told, because every lease the dead process held can then be released at once.
 */
export class LockFile {
  readonly path: string;
  readonly #token: string;
  /** True when the lock was taken over from a process that is gone. */
  readonly tookOverStale: boolean;
  #released = false;

  private constructor(path: string, token: string, tookOverStale: boolean) {
    this.path = path;
    this.#token = token;
    this.tookOverStale = tookOverStale;
  }

  static async acquire(file: string, options: LockOptions = {}): Promise<LockFile> {
    const path = resolve(file);
    if (heldLocks.has(path)) throw storageError(`${path} is already open in this process`);
    const token = randomUUID();
    const content: LockContent = { pid: process.pid, host: hostname(), token, at: Date.now() };
    const tmp = `${path}.${token}.tmp`;
    await writeFile(tmp, `${JSON.stringify(content)}\n`, { flag: 'wx' });
    let tookOverStale = false;
    try {
      for (let round = 0; round < 3; round++) {
        try {
          await link(tmp, path);
          heldLocks.add(path);
          return new LockFile(path, token, tookOverStale);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const holder = await readLock(path);
        if (holder === 'missing') continue;
        if (holder !== 'unreadable') {
          if (holder.host !== content.host) {
            if (!options.takeOverFromOtherHost)
              throw storageError(
                `${path} is locked by process ${holder.pid} on ${holder.host}; remove the lock file only if that process is gone`,
              );
          } else if (holder.pid !== process.pid && processAlive(holder.pid))
            throw storageError(`${path} is locked by running process ${holder.pid}`);
          // Our own pid but not our lock: left by an earlier run that had the same pid
          // (a restarted container's pid 1), so it is stale as well.
        }
        // Stale: move it aside (atomic), check we moved what we judged, then delete it.
        const aside = `${path}.${token}.stale`;
        try {
          await rename(path, aside);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
        const moved = await readLock(aside);
        const judged = holder === 'unreadable' ? undefined : holder.token;
        const movedToken = typeof moved === 'object' ? moved.token : undefined;
        if (movedToken !== judged) {
          // Another process took the lock in between: put its lock back.
          await link(aside, path).catch(() => undefined);
          await unlink(aside).catch(() => undefined);
          throw storageError(`${path} was taken by another process while starting`);
        }
        await unlink(aside);
        tookOverStale = true;
      }
      throw storageError(`could not acquire ${path}`);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Deletes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    heldLocks.delete(this.path);
    const holder = await readLock(this.path);
    if (typeof holder === 'object' && holder.token === this.#token) await unlink(this.path);
  }
}

async function readLock(path: string): Promise<LockContent | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const value = JSON.parse(text) as LockContent;
    if (typeof value.pid === 'number' && typeof value.token === 'string') return value;
  } catch {
    // fall through
  }
  return 'unreadable';
}

/**
 * Creates `dir` if needed and takes the store's lock file in it; failures become a storage
 * error naming `what`. Shared by the file outbox and the file dedupe store.
 */
export async function lockStoreDir(
  dir: string,
  lockName: string,
  what: string,
  takeOverFromOtherHost: boolean,
): Promise<LockFile> {
  if (typeof dir !== 'string' || dir === '') {
    throw new RelayError('ERR_RELAY_INVALID_ARGUMENT', 'dir must be a non-empty string');
  }
  try {
    await mkdir(dir, { recursive: true });
    return await LockFile.acquire(join(dir, lockName), { takeOverFromOtherHost });
  } catch (error) {
    throw wrap(error, `could not lock ${what} in ${dir}`);
  }
}
