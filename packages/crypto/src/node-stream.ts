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
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * import { Keyring, localKek } from '@fluxel/crypto';
 * import { sealNodeStream } from '@fluxel/crypto/node';
 *
 * const keyring = new Keyring([localKek({ id: 'k1', key: crypto.getRandomValues(new Uint8Array(32)) })]);
 * await pipeline(
 *   createReadStream('backup.tar'),
 *   sealNodeStream({ keyring, context: { object: 'backup.tar' } }),
 *   createWriteStream('backup.tar.flx'),
 * );
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
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * import { openNodeStream } from '@fluxel/crypto/node';
 *
 * await pipeline(
 *   createReadStream('backup.tar.flx'),
 *   openNodeStream({ keyring, context: { object: 'backup.tar' } }),
 *   createWriteStream('backup.tar'),
 * );
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
