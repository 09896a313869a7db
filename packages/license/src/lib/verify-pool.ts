/**
 * Signature verification on other cores: a pool of `worker_threads` that checks the ES256 and
 * EdDSA signatures of DPoP proofs (one per request), so a server's main thread (TLS, HTTP, the
 * database) is not also the one doing the per-request elliptic-curve work. Pass it as the
 * `verifier` of a `LicenseAuthority` (or the `backend` of `createDpopVerifier`); everything
 * else — parsing, claims, the nonce, the replay cache — stays on the calling thread, so a
 * proof is still accepted at most once whichever thread checked its signature.
 *
 * Requests made in the same turn of the event loop travel to a thread as one message and come
 * back as one; each thread imports a key once (the key travels with its first request to it).
 * A thread that dies fails its pending checks with `ERR_LICENSE_STORAGE` (never "valid") and
 * is replaced.
 */
import { createPublicKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { algorithmOf, type PublicJwk, type SignatureAlgorithm } from '../jwk.js';
import type { Verifier, VerifierFactory } from '../sig.js';
import { LicenseError } from './errors.js';

/**
 * Options of {@link createVerifyPool}.
 *
 * @example
 * ```ts
 * import { createVerifyPool, type VerifyPoolOptions } from '@fluxel/license/node';
 *
 * const options: VerifyPoolOptions = { threads: 1, keysPerThread: 1_000 };
 * const pool = createVerifyPool(options);
 * await pool.close();
 * ```
 */
export interface VerifyPoolOptions {
  /** Worker threads, 1–64. Default: one per core beyond the first (at least 1). */
  readonly threads?: number;
  /** Keys a thread keeps imported before it starts over. Default 10 000. */
  readonly keysPerThread?: number;
}

/**
 * A pool of verification threads; a {@link VerifierFactory}. Close it when done.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createDpopSigner, createDpopVerifier, generateKeyPair, MemoryReplayStore } from '@fluxel/license/server';
 * import { createVerifyPool, type VerifyPool } from '@fluxel/license/node';
 *
 * const pool: VerifyPool = createVerifyPool({ threads: 1 });
 * try {
 *   const verifier = createDpopVerifier({ replay: new MemoryReplayStore(), backend: pool });
 *   const device = createDpopSigner((await generateKeyPair()).privateJwk);
 *   const url = 'https://relay.example/v1/mailbox';
 *   const proof = await device.proof({ method: 'GET', url });
 *   assert.equal((await verifier.verify({ method: 'GET', url, proof })).jkt, device.jkt);
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export interface VerifyPool extends VerifierFactory {
  /** How many threads verify. */
  readonly threads: number;
  /** Stops the threads; pending checks fail with `ERR_LICENSE_STORAGE`. */
  close(): Promise<void>;
}

/**
 * The default thread count: one per core beyond the first, at least one.
 *
 * @example
 * ```ts
 * import { availableParallelism } from 'node:os';
 * import { defaultVerifyThreads } from '@fluxel/license/node';
 *
 * console.log(defaultVerifyThreads(), availableParallelism()); // e.g. 7 8: one core left for the event loop
 * ```
 */
export function defaultVerifyThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

// Runs in each thread (CommonJS, as `eval` workers do). A message is
// { seq, reset, keys: [id, jwk, alg][], ids, lengths, bytes }: every check's signed data
// (`lengths[i]` bytes) and its 64-byte signature, back to back in one transferred buffer —
// small views of a pooled buffer would each be cloned whole. The answer is { seq, ok }.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
let keys = new Map();
parentPort.on('message', (m) => {
  if (m.reset) keys = new Map();
  for (const [id, jwk, alg] of m.keys) {
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    keys.set(id, alg === 'ES256' ? { key: { key, dsaEncoding: 'ieee-p1363' }, digest: 'sha256' } : { key, digest: null });
  }
  const ok = new Uint8Array(m.ids.length);
  let at = 0;
  for (let i = 0; i < m.ids.length; i++) {
    const data = m.bytes.subarray(at, at + m.lengths[i]);
    at += m.lengths[i];
    const sig = m.bytes.subarray(at, at + 64);
    at += 64;
    const k = keys.get(m.ids[i]);
    try { ok[i] = k && crypto.verify(k.digest, data, k.key, sig) ? 1 : 0; }
    catch { ok[i] = 0; }
  }
  parentPort.postMessage({ seq: m.seq, ok }, [ok.buffer]);
});
`;

interface Job {
  readonly keyId: number;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
  readonly done: (valid: boolean) => void;
  readonly fail: (error: unknown) => void;
}

interface PoolKey {
  readonly id: number;
  readonly jwk: PublicJwk;
  readonly alg: SignatureAlgorithm;
}

class Lane {
  worker: Worker;
  /** Jobs sent, by message sequence number. */
  readonly sent = new Map<number, Job[]>();
  /** Jobs waiting for this tick's message. */
  queue: Job[] = [];
  loaded = new Set<number>();
  reset = false;
  outstanding = 0;
  seq = 0;

  constructor(readonly pool: Pool) {
    this.worker = this.#spawn();
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // An idle pool does not keep the process alive.
    worker.unref();
    worker.on('message', (m: { seq: number; ok: Uint8Array }) => {
      const jobs = this.sent.get(m.seq);
      if (!jobs) return;
      this.sent.delete(m.seq);
      this.outstanding -= jobs.length;
      for (let i = 0; i < jobs.length; i++) jobs[i]?.done(m.ok[i] === 1);
    });
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.#failAll();
      if (!this.pool.closed) {
        this.loaded = new Set();
        this.worker = this.#spawn();
      }
    });
    return worker;
  }

  #failAll(): void {
    const jobs = [...this.sent.values()].flat();
    this.sent.clear();
    this.outstanding = 0;
    for (const job of jobs) job.fail(threadGone());
  }

  flush(keys: Map<number, PoolKey>, keysPerThread: number): void {
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length === 0) return;
    if (this.loaded.size + jobs.length > keysPerThread) {
      this.loaded = new Set();
      this.reset = true;
    }
    const newKeys: [number, PublicJwk, SignatureAlgorithm][] = [];
    for (const job of jobs) {
      if (this.loaded.has(job.keyId)) continue;
      const key = keys.get(job.keyId);
      if (key) newKeys.push([key.id, key.jwk, key.alg]);
      this.loaded.add(job.keyId);
    }
    let size = 0;
    for (const job of jobs) size += job.data.length + 64;
    const bytes = new Uint8Array(size);
    const lengths = new Uint32Array(jobs.length);
    let at = 0;
    jobs.forEach((job, i) => {
      bytes.set(job.data, at);
      bytes.set(job.signature, at + job.data.length);
      lengths[i] = job.data.length;
      at += job.data.length + 64;
    });
    const seq = ++this.seq;
    this.sent.set(seq, jobs);
    this.worker.postMessage(
      {
        seq,
        reset: this.reset,
        keys: newKeys,
        ids: jobs.map((j) => j.keyId),
        lengths,
        bytes,
      },
      [bytes.buffer, lengths.buffer],
    );
    this.reset = false;
  }

  fail(): void {
    this.#failAll();
    for (const job of this.queue) job.fail(threadGone());
    this.queue = [];
  }
}

class Pool implements VerifyPool {
  readonly threads: number;
  closed = false;
  readonly #lanes: Lane[];
  readonly #keys = new Map<number, PoolKey>();
  readonly #keysPerThread: number;
  #nextKey = 0;
  #scheduled = false;

  constructor(threads: number, keysPerThread: number) {
    this.threads = threads;
    this.#keysPerThread = keysPerThread;
    this.#lanes = Array.from({ length: threads }, () => new Lane(this));
  }

  createVerifier(jwk: PublicJwk): Verifier {
    const alg = algorithmOf(jwk);
    // Imported here once, only to refuse a key that is not a valid point (as the in-thread
    // backends do), before any thread sees it.
    createPublicKey({ key: { ...jwk }, format: 'jwk' });
    const key: PoolKey = { id: ++this.#nextKey, jwk: { ...jwk }, alg };
    // Keys are referenced by id from the threads; the map is bounded like the threads' caches.
    if (this.#keys.size >= this.#keysPerThread * 2) this.#keys.clear();
    this.#keys.set(key.id, key);
    return {
      alg,
      verify: (data, signature) => this.#verify(key, data, signature),
    };
  }

  #verify(key: PoolKey, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.closed) return Promise.reject(threadGone());
    if (signature.length !== 64) return Promise.resolve(false);
    // A key dropped from the map (bounded) is put back by its verifier.
    if (!this.#keys.has(key.id)) this.#keys.set(key.id, key);
    return new Promise<boolean>((done, fail) => {
      const lane = this.#leastBusy();
      lane.queue.push({ keyId: key.id, data, signature, done, fail });
      lane.outstanding++;
      if (!this.#scheduled) {
        this.#scheduled = true;
        // At the end of this turn of the event loop: every request read in it (the HTTP
        // parser hands over several at once under load) travels in the same message.
        setImmediate(() => {
          this.#scheduled = false;
          for (const l of this.#lanes) l.flush(this.#keys, this.#keysPerThread);
        });
      }
    });
  }

  #leastBusy(): Lane {
    let best = this.#lanes[0] as Lane;
    for (const lane of this.#lanes) if (lane.outstanding < best.outstanding) best = lane;
    return best;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.#lanes) lane.fail();
    await Promise.all(this.#lanes.map((lane) => lane.worker.terminate()));
  }
}

function threadGone(): LicenseError {
  return new LicenseError(
    'ERR_LICENSE_STORAGE',
    'the signature verification thread stopped; try again',
  );
}

/**
 * Starts a pool of signature verification threads.
 *
 * @example
 * ```ts
 * import { createVerifyPool } from '@fluxel/license/node';
 * import { generateKeyPair, LicenseAuthority, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const pool = createVerifyPool({ threads: 1 }); // default: defaultVerifyThreads()
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 *   verifier: pool, // DPoP signature checks on worker threads
 * });
 * console.log(authority.jwks().keys.length); // 1
 * await pool.close(); // on shutdown
 * ```
 */
export function createVerifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  const threads = options.threads ?? defaultVerifyThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      `threads must be a whole number from 1 to 64, got ${String(threads)}`,
    );
  const keysPerThread = options.keysPerThread ?? 10_000;
  if (!Number.isInteger(keysPerThread) || keysPerThread < 1)
    throw new LicenseError(
      'ERR_LICENSE_INVALID_ARGUMENT',
      `keysPerThread must be a positive whole number, got ${String(keysPerThread)}`,
    );
  return new Pool(threads, keysPerThread);
}
