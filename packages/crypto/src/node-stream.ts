/**
 * The stream format through Node streams: `sealNodeStream` and `openNodeStream` are Node
 * `Transform`s around the same sealer and opener as the Web `sealStream` / `openStream`, so
 * the bytes are identical and either side can open the other's output. Web Streams cost a
 * promise and a few allocations per chunk; a Node `Transform` with the synchronous node:crypto
 * sealer costs a callback (docs/decisions/0016-crypto-node-streams-and-ceilings.md has the measurements).
 */
import { Transform } from 'node:stream';
import type { MaybePromise } from './aead.js';
import { CryptoError } from './errors.js';
import {
  createStreamOpener,
  createStreamSealer,
  type Emit,
  type OpenStreamOptions,
  type SealStreamOptions,
} from './stream.js';

type Callback = (error?: Error | null) => void;

// Buffered bytes on each side before backpressure: one default chunk (256 KiB). Node's 16 KiB
// default stalls the pipeline on every 64 KiB piece (measured: 0.74× → see the decision record).
const HIGH_WATER_MARK = 256 * 1024;

/** Settles a Node callback from a sync-or-async step, passing errors to the stream. */
function settle(step: () => MaybePromise<void>, callback: Callback): void {
  let result: MaybePromise<void>;
  try {
    result = step();
  } catch (error) {
    callback(error as Error);
    return;
  }
  if (result instanceof Promise) result.then(() => callback(), callback);
  else callback();
}

function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'stream chunks are Uint8Arrays');
}

/**
 * A Node `Transform` that encrypts a byte stream into the stream format (the format of
 * `sealStream`): use it with `pipeline()` from `node:stream/promises`. The data key is
 * wrapped before the first byte is written; the header is the first output chunk. Options are
 * validated here (`ERR_CRYPTO_INVALID_ARGUMENT`); KEK failures error the stream.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Readable } from 'node:stream';
 * import { pipeline } from 'node:stream/promises';
 * import { generateKey, inspect, Keyring, localKek } from '@fluxel/crypto';
 * import { sealNodeStream } from '@fluxel/crypto/node';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * // With files: pipeline(createReadStream('backup.tar'), sealNodeStream(…), createWriteStream('backup.tar.flx')).
 * const sealed: Uint8Array[] = [];
 * await pipeline(
 *   Readable.from([new Uint8Array(3000), new Uint8Array(2000)]),
 *   sealNodeStream({ keyring, context: { object: 'backup.tar' }, chunkSize: 1024 }),
 *   async (source: AsyncIterable<Uint8Array>) => {
 *     for await (const part of source) sealed.push(part);
 *   },
 * );
 * assert.equal(inspect(sealed[0] as Uint8Array).stream, true); // the header is the first chunk
 * ```
 */
export function sealNodeStream(options: SealStreamOptions): Transform {
  const sealer = createStreamSealer(options);
  let transform: Transform;
  const emit: Emit = (part) => {
    transform.push(part);
  };
  transform = new Transform({
    readableHighWaterMark: HIGH_WATER_MARK,
    writableHighWaterMark: HIGH_WATER_MARK,
    construct(callback) {
      sealer.start(emit).then(() => callback(), callback);
    },
    transform(chunk, _encoding, callback) {
      settle(() => sealer.write(bytesOf(chunk), emit), callback);
    },
    flush(callback) {
      settle(() => sealer.end(emit), callback);
    },
  });
  return transform;
}

/**
 * A Node `Transform` that decrypts the stream format (from `sealNodeStream` or
 * `sealStream`). Authentication failures (wrong key, context, tampering, truncation,
 * reordering) error the stream with `ERR_CRYPTO_DECRYPTION_FAILED`; a bad header with its
 * structural code. Plaintext is released chunk by chunk as each authenticates: treat the
 * output as valid only once the stream has finished without error.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { Readable } from 'node:stream';
 * import { pipeline } from 'node:stream/promises';
 * import { generateKey, Keyring, localKek, sealIterable } from '@fluxel/crypto';
 * import { openNodeStream } from '@fluxel/crypto/node';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context = { object: 'backup.tar' };
 * const sealed = await collect(sealIterable([new TextEncoder().encode('tar bytes')], { keyring, context }));
 * // With files: pipeline(createReadStream('backup.tar.flx'), openNodeStream(…), createWriteStream('backup.tar')).
 * let text = '';
 * await pipeline(Readable.from(sealed), openNodeStream({ keyring, context }), async (source: AsyncIterable<Uint8Array>) => {
 *   for await (const part of source) text += new TextDecoder().decode(part);
 * });
 * assert.equal(text, 'tar bytes');
 * ```
 */
export function openNodeStream(options: OpenStreamOptions): Transform {
  const opener = createStreamOpener(options);
  let transform: Transform;
  const emit: Emit = (part) => {
    transform.push(part);
  };
  transform = new Transform({
    readableHighWaterMark: HIGH_WATER_MARK,
    writableHighWaterMark: HIGH_WATER_MARK,
    transform(chunk, _encoding, callback) {
      settle(() => opener.write(bytesOf(chunk), emit), callback);
    },
    flush(callback) {
      settle(() => opener.end(emit), callback);
    },
  });
  return transform;
}
