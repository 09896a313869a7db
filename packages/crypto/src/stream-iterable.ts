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

/** Input of {@link sealIterable} and {@link openIterable}: bytes, sync or async. */
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
 * const keyring = new Keyring([localKek({ id: 'k1', key: generateKey() })]);
 * const parts: Uint8Array[] = [];
 * for await (const part of sealIterable([new Uint8Array(100_000)], { keyring })) parts.push(part);
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
 * for await (const part of openIterable(sealedParts, { keyring })) sink.push(part);
 * ```
 */
export function openIterable(
  source: ByteSource,
  options: OpenStreamOptions,
): AsyncIterable<Uint8Array> {
  return drive(createStreamOpener(options), source);
}
