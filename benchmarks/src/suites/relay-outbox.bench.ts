/**
 * `@fluxel/relay-client` outbox benchmarks.
 * - outbox-enqueue: durable enqueues per second of 1 KiB payloads with 64 concurrent
 *   enqueuers on the FileOutboxStore (group commit: one write + fdatasync per batch),
 *   against the limit: the same batching of raw 1 KiB lines with fs append + fdatasync and no
 *   format or state. `extra` holds the idle RSS of an agent process (empty outbox + mailbox
 *   consumer on an idle source), the open time of a 10 000-message log, and the batch size.
 *   Also in `extra`: one file per message (write + fdatasync each), a candidate store.
 * - outbox-enqueue-pglite: the same load on the candidate SQL store (PGlite, file-backed,
 *   one INSERT per message), measured in its own process so its memory does not colour ours.
 *
 * `node --import tsx relay-outbox.bench.ts idle-rss|pglite <dir>` runs a child part.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FileDedupeStore,
  FileOutboxStore,
  type MailboxInboundEvent as InboundEvent,
  MailboxConsumer,
  Outbox,
} from '@fluxel/relay-client/node';
import { emit, median } from '../harness.ts';

const CONCURRENCY = 64;
const PAYLOAD = { order: 'A-1', status: 'shipped', note: 'x'.repeat(1024 - 40) };
const SAMPLE_MS = 1_000;
const SAMPLES = 5;

/** Runs `op` from `CONCURRENCY` callers for `ms`; returns operations per second. */
async function load(op: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await op();
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function rate(op: () => Promise<unknown>): Promise<number> {
  await load(op, 300); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < SAMPLES; i++) rates.push(await load(op, SAMPLE_MS));
  return median(rates);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fluxel-outbox-bench-'));
}

// --- child parts --------------------------------------------------------------------------

async function idleRss(dir: string): Promise<void> {
  const store = await FileOutboxStore.open(join(dir, 'outbox'));
  const outbox = new Outbox({ store });
  outbox.start(async () => {});
  const idle = {
    pickup: ({ waitSeconds, signal }: { waitSeconds: number; signal: AbortSignal }) =>
      new Promise<readonly InboundEvent[]>((resolve) => {
        const t = setTimeout(() => resolve([]), waitSeconds * 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve([]);
        });
      }),
    ack: async () => {},
  };
  const dedupe = await FileDedupeStore.open(join(dir, 'mailbox'));
  const consumer = new MailboxConsumer({ source: idle, handler: async () => {}, dedupe });
  consumer.start();
  await new Promise((r) => setTimeout(r, 2_000));
  process.stdout.write(`rss ${process.memoryUsage().rss}\n`);
  await consumer.stop();
  await outbox.close();
  await dedupe.close();
}

async function pglite(dir: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const t0 = performance.now();
  const db = await PGlite.create(join(dir, 'pg'));
  await db.exec(
    `CREATE TABLE outbox (id text PRIMARY KEY, connection text NOT NULL, operation text NOT NULL,
     payload jsonb NOT NULL, ordering_key text, enqueued_at bigint NOT NULL, attempts int NOT NULL,
     next_attempt_at bigint NOT NULL)`,
  );
  const openMs = performance.now() - t0;
  const body = JSON.stringify(PAYLOAD);
  let n = 0;
  const insert = () => {
    const now = Date.now();
    return db.query('INSERT INTO outbox VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      `id-${n++}`,
      'shop-1',
      'order.status',
      body,
      null,
      now,
      0,
      now,
    ]);
  };
  const perSecond = await rate(insert);
  process.stdout.write(
    `pglite ${JSON.stringify({ perSecond, openMs, rss: process.memoryUsage().rss })}\n`,
  );
  await db.close();
}

function child(part: string, dir: string): string {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), part, dir],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 60_000,
    },
  );
  if (out.status !== 0) throw new Error(`${part} child failed (${out.status ?? out.signal})`);
  return out.stdout;
}

// --- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  // ours: FileOutboxStore + Outbox.enqueue
  const oursDir = tempDir();
  const store = await FileOutboxStore.open(oursDir);
  const outbox = new Outbox({ store });
  const oursOne = () =>
    outbox.enqueue({ connection: 'shop-1', operation: 'order.status', payload: PAYLOAD });

  // the limit: raw append + fdatasync per batch, the same group commit (a batch starts on
  // the next turn of the event loop), no format, no state
  const rawDir = tempDir();
  const handle = await open(join(rawDir, 'raw.log'), 'a');
  const line = Buffer.from(`${JSON.stringify(PAYLOAD)}\n`);
  let queue: (() => void)[] = [];
  let flushing = false;
  let batches = 0;
  let written = 0;
  const flush = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      await handle.write(Buffer.concat(batch.map(() => line)));
      await handle.datasync();
      batches++;
      written += batch.length;
      for (const resolve of batch) resolve();
    }
    flushing = false;
  };
  const rawOne = () =>
    new Promise<void>((resolve) => {
      queue.push(resolve);
      if (!flushing) {
        flushing = true;
        setImmediate(() => void flush());
      }
    });

  // Samples alternate between the two, so a noisy neighbour hits both alike.
  await load(oursOne, 300);
  await load(rawOne, 300);
  const oursRates: number[] = [];
  const rawRates: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    oursRates.push(await load(oursOne, SAMPLE_MS));
    rawRates.push(await load(rawOne, SAMPLE_MS));
  }
  const ours = median(oursRates);
  const raw = median(rawRates);
  await handle.close();
  const enqueued = (await store.stats()).depth;
  await outbox.close();

  // candidate: one file per message (write, fsync, no log), like a maildir
  const filesDir = tempDir();
  let fileN = 0;
  const body = JSON.stringify(PAYLOAD);
  const fileOne = async () => {
    const f = await open(join(filesDir, `${fileN++}.json`), 'wx');
    try {
      await f.write(body);
      await f.datasync();
    } finally {
      await f.close();
    }
  };
  const filePerMessage = await load(fileOne, SAMPLE_MS);

  // start-up: reopen a log of 10 000 pending messages
  const startDir = tempDir();
  {
    const s = await FileOutboxStore.open(startDir, { sync: false });
    const o = new Outbox({ store: s });
    await Promise.all(
      Array.from({ length: 10_000 }, () =>
        o.enqueue({ connection: 'shop-1', operation: 'order.status', payload: PAYLOAD }),
      ),
    );
    await o.close();
  }
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const reopened = await FileOutboxStore.open(startDir);
  const openMs10k = performance.now() - t0;
  gc();
  // The file store keeps live messages in memory: heap held by 10 000 pending 1 KiB messages.
  const heldMB10k = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  await reopened.close();

  // idle agent process, and the PGlite candidate, each in its own process
  const idleDir = tempDir();
  const rssLine = child('idle-rss', idleDir)
    .split('\n')
    .find((l) => l.startsWith('rss '));
  const idleRssMB = Number(rssLine?.slice(4)) / 2 ** 20;
  const pgDir = tempDir();
  let pg: { perSecond: number; openMs: number; rss: number } | undefined;
  try {
    const pgLine = child('pglite', pgDir)
      .split('\n')
      .find((l) => l.startsWith('pglite '));
    if (pgLine) pg = JSON.parse(pgLine.slice(7));
  } catch (error) {
    console.error(`PGlite candidate not measured: ${(error as Error).message}`);
  }

  emit('relay-client/outbox-enqueue', ours, 'raw fs append + fdatasync per batch', raw, 'ops/s', {
    concurrency: CONCURRENCY,
    payloadBytes: 1024,
    idleRssMB: Number(idleRssMB.toFixed(1)),
    openMs10k: Number(openMs10k.toFixed(1)),
    rawAvgBatch: Number((written / batches).toFixed(1)),
    filePerMessageOpsPerS: Math.round(filePerMessage),
    enqueued,
    heldMB10k: Number(heldMB10k.toFixed(1)),
    ...(pg
      ? {
          pgliteOpsPerS: Math.round(pg.perSecond),
          pgliteOpenMs: Math.round(pg.openMs),
          pgliteRssMB: Number((pg.rss / 2 ** 20).toFixed(1)),
        }
      : {}),
  });
  if (pg)
    emit(
      'relay-client/outbox-enqueue-pglite',
      ours,
      'PGlite 0.5.16 INSERT per message (file-backed)',
      pg.perSecond,
      'ops/s',
    );
  for (const d of [oursDir, startDir, rawDir, filesDir, idleDir, pgDir])
    rmSync(d, { recursive: true, force: true });
}

const [part, dir] = process.argv.slice(2);
if (part === 'idle-rss' && dir) await idleRss(dir);
else if (part === 'pglite' && dir) await pglite(dir);
else await main();
