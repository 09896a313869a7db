import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inspect, open, openStream, SUITES, sealStream } from '../src/index.ts';
import { collect, each, rejectsWith, streamOf, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const context = { tenant: 't', object: 'backup.tar' };
const CHUNK = 1024;
const TAG = 16;

async function sealAll(data: Uint8Array, pieces = 7, suite?: (typeof SUITES)[number]) {
  const parts: Uint8Array[] = [];
  const step = Math.max(1, Math.ceil(data.length / pieces));
  for (let i = 0; i < data.length; i += step) parts.push(data.subarray(i, i + step));
  return collect(
    streamOf(parts).pipeThrough(
      sealStream({ keyring, context, chunkSize: CHUNK, ...(suite ? { suite } : {}) }),
    ),
  );
}

function openAll(sealed: Uint8Array, pieceSize = 333, ctx = context) {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < sealed.length; i += pieceSize) parts.push(sealed.subarray(i, i + pieceSize));
  return collect(streamOf(parts).pipeThrough(openStream({ keyring, context: ctx })));
}

describe('streams', () => {
  for (const suite of SUITES) {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 17]) {
      it(`${suite}: ${size} bytes round-trip, whatever the piece sizes`, async () => {
        const data = new Uint8Array(randomBytes(size));
        const sealed = await sealAll(data, 7, suite);
        expect(inspect(sealed)).toMatchObject({ stream: true, chunkSize: CHUNK, suite });
        const header = inspect(sealed).headerLength;
        const chunks = Math.ceil(size / CHUNK) + 1; // data chunks and the end chunk
        expect(sealed.length).toBe(header + size + chunks * TAG);
        for (const piece of [1, 100, CHUNK + TAG, 1 << 20]) {
          expect(await openAll(sealed, piece)).toEqual(data);
        }
      });
    }
  }

  const data = new Uint8Array(randomBytes(4 * CHUNK + 100));
  const chunkAt = (sealed: Uint8Array, i: number) => {
    const start = inspect(sealed).headerLength + i * (CHUNK + TAG);
    return [start, Math.min(sealed.length, start + CHUNK + TAG)] as const;
  };

  it('detects truncation at every chunk boundary', async () => {
    const sealed = await sealAll(data);
    for (let i = 0; i <= 4; i++) {
      const [start] = chunkAt(sealed, i);
      await rejectsWith(openAll(sealed.subarray(0, start)), 'ERR_CRYPTO_DECRYPTION_FAILED');
    }
  });

  it('detects reordered and swapped chunks, and chunks from another stream', async () => {
    const sealed = await sealAll(data);
    const [a0, a1] = chunkAt(sealed, 0);
    const [b0, b1] = chunkAt(sealed, 1);
    const swapped = Buffer.concat([
      sealed.subarray(0, a0),
      sealed.subarray(b0, b1),
      sealed.subarray(a0, a1),
      sealed.subarray(b1),
    ]);
    await rejectsWith(openAll(swapped), 'ERR_CRYPTO_DECRYPTION_FAILED');
    const other = await sealAll(data);
    const spliced = Buffer.concat([
      sealed.subarray(0, b0),
      other.subarray(...chunkAt(other, 1)),
      sealed.subarray(b1),
    ]);
    await rejectsWith(openAll(spliced), 'ERR_CRYPTO_DECRYPTION_FAILED');
  });

  it('detects appended data and a dropped final chunk', async () => {
    const sealed = await sealAll(data);
    await rejectsWith(
      openAll(Buffer.concat([sealed, new Uint8Array(1)])),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    const [last] = chunkAt(sealed, 4);
    await rejectsWith(openAll(sealed.subarray(0, last)), 'ERR_CRYPTO_DECRYPTION_FAILED');
    // Without the end chunk (the last 16 bytes), or with one byte of it missing.
    await rejectsWith(
      openAll(sealed.subarray(0, sealed.length - 16)),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    await rejectsWith(
      openAll(sealed.subarray(0, sealed.length - 1)),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('binds the context and refuses records / streams in the wrong API', async () => {
    const sealed = await sealAll(data);
    await rejectsWith(
      openAll(sealed, 500, { tenant: 'other', object: 'backup.tar' }),
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    await rejectsWith(open(sealed, { keyring, context }), 'ERR_CRYPTO_MALFORMED');
    await rejectsWith(openAll(sealed.subarray(0, 20)), 'ERR_CRYPTO_MALFORMED');
    expect(() => sealStream({ keyring, chunkSize: 10 })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_ARGUMENT' }),
    );
  });

  it('keeps memory bounded: output flows while the input is still being produced', async () => {
    const piece = new Uint8Array(64 * 1024);
    const total = 32 * 1024 * 1024;
    let sent = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (sent >= total) return controller.close();
          sent += piece.length;
          controller.enqueue(piece);
        },
      },
      { highWaterMark: 1 },
    );
    let bytes = 0;
    let maxAhead = 0;
    const out = source.pipeThrough(sealStream({ keyring })).pipeThrough(openStream({ keyring }));
    await each(out, (part) => {
      bytes += part.length;
      // How much input has been read beyond what has come out: the buffered amount.
      maxAhead = Math.max(maxAhead, sent - bytes);
    });
    expect(bytes).toBe(total);
    expect(maxAhead).toBeLessThan(2 * 1024 * 1024);
  });
});
