/**
 * The one-writer lock of a {@link FileStore} directory: a `LOCK` file that names its holder
 * (pid, pid namespace, boot id, process start time, host) and whose mtime the holder touches
 * every heartbeat. Node only, not exported.
 *
 * Liveness of a holder, without native addons (Node has no flock):
 * - same boot and same pid namespace (and a `/proc` of that namespace): alive iff the pid
 *   exists and its start time is the recorded one. A reused pid — "our own pid" in the next
 *   container after a crash — is stale at once;
 * - otherwise (another container, another host, no `/proc`): the heartbeat. A lock whose mtime
 *   is older than `staleMs` is stale. Across boots (or hosts) the clocks are not compared: the
 *   lock is stale once its mtime has not changed for `staleMs` while we watch.
 *
 * Every change of `LOCK` is atomic. A new lock is a complete temp file `link()`ed to `LOCK`
 * (EEXIST when taken). Replacing a stale lock, or releasing one's own, first claims that
 * generation of the file: `link(LOCK, LOCK.claim.<inode>.<content hash>)` succeeds for one
 * contender only, and the claimant checks that the name it linked is still the inode and the
 * bytes it judged; then it renames its own temp file over `LOCK`. Two openers racing on one
 * stale lock cannot both win.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import {
  type FileHandle,
  link,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../internal/src/process-alive.js';
import { AuditError } from './errors.js';

/** Who holds a lock, as recorded in `LOCK` (JSON). `null`: not available on that system. */
export interface LockHolder {
  readonly pid: number;
  /** `readlink /proc/self/ns/pid`, e.g. `pid:[4026531836]`. */
  readonly pidNs: string | null;
  /** `/proc/sys/kernel/random/boot_id`. */
  readonly bootId: string | null;
  /** Field 22 of `/proc/<pid>/stat`: clock ticks since boot when the process started. */
  readonly start: string | null;
  readonly host: string;
  /** Random per lock: the holder's own mark. */
  readonly token: string;
  /** The holder's stale bound (its `lockStaleMs`): openers judge its heartbeat by it. */
  readonly staleMs?: number;
}

export interface DirLockOptions {
  readonly heartbeatMs: number;
  readonly staleMs: number;
  readonly waitMs: number;
}

function tryRead(read: () => string): string | null {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
}

/** Field 22 (starttime) of a `/proc/<pid>/stat` line; the command (field 2) may hold spaces. */
function startTime(statLine: string): string | null {
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null; // fields[0] is field 3
}

/** This process, as it records itself. The /proc facts only count when /proc shows our pid
 * namespace (its `self` is our pid): a /proc of another namespace would name other processes. */
function self(): LockHolder {
  const stat = tryRead(() => readFileSync('/proc/self/stat', 'utf8'));
  const ours = stat !== null && Number(stat.slice(0, stat.indexOf(' '))) === process.pid;
  return {
    pid: process.pid,
    pidNs: ours ? tryRead(() => readlinkSync('/proc/self/ns/pid')) : null,
    bootId: tryRead(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    start: ours && stat ? startTime(stat) : null,
    host: hostname(),
    token: randomUUID(),
  };
}

/** A `LOCK`'s content: the JSON record, or the plain pid written before (`{ pid }` only). */
function parse(text: string): LockHolder | { pid: number } | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const value = JSON.parse(trimmed) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.token === 'string')
      return value as LockHolder;
  } catch {}
  return undefined;
}

type Verdict =
  | { state: 'alive'; why: string }
  | { state: 'stale' }
  | { state: 'fresh'; ageMs: number; staleMs: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DirLock {
  readonly #dir: string;
  readonly #path: string;
  readonly #options: DirLockOptions;
  readonly #me: LockHolder;
  #fh: FileHandle | undefined;
  #ino = 0;
  /** The bytes of our LOCK. */
  readonly #bytes: Buffer;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating = false;
  /** Set when the heartbeat finds `LOCK` is no longer ours: the store must stop writing. */
  lost: AuditError | undefined;

  constructor(dir: string, options: DirLockOptions) {
    this.#dir = dir;
    this.#path = join(dir, 'LOCK');
    this.#options = options;
    this.#me = self();
    this.#bytes = Buffer.from(JSON.stringify({ ...this.#me, staleMs: options.staleMs }));
  }

  /** Takes the lock, waiting up to `waitMs` for a live foreign holder's heartbeat to stop. */
  async acquire(): Promise<void> {
    const started = performance.now();
    /** Across boots: the mtime we saw and since when (our monotonic clock). */
    let watched: { key: string; since: number } | undefined;
    /** A claim seen in progress, and since when: a claimant that died mid-way. */
    let claimWatch: { name: string; since: number } | undefined;
    const tmp = join(this.#dir, `LOCK.${this.#me.token}.tmp`);
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(this.#bytes);
      await fh.sync();
      for (;;) {
        try {
          await link(tmp, this.#path);
          return await this.#won(fh, tmp);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const seen = await this.#read();
        if (!seen) continue; // released meanwhile
        watched = seen.key === watched?.key ? watched : { key: seen.key, since: performance.now() };
        const verdict = this.#judge(seen.holder, seen.mtimeMs, watched);
        let why: string;
        if (verdict.state === 'stale') {
          const claim = await this.#claimStale(seen.ino, seen.bytes, claimWatch);
          if (claim.won) {
            await rename(tmp, this.#path);
            await this.#unclaim(seen.ino, seen.bytes);
            return await this.#won(fh, undefined);
          }
          claimWatch = claim.watch;
          why = 'its lock is stale and another opener is taking it over';
        } else if (verdict.state === 'alive') {
          throw this.#busy(seen.holder, verdict.why);
        } else {
          why = `its heartbeat was last seen ${Math.round(verdict.ageMs)} ms ago; its lock goes stale ${verdict.staleMs} ms after its last heartbeat`;
        }
        const waited = performance.now() - started;
        if (waited >= this.#options.waitMs)
          throw this.#busy(seen.holder, `${why} (waited ${Math.round(waited)} ms)`);
        await sleep(
          Math.min(Math.max(20, this.#options.heartbeatMs / 4), this.#options.waitMs - waited + 1),
        );
      }
    } catch (error) {
      if (this.#fh === fh) await this.release().catch(() => {});
      else await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw error;
    }
  }

  async #won(fh: FileHandle, tmp: string | undefined): Promise<void> {
    this.#fh = fh;
    this.#ino = (await fh.stat()).ino;
    if (tmp) await unlink(tmp);
    await this.#syncDir();
    await this.#sweep();
    this.#timer = setInterval(() => void this.#beat(), this.#options.heartbeatMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const fh = this.#fh;
    if (!fh || this.#beating || this.lost) return;
    this.#beating = true;
    try {
      const current = await stat(this.#path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined; // deleted: another writer may take it
        throw error;
      });
      if (current?.ino !== this.#ino) {
        this.lost = new AuditError(
          'ERR_AUDIT_STORAGE',
          `the lock of ${this.#dir} was taken over by another writer (this process missed its heartbeats for longer than ${this.#options.staleMs} ms); stopped writing: open the log again`,
        );
        return;
      }
      const now = new Date();
      await fh.utimes(now, now);
    } catch {
      // A missed beat is retried at the next one; staleMs spans several.
    } finally {
      this.#beating = false;
    }
  }

  /** Releases the lock if it is still ours (claimed like a takeover, so it never deletes a
   * lock that another writer took over meanwhile). */
  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const fh = this.#fh;
    this.#fh = undefined;
    if (!fh) return;
    try {
      const bytes = this.#bytes;
      const name = `${this.#claimBase(this.#ino, bytes)}0`;
      if (!this.lost && (await this.#claim(this.#ino, bytes, name))) {
        await unlink(this.#path);
        await unlink(join(this.#dir, name)).catch(() => {});
      }
    } finally {
      await fh.close();
    }
  }

  async #read(): Promise<
    | { holder: ReturnType<typeof parse>; bytes: Buffer; ino: number; mtimeMs: number; key: string }
    | undefined
  > {
    let fh: FileHandle;
    try {
      fh = await open(this.#path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const [info, bytes] = [await fh.stat(), await fh.readFile()];
      return {
        holder: parse(bytes.toString('utf8')),
        bytes,
        ino: info.ino,
        mtimeMs: info.mtimeMs,
        key: `${info.ino}:${info.mtimeMs}`,
      };
    } finally {
      await fh.close();
    }
  }

  #judge(
    holder: ReturnType<typeof parse>,
    mtimeMs: number,
    watched: { key: string; since: number },
  ): Verdict {
    const me = this.#me;
    if (holder && !('token' in holder)) {
      // The plain pid of an earlier version: no identity, no heartbeat. Our own pid is a
      // previous incarnation of ours (a restarted container); another live pid is alive.
      if (holder.pid === me.pid || holder.pid <= 0) return { state: 'stale' };
      return processAlive(holder.pid)
        ? { state: 'alive', why: 'it holds a lock of an earlier version (pid only)' }
        : { state: 'stale' };
    }
    if (
      holder &&
      me.pidNs !== null &&
      me.bootId !== null &&
      holder.pidNs === me.pidNs &&
      holder.bootId === me.bootId &&
      holder.start !== null
    ) {
      const start =
        holder.pid === me.pid
          ? me.start
          : tryRead(() => startTime(readFileSync(`/proc/${holder.pid}/stat`, 'utf8')) ?? '');
      return start === holder.start
        ? {
            state: 'alive',
            why:
              holder.pid === me.pid
                ? 'it is this process (another FileStore of the directory is open)'
                : 'it is running in this pid namespace',
          }
        : { state: 'stale' };
    }
    // Foreign (or unreadable: a LOCK being written by an earlier version): the heartbeat.
    const ageMs = Date.now() - mtimeMs;
    const declared = holder && 'staleMs' in holder ? holder.staleMs : undefined;
    const staleMs =
      typeof declared === 'number' && Number.isFinite(declared) && declared > 0
        ? declared
        : this.#options.staleMs;
    const sameClock = holder && 'bootId' in holder && holder.bootId === me.bootId && me.bootId;
    if (sameClock && ageMs > staleMs) return { state: 'stale' };
    if (!sameClock && performance.now() - watched.since > staleMs) return { state: 'stale' };
    return { state: 'fresh', ageMs: Math.max(0, ageMs), staleMs };
  }

  #busy(holder: ReturnType<typeof parse>, why: string): AuditError {
    const who =
      holder && 'host' in holder
        ? `process ${holder.pid} on ${holder.host}`
        : `process ${holder?.pid ?? '?'}`;
    return new AuditError(
      'ERR_AUDIT_STORAGE',
      `the log in ${this.#dir} is open in ${who}: ${why}. One writer per directory: stop that writer (a crashed one's lock is taken over by itself once stale), or give FileStore a longer lockWaitMs`,
    );
  }

  #claimBase(ino: number, bytes: Buffer): string {
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    return `LOCK.claim.${ino}.${digest}.`;
  }

  /**
   * Claims the generation (inode + bytes) of `LOCK` judged stale: `link(LOCK, <claim name>)`
   * succeeds for one contender only. A claim normally lives for a millisecond; one that stays
   * (its claimant died between claim and rename) for `staleMs` while we watch is passed over
   * by claiming the next number, which again only one contender gets.
   */
  async #claimStale(
    ino: number,
    bytes: Buffer,
    watch: { name: string; since: number } | undefined,
  ): Promise<{ won: true } | { won: false; watch: { name: string; since: number } | undefined }> {
    const base = this.#claimBase(ino, bytes);
    const taken = (await readdir(this.#dir))
      .filter((name) => name.startsWith(base))
      .map((name) => Number(name.slice(base.length)))
      .filter(Number.isInteger);
    let n = 0;
    if (taken.length > 0) {
      const last = Math.max(...taken);
      const name = `${base}${last}`;
      if (watch?.name !== name) return { won: false, watch: { name, since: performance.now() } };
      if (performance.now() - watch.since <= this.#options.staleMs) return { won: false, watch };
      n = last + 1;
    }
    return (await this.#claim(ino, bytes, `${base}${n}`)) ? { won: true } : { won: false, watch };
  }

  async #claim(ino: number, bytes: Buffer, name: string): Promise<boolean> {
    const path = join(this.#dir, name);
    try {
      await link(this.#path, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') return false;
      throw error;
    }
    // What we linked is whatever LOCK is now: keep the claim only if it is what we judged.
    const same = (await stat(path)).ino === ino && (await readFile(path)).equals(bytes);
    if (!same) await unlink(path).catch(() => {});
    return same;
  }

  /** Removes the claim names of a generation once it is replaced or released. */
  async #unclaim(ino: number, bytes: Buffer): Promise<void> {
    const base = this.#claimBase(ino, bytes);
    for (const name of await readdir(this.#dir))
      if (name.startsWith(base)) await unlink(join(this.#dir, name)).catch(() => {});
  }

  async #syncDir(): Promise<void> {
    const dh = await open(this.#dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  /** Removes the temp files of openers that crashed before linking theirs (a day old). */
  async #sweep(): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      if (!/^LOCK\.[0-9a-f-]{36}\.tmp$/.test(name)) continue;
      const path = join(this.#dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > 86_400_000) await unlink(path).catch(() => {});
    }
  }
}

/** For tests and diagnostics: the identity this process records. */
export function lockIdentity(): Omit<LockHolder, 'token'> {
  const { token: _, ...rest } = self();
  return rest;
}
