/**
 * The outbox's in-memory state and its rules — leasing, per-key ordering, dead letters —
 * shared by the memory and the file store. Each mutation returns whether it changed
 * anything, so a log-based store records (and replays) exactly the same operations.
 *
 * Leasing does not scan the outbox: the messages that may be leased next (the candidates:
 * every message without an ordering key, and the oldest live message of each key) sit in a
 * min-heap by the time they become available (`nextAttemptAt`, or the end of their lease),
 * so a lease or a wake-up costs O(log n) however long the backlog.
 *
 * Web platform. Not exported from the package.
 */
import type {
  DeadLetter,
  LeaseOptions,
  OutboxErrorInfo,
  OutboxMessage,
  OutboxStats,
} from './types.js';

type ErrorInfo = OutboxErrorInfo;

interface Entry {
  message: OutboxMessage;
  /** Enqueue order (a revived message goes to the back: it gets a new one). */
  seq: number;
  /** Lease end (ms) while leased. */
  leaseUntil: number | undefined;
  /** When dead-lettered (ms). */
  deadAt: number | undefined;
  /** Bumped whenever the entry's heap node goes stale. */
  version: number;
}

interface HeapNode {
  readonly at: number;
  readonly seq: number;
  readonly entry: Entry;
  readonly version: number;
}

/** @internal */
export class OutboxState {
  /** Live (not dead) messages in enqueue order. */
  readonly #live = new Map<string, Entry>();
  readonly #dead = new Map<string, Entry>();
  /** Live messages of each ordering key, oldest first; the first is the key's candidate. */
  readonly #keys = new Map<string, Entry[]>();
  readonly #heap: HeapNode[] = [];
  #seq = 0;

  /** Messages, live and dead. */
  get size(): number {
    return this.#live.size + this.#dead.size;
  }

  has(id: string): boolean {
    return this.#live.has(id) || this.#dead.has(id);
  }

  /** The message with this id, live or dead (a dead one with its `deadAt`). */
  get(id: string): OutboxMessage | DeadLetter | undefined {
    const live = this.#live.get(id);
    if (live) return live.message;
    const dead = this.#dead.get(id);
    return dead ? { ...dead.message, deadAt: dead.deadAt as number } : undefined;
  }

  /** Adds a message (or, on replay of a snapshot, a message with its state). */
  add(message: OutboxMessage, deadAt?: number): boolean {
    if (this.has(message.id)) return false;
    const entry: Entry = { message, seq: ++this.#seq, leaseUntil: undefined, deadAt, version: 0 };
    if (deadAt !== undefined) {
      this.#dead.set(message.id, entry);
      return true;
    }
    this.#insertLive(entry);
    return true;
  }

  lease(options: LeaseOptions): OutboxMessage[] {
    const { now, leaseMs, limit } = options;
    const out: OutboxMessage[] = [];
    while (out.length < limit) {
      const top = this.#top();
      if (!top || top.at > now) break;
      this.#pop();
      const entry = top.entry;
      entry.message = { ...entry.message, attempts: entry.message.attempts + 1 };
      entry.leaseUntil = now + leaseMs;
      this.#schedule(entry);
      out.push(entry.message);
    }
    return out;
  }

  /** Applies a lease record on replay: the attempt is counted, the lease itself is gone. */
  countAttempt(id: string, attempts: number): boolean {
    const entry = this.#live.get(id);
    if (!entry) return false;
    entry.message = { ...entry.message, attempts };
    entry.leaseUntil = undefined;
    this.#schedule(entry);
    return true;
  }

  complete(id: string): boolean {
    const entry = this.#live.get(id);
    if (entry) {
      this.#removeLive(entry);
      return true;
    }
    return this.#dead.delete(id);
  }

  reschedule(id: string, attempt: number, nextAttemptAt: number, error: ErrorInfo): boolean {
    const entry = this.#current(id, attempt);
    if (!entry) return false;
    entry.message = { ...entry.message, nextAttemptAt, lastError: { ...error } };
    entry.leaseUntil = undefined;
    this.#schedule(entry);
    return true;
  }

  release(id: string, attempt: number): boolean {
    const entry = this.#current(id, attempt);
    if (!entry) return false;
    entry.leaseUntil = undefined;
    this.#schedule(entry);
    return true;
  }

  deadLetter(id: string, attempt: number, at: number, error: ErrorInfo): boolean {
    const entry = this.#current(id, attempt);
    if (!entry) return false;
    this.#removeLive(entry);
    entry.message = { ...entry.message, lastError: { ...error } };
    entry.leaseUntil = undefined;
    entry.deadAt = at;
    this.#dead.set(id, entry);
    return true;
  }

  /** Back from the dead letters: attempts 0, due at `now`, behind the live messages of its key. */
  revive(id: string, now: number): boolean {
    const entry = this.#dead.get(id);
    if (!entry) return false;
    this.#dead.delete(id);
    entry.deadAt = undefined;
    entry.seq = ++this.#seq;
    entry.message = { ...entry.message, attempts: 0, nextAttemptAt: now, revivedAt: now };
    this.#insertLive(entry);
    return true;
  }

  drop(id: string): boolean {
    return this.#dead.delete(id);
  }

  /** Drops every lease (the process holding them is gone). */
  releaseAll(): void {
    for (const entry of this.#live.values()) {
      if (entry.leaseUntil === undefined) continue;
      entry.leaseUntil = undefined;
      this.#schedule(entry);
    }
  }

  list(): OutboxMessage[] {
    return Array.from(this.#live.values(), (e) => e.message);
  }

  deadLetters(): DeadLetter[] {
    return [...this.#dead.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({ ...e.message, deadAt: e.deadAt as number }));
  }

  /** Every message with its dead-letter time, in order, for a snapshot. */
  entries(): { message: OutboxMessage; deadAt: number | undefined }[] {
    return [...this.#live.values(), ...this.#dead.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => ({ message: e.message, deadAt: e.deadAt }));
  }

  /** When the next candidate becomes available (due, or its lease ends). */
  nextWakeAt(): number | undefined {
    return this.#top()?.at;
  }

  stats(now: number): OutboxStats {
    let inFlight = 0;
    let oldest: number | undefined;
    for (const e of this.#live.values()) {
      if (e.leaseUntil !== undefined && e.leaseUntil > now) inFlight++;
      if (oldest === undefined || e.message.enqueuedAt < oldest) oldest = e.message.enqueuedAt;
    }
    return { depth: this.#live.size, oldestEnqueuedAt: oldest, dead: this.#dead.size, inFlight };
  }

  // --- live set and key queues --------------------------------------------------------

  #insertLive(entry: Entry): void {
    this.#live.set(entry.message.id, entry);
    const key = entry.message.orderingKey;
    if (key === undefined) {
      this.#schedule(entry);
      return;
    }
    const queue = this.#keys.get(key);
    if (queue) queue.push(entry);
    else {
      this.#keys.set(key, [entry]);
      this.#schedule(entry);
    }
  }

  #removeLive(entry: Entry): void {
    this.#live.delete(entry.message.id);
    entry.version++; // its heap node, if any, is stale now
    const key = entry.message.orderingKey;
    if (key === undefined) return;
    const queue = this.#keys.get(key) as Entry[];
    const index = queue.indexOf(entry);
    if (index !== -1) queue.splice(index, 1);
    if (queue.length === 0) this.#keys.delete(key);
    else if (index === 0) this.#schedule(queue[0] as Entry); // the next of the key may go
  }

  #current(id: string, attempt: number): Entry | undefined {
    const entry = this.#live.get(id);
    return entry && entry.message.attempts === attempt ? entry : undefined;
  }

  #isCandidate(entry: Entry): boolean {
    if (this.#live.get(entry.message.id) !== entry) return false;
    const key = entry.message.orderingKey;
    return key === undefined || this.#keys.get(key)?.[0] === entry;
  }

  // --- the heap of candidates -----------------------------------------------------------

  /** (Re)places a candidate in the heap at its current availability. */
  #schedule(entry: Entry): void {
    entry.version++;
    if (!this.#isCandidate(entry)) return;
    const at = entry.leaseUntil ?? entry.message.nextAttemptAt;
    this.#push({ at, seq: entry.seq, entry, version: entry.version });
    // Stale nodes (of finished leases) are dropped when they surface; rebuild if they pile up.
    if (this.#heap.length > 2 * this.#live.size + 1024) this.#rebuild();
  }

  #top(): HeapNode | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.version === top.entry.version) return top;
      this.#pop();
    }
  }

  #rebuild(): void {
    const nodes = this.#heap.filter((n) => n.version === n.entry.version);
    this.#heap.length = 0;
    for (const n of nodes) this.#push(n);
  }

  #push(node: HeapNode): void {
    const heap = this.#heap;
    heap.push(node);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(node, heap[parent] as HeapNode)) break;
      heap[i] = heap[parent] as HeapNode;
      i = parent;
    }
    heap[i] = node;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (heap.length === 0 || !last) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && less(heap[r] as HeapNode, heap[l] as HeapNode) ? r : l;
      if (!less(heap[child] as HeapNode, last)) break;
      heap[i] = heap[child] as HeapNode;
      i = child;
    }
    heap[i] = last;
  }
}

function less(a: HeapNode, b: HeapNode): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
