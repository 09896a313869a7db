/**
 * The stream format over async iterables: `sealIterable` and `openIterable` drive the same
 * sealer and opener as `sealStream` / `openStream` (the bytes are identical), one generator
 * step per output piece and no stream machinery. Web-platform code; on Node, `pipeline()`
 * accepts them as transform steps, and `Readable.from` turns one into a stream.
 */
import type { MaybePromise } from './aead.js';
import {
  createStreamOpener,
  createStreamSealer,
  type Emit,
  type OpenStreamOptions,
  type SealStreamOptions,
} from './stream.js';

/**
 * Input of {@link sealIterable} and {@link openIterable}: bytes, sync or async.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type ByteSource, generateKey, Keyring, localKek, openIterable, sealIterable } from '@fluxel/crypto';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * // An array, a generator, an async generator, a Node Readable: anything that iterates bytes.
 * async function* lines(): AsyncGenerator<Uint8Array> {
 *   for (let i = 0; i < 3; i++) yield new TextEncoder().encode(`line ${i}\n`);
 * }
 * const source: ByteSource = lines();
 * const sealed: ByteSource = await collect(sealIterable(source, { keyring }));
 * const text = (await collect(openIterable(sealed, { keyring }))).map((part) => new TextDecoder().decode(part)).join('');
 * assert.equal(text, 'line 0\nline 1\nline 2\n');
 * ```
 */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

interface Steps {
  start?(emit: Emit): Promise<void>;
  write(chunk: Uint8Array, emit: Emit): MaybePromise<void>;
  end(emit: Emit): MaybePromise<void>;
}

async function* drive(steps: Steps, source: ByteSource): AsyncGenerator<Uint8Array, void> {
  const out: Uint8Array[] = [];
  const emit: Emit = (part) => {
    out.push(part);
  };
  if (steps.start) await steps.start(emit);
  for await (const chunk of source) {
    const done = steps.write(chunk, emit);
    if (done instanceof Promise) await done;
    for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
    out.length = 0;
  }
  const done = steps.end(emit);
  if (done instanceof Promise) await done;
  for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
}

/**
 * Encrypts a byte source into the stream format (the format of `sealStream`), as an async
 * iterable of output pieces: the header first, then the chunks. Options are validated here
 * (`ERR_CRYPTO_INVALID_ARGUMENT`); KEK failures and bad chunks reject the iteration.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, sealIterable } from '@fluxel/crypto';
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const parts: Uint8Array[] = [];
 * for await (const part of sealIterable([new Uint8Array(3000)], { keyring, chunkSize: 1024 })) parts.push(part);
 * assert.equal(inspect(parts[0] as Uint8Array).stream, true); // the header comes first
 * const size = parts.reduce((n, part) => n + part.length, 0);
 * assert.equal(size, inspect(parts[0] as Uint8Array).headerLength + 3000 + 4 * 16); // 3 data chunks + end chunk, a tag each
 * ```
 */
export function sealIterable(
  source: ByteSource,
  options: SealStreamOptions,
): AsyncIterable<Uint8Array> {
  return drive(createStreamSealer(options), source);
}

/**
 * Decrypts the stream format from a byte source, as an async iterable of plaintext pieces.
 * Authentication failures (wrong key, context, tampering, truncation, reordering) reject the
 * iteration with `ERR_CRYPTO_DECRYPTION_FAILED`; a bad header with its structural code.
 * Plaintext is released chunk by chunk as each authenticates: treat it as valid only once the
 * iteration has finished without error.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, localKek, openIterable, sealIterable } from '@fluxel/crypto';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context = { object: 'report.pdf' };
 * const sealed = await collect(sealIterable([new Uint8Array(2000).fill(7)], { keyring, context, chunkSize: 1024 }));
 * const sink: Uint8Array[] = [];
 * for await (const part of openIterable(sealed, { keyring, context })) sink.push(part);
 * assert.equal(sink.reduce((n, part) => n + part.length, 0), 2000);
 * // Another context: the first chunk does not authenticate.
 * await assert.rejects(collect(openIterable(sealed, { keyring, context: { object: 'other.pdf' } })), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_DECRYPTION_FAILED',
 * );
 * ```
 */
export function openIterable(
  source: ByteSource,
  options: OpenStreamOptions,
): AsyncIterable<Uint8Array> {
  return drive(createStreamOpener(options), source);
}
