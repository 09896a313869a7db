import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  inspect,
  openIterable,
  openStream,
  SUITES,
  sealIterable,
  sealStream,
} from '../src/index.ts';
import { openNodeStream, sealNodeStream } from '../src/node.ts';
import { collect, streamOf, testKeyring } from './helpers.ts';

const keyring = testKeyring();
const context = { tenant: 't', object: 'backup.tar' };
const CHUNK = 1024;

function piecesOf(data: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return parts;
}

async function through(
  transform: NodeJS.ReadWriteStream,
  parts: readonly Uint8Array[],
): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  await pipeline(
    Readable.from(parts),
    transform,
    new Writable({
      write(chunk: Uint8Array, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return new Uint8Array(Buffer.concat(out));
}

describe('Node stream path (./node): the stream format through a Node Transform', () => {
  for (const suite of SUITES) {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17]) {
      it(`${suite}: ${size} bytes round-trip and open on the Web side too`, async () => {
        const data = new Uint8Array(randomBytes(size));
        const sealed = await through(
          sealNodeStream({ keyring, context, chunkSize: CHUNK, suite }),
          piecesOf(data, 300),
        );
        expect(inspect(sealed)).toMatchObject({ stream: true, chunkSize: CHUNK, suite });
        const chunks = Math.ceil(size / CHUNK) + 1;
        expect(sealed.length).toBe(inspect(sealed).headerLength + size + chunks * 16);
        for (const piece of [1, 333, CHUNK + 16, 1 << 20]) {
          expect(
            await through(openNodeStream({ keyring, context }), piecesOf(sealed, piece)),
          ).toEqual(data);
        }
        const web = await collect(
          streamOf(piecesOf(sealed, 500)).pipeThrough(openStream({ keyring, context })),
        );
        expect(web).toEqual(data);
      });
    }
  }

  it('opens what the Web sealStream wrote (the same format both ways)', async () => {
    const data = new Uint8Array(randomBytes(3 * CHUNK + 5));
    const sealed = await collect(
      streamOf(piecesOf(data, 700)).pipeThrough(sealStream({ keyring, context, chunkSize: CHUNK })),
    );
    expect(await through(openNodeStream({ keyring, context }), piecesOf(sealed, 64))).toEqual(data);
  });

  it('errors the pipeline on tampering, truncation and a wrong context', async () => {
    const data = new Uint8Array(randomBytes(2 * CHUNK));
    const sealed = await through(sealNodeStream({ keyring, context, chunkSize: CHUNK }), [data]);
    const tampered = new Uint8Array(sealed);
    const at = inspect(sealed).headerLength + 3;
    tampered[at] = (tampered[at] as number) ^ 1;
    const failure = { name: 'CryptoError', code: 'ERR_CRYPTO_DECRYPTION_FAILED' };
    await expect(through(openNodeStream({ keyring, context }), [tampered])).rejects.toMatchObject(
      failure,
    );
    await expect(
      through(openNodeStream({ keyring, context }), [sealed.subarray(0, sealed.length - 16)]),
    ).rejects.toMatchObject(failure);
    await expect(
      through(openNodeStream({ keyring, context: { tenant: 'u' } }), [sealed]),
    ).rejects.toMatchObject(failure);
  });

  it('validates options when built', () => {
    expect(() => sealNodeStream({ keyring, chunkSize: 10 })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_ARGUMENT' }),
    );
    expect(() => openNodeStream({} as never)).toThrow(
      expect.objectContaining({ name: 'CryptoError' }),
    );
  });

  it('respects backpressure: output flows while the input is still being produced', async () => {
    const total = 2048; // 2 MiB: well beyond the 256 KiB buffered on each side
    let produced = 0;
    let consumedWhileProducing = 0;
    let consumed = 0;
    const source = Readable.from(
      (function* () {
        for (; produced < total; produced++) yield new Uint8Array(CHUNK);
      })(),
    );
    await pipeline(
      source,
      sealNodeStream({ keyring, chunkSize: CHUNK }),
      new Writable({
        highWaterMark: 1,
        write(_chunk, _encoding, callback) {
          consumed++;
          if (produced < total) consumedWhileProducing++;
          callback();
        },
      }),
    );
    expect(consumed).toBeGreaterThan(total);
    expect(consumedWhileProducing).toBeGreaterThan(0);
  });
});

describe('async-iterable path: the stream format over (async) iterables', () => {
  async function all(parts: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const out: Uint8Array[] = [];
    for await (const part of parts) out.push(part);
    return new Uint8Array(Buffer.concat(out));
  }

  for (const suite of SUITES) {
    it(`${suite}: round-trips and interoperates with the Web and Node paths`, async () => {
      const data = new Uint8Array(randomBytes(3 * CHUNK + 7));
      const sealed = await all(
        sealIterable(piecesOf(data, 500), { keyring, context, chunkSize: CHUNK, suite }),
      );
      expect(inspect(sealed)).toMatchObject({ stream: true, chunkSize: CHUNK, suite });
      expect(await all(openIterable(piecesOf(sealed, 77), { keyring, context }))).toEqual(data);
      expect(await through(openNodeStream({ keyring, context }), [sealed])).toEqual(data);
      const web = await collect(
        streamOf([data]).pipeThrough(sealStream({ keyring, context, chunkSize: CHUNK, suite })),
      );
      expect(await all(openIterable([web], { keyring, context }))).toEqual(data);
    });
  }

  it('rejects tampering and validates options when called', async () => {
    const sealed = await all(
      sealIterable([new Uint8Array(2 * CHUNK)], { keyring, chunkSize: CHUNK }),
    );
    const tampered = new Uint8Array(sealed);
    const at = sealed.length - 20;
    tampered[at] = (tampered[at] as number) ^ 1;
    await expect(all(openIterable([tampered], { keyring }))).rejects.toMatchObject({
      code: 'ERR_CRYPTO_DECRYPTION_FAILED',
    });
    expect(() => sealIterable([], { keyring, chunkSize: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_ARGUMENT' }),
    );
  });
});
