/**
 * `@fluxel/crypto` against the hardware limit (raw node:crypto on the same buffers) and the
 * peer (`@aws-crypto/client-node`, raw AES keyring, committing non-signing suite).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Keyring,
  localKek,
  open,
  openStream,
  seal,
  sealIterable,
  sealStream,
} from '@fluxel/crypto';
import { sealNodeStream } from '@fluxel/crypto/node';
import { emit, measure, median, scaled } from '../harness.ts';

const MiB = 1024 * 1024;
const kekBytes = randomBytes(32);
const keyring = new Keyring([localKek({ id: 'bench', key: kekBytes })]);
const context = { tenant: 'tenant-42', record: 'row-1234', field: 'payload' };
const contextAad = Buffer.from(JSON.stringify(context));

// ---- raw node:crypto AES-256-GCM (the limit) ------------------------------------------------
const rawKey = randomBytes(32);
const rawIv = randomBytes(12);
function rawSeal(plaintext: Uint8Array): [Buffer, Buffer] {
  const c = createCipheriv('aes-256-gcm', rawKey, rawIv);
  const ct = c.update(plaintext);
  c.final();
  return [ct, c.getAuthTag()];
}
function rawOpen([ct, tag]: [Buffer, Buffer]): Buffer {
  const d = createDecipheriv('aes-256-gcm', rawKey, rawIv);
  d.setAuthTag(tag);
  const pt = d.update(ct);
  d.final();
  return pt;
}

// ---- raw node:crypto envelope (the limit for small records) ---------------------------------
function rawEnvelopeSeal(plaintext: Uint8Array) {
  const dek = randomBytes(32);
  const wrapNonce = randomBytes(12);
  const w = createCipheriv('aes-256-gcm', kekBytes, wrapNonce);
  const wrapped = w.update(dek);
  w.final();
  const wrapTag = w.getAuthTag();
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', dek, nonce);
  c.setAAD(contextAad);
  const ct = c.update(plaintext);
  c.final();
  return { wrapNonce, wrapped, wrapTag, nonce, ct, tag: c.getAuthTag() };
}
function rawEnvelopeOpen(e: ReturnType<typeof rawEnvelopeSeal>): Buffer {
  const w = createDecipheriv('aes-256-gcm', kekBytes, e.wrapNonce);
  w.setAuthTag(e.wrapTag);
  const dek = w.update(e.wrapped);
  w.final();
  const d = createDecipheriv('aes-256-gcm', dek, e.nonce);
  d.setAAD(contextAad);
  d.setAuthTag(e.tag);
  const pt = d.update(e.ct);
  d.final();
  return pt;
}

const mbps = (opsPerSecond: number, bytes: number) => (opsPerSecond * bytes) / 1e6;

/**
 * A full garbage collection between rounds (run.ts passes --expose-gc), so neither side pays
 * for the other's garbage: with 1 MiB buffers, GC work left by one round otherwise lands in
 * whichever side allocates the most small objects in the next.
 */
const collect = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * Rates of two operations measured in alternating rounds (median of each), so drift on a
 * shared machine (frequency, neighbours) hits both sides alike.
 */
async function pair(
  ours: () => unknown,
  theirs: () => unknown,
  rounds = scaled(15, 4),
): Promise<[number, number]> {
  await measure(ours, { samples: 1 });
  await measure(theirs, { samples: 1 });
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    collect();
    a.push(await measure(ours, { warmupMs: 20, samples: 1, sampleMs: 120 }));
    collect();
    b.push(await measure(theirs, { warmupMs: 20, samples: 1, sampleMs: 120 }));
  }
  return [median(a), median(b)];
}

// ---- 1 MiB records ---------------------------------------------------------------------------
const big = randomBytes(MiB);
const bigSealed = await seal(big, { keyring, context });
const bigRaw = rawSeal(big);
{
  const [ours, raw] = await pair(
    () => seal(big, { keyring, context }),
    () => rawSeal(big),
  );
  emit('crypto/seal-1mib', mbps(ours, MiB), 'node:crypto aes-256-gcm', mbps(raw, MiB), 'MB/s');
}
{
  const [ours, raw] = await pair(
    () => open(bigSealed, { keyring, context }),
    () => rawOpen(bigRaw),
  );
  emit('crypto/open-1mib', mbps(ours, MiB), 'node:crypto aes-256-gcm', mbps(raw, MiB), 'MB/s');
}

// ---- 256-byte records ------------------------------------------------------------------------
const small = randomBytes(256);
const smallSealed = await seal(small, { keyring, context });
const smallRaw = rawEnvelopeSeal(small);
{
  const [ours, raw] = await pair(
    () => seal(small, { keyring, context }),
    () => rawEnvelopeSeal(small),
  );
  emit(
    'crypto/seal-256b-vs-raw',
    ours,
    'node:crypto envelope (fresh DEK, AES-GCM wrap, AAD)',
    raw,
    'ops/s',
  );
}
{
  const [ours, raw] = await pair(
    () => open(smallSealed, { keyring, context }),
    () => rawEnvelopeOpen(smallRaw),
  );
  emit(
    'crypto/open-256b-vs-raw',
    ours,
    'node:crypto envelope (fresh DEK, AES-GCM wrap, AAD)',
    raw,
    'ops/s',
  );
}

// ---- streaming 64 MiB ------------------------------------------------------------------------
const CHUNK = 64 * 1024;
const TOTAL = 64 * MiB;
const source = randomBytes(CHUNK);
function chunks(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= TOTAL) return controller.close();
      sent += CHUNK;
      controller.enqueue(source);
    },
  });
}
let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
async function drain(stream: ReadableStream<Uint8Array>, keep?: Uint8Array[]): Promise<number> {
  let bytes = 0;
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.length;
    if (keep) keep.push(value);
    if (++n % 64 === 0) sampleRss();
  }
}
function rawStream(): number {
  const c = createCipheriv('aes-256-gcm', rawKey, rawIv);
  let bytes = 0;
  for (let i = 0; i < TOTAL; i += CHUNK) bytes += c.update(source).length;
  c.final();
  return bytes + c.getAuthTag().length;
}
/** Median time (ms) of each function over interleaved runs. */
async function times(fns: readonly (() => unknown)[], runs = scaled(9, 3)): Promise<number[]> {
  const all: number[][] = fns.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [i, fn] of fns.entries()) {
      collect();
      const start = performance.now();
      await fn();
      all[i]?.push(performance.now() - start);
    }
  }
  return all.map((t) => median(t));
}
{
  collect();
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  // The same raw cipher behind a Web TransformStream: what any Web Streams API can reach.
  const rawInWebStream = () => {
    const c = createCipheriv('aes-256-gcm', rawKey, rawIv);
    return drain(
      chunks().pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform: (chunk, controller) => controller.enqueue(c.update(chunk)),
          flush: (controller) => {
            c.final();
            controller.enqueue(c.getAuthTag());
          },
        }),
      ),
    );
  };
  const [ours, raw, rawWeb] = (await times([
    () => drain(chunks().pipeThrough(sealStream({ keyring, context }))),
    rawStream,
    rawInWebStream,
  ])) as [number, number, number];
  emit(
    'crypto/stream-64mib',
    TOTAL / 1e3 / ours,
    'node:crypto aes-256-gcm update() per 64 KiB',
    TOTAL / 1e3 / raw,
    'MB/s',
    {
      rssBeforeMiB: Math.round(rssBefore / MiB),
      peakRssMiB: Math.round(peakRss / MiB),
      rawInWebTransformStreamMBps: Math.round(TOTAL / 1e3 / rawWeb),
      ratioVsRawInWebStream: Number((rawWeb / ours).toFixed(3)),
    },
  );
}
{
  // The Node-stream path (`sealNodeStream` in @fluxel/crypto/node): the same format through a
  // Node Transform, from a Node Readable of 64 KiB chunks into a counting Writable.
  const nodeChunks = () => {
    let sent = 0;
    return new Readable({
      highWaterMark: 4 * CHUNK,
      read() {
        if (sent >= TOTAL) return void this.push(null);
        sent += CHUNK;
        this.push(source);
      },
    });
  };
  const nodeSink = () => {
    let n = 0;
    return new Writable({
      highWaterMark: 4 * CHUNK,
      write(_chunk, _encoding, callback) {
        if (++n % 64 === 0) sampleRss();
        callback();
      },
    });
  };
  // The same raw cipher in a Node Transform: what any Node-stream API can reach.
  const rawInNodeStream = () => {
    const c = createCipheriv('aes-256-gcm', rawKey, rawIv);
    return pipeline(
      nodeChunks(),
      new Transform({
        transform: (chunk, _encoding, callback) => callback(null, c.update(chunk)),
        flush(callback) {
          c.final();
          callback(null, c.getAuthTag());
        },
      }),
      nodeSink(),
    );
  };
  collect();
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  const [ours, raw, rawNode] = (await times([
    () => pipeline(nodeChunks(), sealNodeStream({ keyring, context }), nodeSink()),
    rawStream,
    rawInNodeStream,
  ])) as [number, number, number];
  emit(
    'crypto/stream-64mib-node',
    TOTAL / 1e3 / ours,
    'node:crypto aes-256-gcm update() per 64 KiB',
    TOTAL / 1e3 / raw,
    'MB/s',
    {
      rssBeforeMiB: Math.round(rssBefore / MiB),
      peakRssMiB: Math.round(peakRss / MiB),
      rawInNodeTransformMBps: Math.round(TOTAL / 1e3 / rawNode),
      ratioVsRawInNodeStream: Number((rawNode / ours).toFixed(3)),
    },
  );
}
{
  // The async-iterable path (`sealIterable`, core): the same format from an async generator of
  // 64 KiB chunks into a `for await` loop; what Node's `pipeline()` runs for a generator step.
  async function* generated(): AsyncGenerator<Uint8Array> {
    for (let sent = 0; sent < TOTAL; sent += CHUNK) yield source;
  }
  async function consume(parts: AsyncIterable<Uint8Array>): Promise<number> {
    let bytes = 0;
    let n = 0;
    for await (const part of parts) {
      bytes += part.length;
      if (++n % 64 === 0) sampleRss();
    }
    return bytes;
  }
  async function* rawGenerated(): AsyncGenerator<Uint8Array> {
    const c = createCipheriv('aes-256-gcm', rawKey, rawIv);
    for await (const chunk of generated()) yield c.update(chunk);
    c.final();
    yield c.getAuthTag();
  }
  collect();
  const rssBefore = process.memoryUsage.rss();
  peakRss = rssBefore;
  const [ours, raw, rawIterable] = (await times([
    () => consume(sealIterable(generated(), { keyring, context })),
    rawStream,
    () => consume(rawGenerated()),
  ])) as [number, number, number];
  emit(
    'crypto/stream-64mib-iterable',
    TOTAL / 1e3 / ours,
    'node:crypto aes-256-gcm update() per 64 KiB',
    TOTAL / 1e3 / raw,
    'MB/s',
    {
      rssBeforeMiB: Math.round(rssBefore / MiB),
      peakRssMiB: Math.round(peakRss / MiB),
      rawInAsyncGeneratorMBps: Math.round(TOTAL / 1e3 / rawIterable),
      ratioVsRawInAsyncGenerator: Number((rawIterable / ours).toFixed(3)),
    },
  );
}
{
  // Open: the sealed stream is replayed from a 4 MiB sample (the same 64 KiB chunks would not
  // authenticate in another order), so this measures the decryptor, not the source.
  const parts: Uint8Array[] = [];
  const sample = 4 * MiB;
  let sent = 0;
  const sampleSource = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= sample) return controller.close();
      sent += CHUNK;
      controller.enqueue(source);
    },
  });
  await drain(sampleSource.pipeThrough(sealStream({ keyring, context })), parts);
  const replay = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });
  const d = () => {
    const c = createDecipheriv('aes-256-gcm', rawKey, rawIv);
    for (let i = 0; i < sample; i += CHUNK) c.update(source);
  };
  const [ours, raw] = (await times(
    [() => drain(replay().pipeThrough(openStream({ keyring, context }))), d],
    scaled(9, 3),
  )) as [number, number];
  emit(
    'crypto/stream-open-4mib',
    sample / 1e3 / ours,
    'node:crypto aes-256-gcm update() per 64 KiB',
    sample / 1e3 / raw,
    'MB/s',
  );
}

// ---- the peer, last ----------------------------------------------------------------------------
// Loaded only now: its code grows the heap by tens of MiB, and every garbage collection that
// 1 MiB allocations trigger gets dearer with it. Imported at the top, it cost the 1 MiB seal
// 0.70× → 0.50× of raw (ours allocates two 1 MiB buffers per seal, raw one): the limit
// comparisons above must not depend on which peer the suite loads (decision 0016, section 7).
const {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} = await import('@aws-crypto/client-node');
const aws = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const awsKeyring = new RawAesKeyringNode({
  keyName: 'bench',
  keyNamespace: 'fluxel-bench',
  unencryptedMasterKey: new Uint8Array(kekBytes),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
const awsSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const awsSeal = () =>
  aws.encrypt(awsKeyring, small, { suiteId: awsSuite, encryptionContext: context });
const awsSealed = (await awsSeal()).result;
{
  const [ours, peer] = await pair(() => seal(small, { keyring, context }), awsSeal, scaled(5, 2));
  emit(
    'crypto/seal-256b-vs-aws',
    ours,
    '@aws-crypto/client-node raw AES keyring, committing suite',
    peer,
    'ops/s',
  );
}
{
  const [ours, peer] = await pair(
    () => open(smallSealed, { keyring, context }),
    () => aws.decrypt(awsKeyring, awsSealed),
    scaled(5, 2),
  );
  emit(
    'crypto/open-256b-vs-aws',
    ours,
    '@aws-crypto/client-node raw AES keyring, committing suite',
    peer,
    'ops/s',
  );
}
