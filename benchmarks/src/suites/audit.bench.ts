/**
 * `@fluxel/audit` benchmarks.
 * - append-file-vs-pino: hash-chained, checkpointed appends of a typical login event to a
 *   segment file, group-committed with one write + fdatasync per batch and acknowledged only
 *   after the sync (32 concurrent writers' worth of in-flight appends), against pino writing
 *   the same object as one JSON line to a file through `pino.destination` (SonicBoom).
 *   Pino never fsyncs; it is measured in both its modes and the faster one is the peer.
 *   Ours with fsync off is reported beside it as an extra.
 * - verify-vs-sha256: full verification (parse, chain, hashes, checkpoint signatures) of an
 *   in-memory log, against one SHA-256 per record over the same bytes (the limit).
 */
import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEventInput, AuditLog, generateSigningKey, Verifier } from '@fluxel/audit';
import { FileStore, verifyPath } from '@fluxel/audit/node';
import pino from 'pino';
import { emit, median, scaled } from '../harness.ts';

const INFLIGHT = Number(process.env.AUDIT_BENCH_INFLIGHT ?? 4096);
const root = mkdtempSync(join(tmpdir(), 'audit-bench-'));
const key = generateSigningKey();
let counter = 0;

function loginEvent(i: number): AuditEventInput {
  return {
    tenant: 'acme-gmbh',
    actor: {
      type: 'user',
      id: `user-${i % 1000}@acme.example`,
      ip: '192.0.2.44',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    },
    action: 'auth.login',
    outcome: i % 10 === 0 ? 'failure' : 'success',
    requestId: 'req-4f7b2c9e',
    data: { method: 'password', mfa: 'totp' },
  };
}
const event = loginEvent(1);

async function ours(n: number, fsync: boolean, merkle = false): Promise<number> {
  const dir = join(root, `ours-${counter++}`);
  const start = performance.now();
  const log = await AuditLog.open({
    store: new FileStore(dir, { fsync }),
    signingKey: key,
    checkpointIntervalMs: 0,
    merkle,
  });
  // A sliding window of about 4096 appends in flight, as concurrent requests would have
  // (Little's law: 300k/s at ~10 ms per group commit needs ~3000 in flight).
  const marks: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const receipt = log.append(event);
    if ((i & 1023) === 1023) {
      marks.push(receipt);
      if (marks.length > INFLIGHT / 1024) await marks.shift();
    }
  }
  await Promise.all(marks);
  await log.close();
  const rate = n / ((performance.now() - start) / 1000);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function pinoRate(n: number, sync: boolean): Promise<number> {
  const file = join(root, `pino-${counter++}.log`);
  const start = performance.now();
  const dest = pino.destination({ dest: file, sync });
  const logger = pino({ base: null }, dest);
  for (let i = 0; i < n; i++) {
    logger.info(event);
    if (!sync && i % 8192 === 8191) await new Promise((r) => setImmediate(r));
  }
  await new Promise<void>((resolve, reject) =>
    dest.flush((error) => (error ? reject(error) : resolve())),
  );
  dest.end();
  const rate = n / ((performance.now() - start) / 1000);
  rmSync(file, { force: true });
  return rate;
}

/** Runs the contenders interleaved (so a noisy neighbour hits all alike); medians. */
async function interleaved(fns: (() => Promise<number>)[], count = 5): Promise<number[]> {
  for (const fn of fns) await fn(); // warm-up
  const rates = fns.map(() => [] as number[]);
  for (let i = 0; i < count; i++) for (const [j, fn] of fns.entries()) rates[j]?.push(await fn());
  return rates.map(median);
}

const N = scaled(200_000, 40_000);
const [pinoSync = 0, pinoAsync = 0, ourFsync = 0, ourNoFsync = 0, ourMerkle = 0] =
  await interleaved([
    () => pinoRate(N, true),
    () => pinoRate(N, false),
    () => ours(N, true),
    () => ours(N, false),
    () => ours(N, true, true),
  ]);
const pinoBest = Math.max(pinoSync, pinoAsync);
emit(
  'audit/append-file-vs-pino',
  ourFsync,
  `pino.destination (${pinoBest === pinoSync ? 'sync' : 'async'}, no fsync)`,
  pinoBest,
  'lines/s',
  {
    oursNoFsync: Math.round(ourNoFsync),
    oursMerkle: Math.round(ourMerkle),
    pinoSync: Math.round(pinoSync),
    pinoAsync: Math.round(pinoAsync),
    inflight: INFLIGHT,
  },
);

// --- verification --------------------------------------------------------------------
const dir = join(root, 'verify');
{
  const log = await AuditLog.open({
    store: new FileStore(dir, { fsync: false, segmentMaxBytes: 2 ** 31 }),
    signingKey: key,
    checkpointIntervalMs: 0,
  });
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < 300_000; i++) {
    last = log.append(loginEvent(i));
    if (i % 8192 === 8191) await last;
  }
  await log.close();
}
const bytes = readFileSync(join(dir, '00000000000000000001.log'));
const offsets: number[] = [0];
for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) offsets.push(i + 1);
const records = offsets.length - 1;

function verifyOnce(): number {
  const start = performance.now();
  const verifier = new Verifier({ publicKeys: [key] });
  verifier.push(bytes, 'bench');
  const report = verifier.finish();
  if (!report.ok || report.records !== records) throw new Error('benchmark log does not verify');
  return records / ((performance.now() - start) / 1000);
}

function sha256Once(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 0; i < records; i++) {
    const line = bytes.subarray(offsets[i] as number, (offsets[i + 1] as number) - 1);
    x ^= (hash('sha256', line, 'buffer') as unknown as Buffer)[0] as number;
  }
  if (x === 256) throw new Error('unreachable');
  return records / ((performance.now() - start) / 1000);
}

/** The same hashes with the digest as a latin1 string: node:crypto's cheapest output form. */
const latin1Hash = hash as unknown as (
  algorithm: string,
  data: Uint8Array,
  enc: 'latin1',
) => string;
function sha256Latin1Once(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 0; i < records; i++) {
    const line = plain.subarray(offsets[i] as number, (offsets[i + 1] as number) - 1);
    x ^= latin1Hash('sha256', line, 'latin1').charCodeAt(0);
  }
  if (x === 256) throw new Error('unreachable');
  return records / ((performance.now() - start) / 1000);
}
const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);

verifyOnce();
sha256Once();
sha256Latin1Once();
const verifyRates: number[] = [];
const shaRates: number[] = [];
const shaLatin1Rates: number[] = [];
for (let i = 0; i < scaled(9, 3); i++) {
  verifyRates.push(verifyOnce());
  shaRates.push(sha256Once());
  shaLatin1Rates.push(sha256Latin1Once());
}
const verifyRate = median(verifyRates);
const shaRate = median(shaRates);
const startPath = performance.now();
const pathReport = await verifyPath(dir, { publicKeys: [key] });
const pathRate = pathReport.records / ((performance.now() - startPath) / 1000);
emit(
  'audit/verify-vs-sha256',
  verifyRate,
  'raw SHA-256 per record (node:crypto)',
  shaRate,
  'records/s',
  {
    recordBytes: Math.round(bytes.length / records),
    fromDiskRecordsPerSec: Math.round(pathRate),
    // The limit again with the cheapest digest form (what the verifier itself uses on Node).
    sha256Latin1RecordsPerSec: Math.round(median(shaLatin1Rates)),
    ratioVsSha256Latin1: Number((verifyRate / median(shaLatin1Rates)).toFixed(3)),
  },
);
rmSync(root, { recursive: true, force: true });
