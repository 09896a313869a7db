/**
 * Chunked encryption of large payloads as Web `TransformStream`s (the STREAM construction):
 * the header once, then data chunks of `chunkSize` plaintext bytes (the last one may be
 * shorter), then an empty end chunk. Each is sealed under the message key with nonce
 * `prefix ‖ u32 counter ‖ final flag` (1 only for the end chunk) and the same AAD as a record
 * (authenticated prefix ‖ context). Because data chunks are never final, node:crypto encrypts
 * each input piece as it arrives. Truncation, reordering, chunk swapping and appended data fail;
 * memory stays within about one chunk whatever the payload size.
 *
 * Plaintext is released chunk by chunk as each authenticates: a consumer must treat the output
 * as valid only once the stream has closed without error.
 */
import { type MaybePromise, type Sealer, TAG_LENGTH } from './aead.js';
import { allocOutput, concat, randomBytes, wipe } from './bytes.js';
import type { DataKeyCache } from './cache.js';
import type { EncryptionContext } from './context.js';
import { dataKeyForSeal } from './datakey.js';
import { deriveMessageKey } from './derive.js';
import { aadOf, contextBytes, messageKeyOf } from './envelope.js';
import { CryptoError, decryptionFailed } from './errors.js';
import {
  encodeEntries,
  encodePrefix,
  type Header,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  parseHeader,
  SALT_LENGTH,
  STREAM_NONCE_SUFFIX,
} from './format.js';
import { checkKeyring, type Keyring } from './keyring.js';
import { DEFAULT_SUITE, type Suite, type SuiteName, suiteByName } from './suites.js';

/**
 * Default plaintext bytes per chunk: 256 KiB (docs/decisions/0006-crypto-envelope.md: per-chunk costs dominate below).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_CHUNK_SIZE, generateKey, inspect, Keyring, localKek, sealIterable } from '@fluxel/crypto';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const [header] = await collect(sealIterable([new Uint8Array(10)], { keyring }));
 * assert.equal(header && inspect(header).chunkSize, DEFAULT_CHUNK_SIZE); // 256 KiB
 * ```
 */
export const DEFAULT_CHUNK_SIZE = 262144;
/**
 * Most chunks one stream can hold (the counter is 32 bits).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DEFAULT_CHUNK_SIZE, MAX_CHUNKS } from '@fluxel/crypto';
 *
 * // The longest stream at a chunk size: 1 PiB at the default 256 KiB.
 * assert.equal(MAX_CHUNKS * DEFAULT_CHUNK_SIZE, 2 ** 50);
 * ```
 */
export const MAX_CHUNKS = 2 ** 32;
/** Longest header an opening stream buffers before giving up. */
const MAX_HEADER = 160 * 1024;

/**
 * Options of `sealStream`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, type SealStreamOptions, sealIterable } from '@fluxel/crypto';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const options: SealStreamOptions = {
 *   keyring: new Keyring([localKek({ id: 'local-1', key: generateKey() })]),
 *   context: { object: 'backup.tar' },
 *   suite: 'xchacha20-poly1305',
 *   chunkSize: 64 * 1024,
 * };
 * const [header] = await collect(sealIterable([new Uint8Array(100)], options));
 * assert.equal(header && inspect(header).suite, 'xchacha20-poly1305');
 * assert.equal(header && inspect(header).chunkSize, 65536);
 * ```
 */
export interface SealStreamOptions {
  /** The KEKs; the data key is wrapped under `keyring.recipients`. */
  readonly keyring: Keyring;
  /** Bound as AAD of every chunk; the same map must be given to `openStream`. */
  readonly context?: EncryptionContext;
  /** Default `aes-256-gcm`. */
  readonly suite?: SuiteName;
  /** Plaintext bytes per chunk, 64 B to 16 MiB. Default 256 KiB. */
  readonly chunkSize?: number;
  /** Reuse data keys within the cache's limits. */
  readonly cache?: DataKeyCache;
}

/**
 * Options of `openStream`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type OpenStreamOptions, openIterable, sealIterable } from '@fluxel/crypto';
 *
 * const collect = async (parts: AsyncIterable<Uint8Array>) => {
 *   const out: Uint8Array[] = [];
 *   for await (const part of parts) out.push(part);
 *   return out;
 * };
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await collect(sealIterable([Uint8Array.of(1, 2, 3)], { keyring, context: { object: 'a' } }));
 * const options: OpenStreamOptions = { keyring, context: { object: 'a' } };
 * assert.deepEqual(await collect(openIterable(sealed, options)), [Uint8Array.of(1, 2, 3)]);
 * ```
 */
export interface OpenStreamOptions {
  /** Must hold a KEK named in the header. */
  readonly keyring: Keyring;
  /** Must equal the context given at sealing. */
  readonly context?: EncryptionContext;
  /** Remember unwrapped data keys within the cache's limits. */
  readonly cache?: DataKeyCache;
}

class ChunkCipher {
  #counter = 0;
  readonly #nonce: Uint8Array;
  readonly #view: DataView;
  readonly #at: number;

  constructor(
    readonly suite: Suite,
    readonly key: Uint8Array,
    readonly aad: Uint8Array,
    prefix: Uint8Array,
  ) {
    this.#nonce = new Uint8Array(suite.aead.nonceLength);
    this.#nonce.set(prefix);
    this.#at = prefix.length;
    this.#view = new DataView(this.#nonce.buffer);
  }

  #next(final: boolean): Uint8Array {
    if (this.#counter >= MAX_CHUNKS) {
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'stream too long: 2^32 chunks at most');
    }
    this.#view.setUint32(this.#at, this.#counter);
    this.#nonce[this.#at + 4] = final ? 1 : 0;
    this.#counter++;
    return this.#nonce;
  }

  /** Seals a whole chunk and emits `ciphertext ‖ tag`. */
  async seal(data: Uint8Array, final: boolean, emit: Emit): Promise<void> {
    const out = allocOutput(data.length + TAG_LENGTH);
    const done = this.suite.aead.seal(this.key, this.#next(final), data, this.aad, out, 0);
    if (done instanceof Promise) await done;
    emit(out);
  }

  /** Starts a (non-final) chunk sealed incrementally, where the backend can. */
  start(): Sealer | undefined {
    return this.suite.aead.sealer?.(this.key, this.#next(false), this.aad);
  }

  async open(sealed: Uint8Array, final: boolean): Promise<Uint8Array> {
    const result = this.suite.aead.open(this.key, this.#next(final), sealed, this.aad);
    return result instanceof Promise ? await result : result;
  }
}

/** Receives output bytes, in order. */
export type Emit = (bytes: Uint8Array) => void;

/**
 * The sealing side of the stream format without a stream API around it: `start` emits the
 * header, `write` any number of input pieces, `end` the last chunk and the end marker. The Web
 * `TransformStream` (`sealStream`) and the Node `Transform` (`sealNodeStream` in
 * `@fluxel/crypto/node`) both drive one; they differ only in how bytes travel. Options are
 * checked when it is built. @internal
 */
export interface StreamSealer {
  start(emit: Emit): Promise<void>;
  write(chunk: Uint8Array, emit: Emit): MaybePromise<void>;
  end(emit: Emit): MaybePromise<void>;
}

/** The decrypting counterpart of {@link StreamSealer}. @internal */
export interface StreamOpener {
  write(chunk: Uint8Array, emit: Emit): MaybePromise<void>;
  end(emit: Emit): MaybePromise<void>;
}

function notBytes(): CryptoError {
  return new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'stream chunks are Uint8Arrays');
}

/** Builds a {@link StreamSealer} (options are validated here). @internal */
export function createStreamSealer(options: SealStreamOptions): StreamSealer {
  const chunkSize = options?.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'chunkSize must be 64 B to 16 MiB');
  }
  const keyring = checkKeyring(options?.keyring);
  const suite = suiteByName(options.suite ?? DEFAULT_SUITE);
  const context = contextBytes(options.context);
  let cipher: ChunkCipher;
  // node:crypto encrypts each input piece as it comes (no copy); other backends collect a chunk.
  const incremental = suite.aead.sealer !== undefined;
  const pending = incremental ? new Uint8Array(0) : new Uint8Array(chunkSize);
  let current: Sealer | undefined;
  let filled = 0;

  const endChunk = async (emit: Emit) => {
    if (current) emit(current.final());
    else await cipher.seal(pending.subarray(0, filled), false, emit);
    current = undefined;
    filled = 0;
  };

  // The input piece by piece; synchronous while every chunk is sealed incrementally.
  const writeFrom = (chunk: Uint8Array, from: number, emit: Emit): MaybePromise<void> => {
    let offset = from;
    while (offset < chunk.length) {
      // Data chunks are never final, so a full one is sealed at once.
      if (!incremental && filled === 0 && chunk.length - offset >= chunkSize) {
        const next = offset + chunkSize;
        return cipher
          .seal(chunk.subarray(offset, next), false, emit)
          .then(() => writeFrom(chunk, next, emit));
      }
      const n = Math.min(chunkSize - filled, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + n);
      if (incremental) {
        current ??= cipher.start();
        current?.update(piece, emit);
      } else {
        pending.set(piece, filled);
      }
      filled += n;
      offset += n;
      if (filled === chunkSize) {
        if (current) {
          emit(current.final());
          current = undefined;
          filled = 0;
        } else {
          const next = offset;
          return endChunk(emit).then(() => writeFrom(chunk, next, emit));
        }
      }
    }
  };

  return {
    async start(emit) {
      const dataKey = await dataKeyForSeal(keyring, 0, options.cache);
      const random = randomBytes(SALT_LENGTH + suite.aead.nonceLength - STREAM_NONCE_SUFFIX);
      const salt = random.subarray(0, SALT_LENGTH);
      const noncePrefix = random.subarray(SALT_LENGTH);
      const { key, commitment } = deriveMessageKey(dataKey.dek, salt, suite);
      if (!dataKey.cached) wipe(dataKey.dek);
      const prefix = encodePrefix(suite, chunkSize, salt, commitment, noncePrefix);
      cipher = new ChunkCipher(suite, key, aadOf(prefix, context), noncePrefix);
      emit(concat(prefix, encodeEntries(dataKey.entries)));
    },
    write(chunk, emit) {
      if (!(chunk instanceof Uint8Array)) throw notBytes();
      return writeFrom(chunk, 0, emit);
    },
    async end(emit) {
      if (filled > 0) await endChunk(emit);
      // The end marker: an empty chunk with the final flag.
      await cipher.seal(new Uint8Array(0), true, emit);
      wipe(cipher.key);
      wipe(pending);
    },
  };
}

/** Builds a {@link StreamOpener} (options are validated here). @internal */
export function createStreamOpener(options: OpenStreamOptions): StreamOpener {
  const keyring = checkKeyring(options?.keyring);
  const context = contextBytes(options.context);
  let head: Uint8Array[] = [];
  let headSize = 0;
  let header: Header | undefined;
  let cipher: ChunkCipher;
  let buffer: Uint8Array;
  let capacity = 0;
  let filled = 0;

  // A data chunk can be opened once more than `capacity + TAG_LENGTH` bytes are known: the
  // last TAG_LENGTH bytes of the stream are the (empty) final chunk.
  async function body(chunk: Uint8Array, emit: Emit): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (filled === 0 && chunk.length - offset > capacity + TAG_LENGTH) {
        emit(await cipher.open(chunk.subarray(offset, offset + capacity), false));
        offset += capacity;
        continue;
      }
      const n = Math.min(buffer.length - filled, chunk.length - offset);
      buffer.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === buffer.length) {
        emit(await cipher.open(buffer.subarray(0, capacity), false));
        buffer.copyWithin(0, capacity, filled);
        filled -= capacity;
      }
    }
  }

  return {
    async write(chunk, emit) {
      if (!(chunk instanceof Uint8Array)) throw notBytes();
      if (header) return body(chunk, emit);
      head.push(chunk);
      headSize += chunk.length;
      const bytes = head.length === 1 ? chunk : concat(...head);
      head = [bytes];
      const parsed = parseHeader(bytes);
      if (!parsed) {
        if (headSize > MAX_HEADER) throw new CryptoError('ERR_CRYPTO_MALFORMED', 'header too long');
        return;
      }
      if (parsed.chunkSize === 0) {
        throw new CryptoError('ERR_CRYPTO_MALFORMED', 'this is a record: use open');
      }
      header = parsed;
      head = [];
      const key = await messageKeyOf(parsed, keyring, options.cache);
      cipher = new ChunkCipher(parsed.suite, key, aadOf(parsed.prefix, context), parsed.nonce);
      capacity = parsed.chunkSize + TAG_LENGTH;
      buffer = new Uint8Array(capacity + TAG_LENGTH + 1);
      await body(bytes.subarray(parsed.bodyOffset), emit);
    },
    async end(emit) {
      if (!header) throw new CryptoError('ERR_CRYPTO_MALFORMED', 'truncated header');
      if (filled < TAG_LENGTH) throw decryptionFailed();
      const last = filled - TAG_LENGTH;
      if (last > 0) {
        // The last data chunk (full or partial), then the end marker.
        if (last < TAG_LENGTH) throw decryptionFailed();
        emit(await cipher.open(buffer.subarray(0, last), false));
      }
      const end = await cipher.open(buffer.subarray(last, filled), true);
      if (end.length !== 0) throw decryptionFailed();
      wipe(cipher.key);
    },
  };
}

/**
 * A `TransformStream` that encrypts a byte stream into the stream format. The data key is
 * wrapped when the stream starts; the header is the first output chunk. On Node,
 * `sealNodeStream` (`@fluxel/crypto/node`) writes the same format through a Node `Transform`,
 * without the cost of Web Streams.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, openStream, sealStream } from '@fluxel/crypto';
 *
 * const bytesOf = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
 * const streamOf = (...parts: Uint8Array[]) =>
 *   new ReadableStream<Uint8Array>({
 *     start(controller) {
 *       for (const part of parts) controller.enqueue(part);
 *       controller.close();
 *     },
 *   });
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const context = { object: 'export.csv' };
 * const plaintext = new TextEncoder().encode('id,name\n1,Ada\n'.repeat(200)); // 2.8 kB
 * const sealed = await bytesOf(streamOf(plaintext).pipeThrough(sealStream({ keyring, context, chunkSize: 1024 })));
 * assert.equal(inspect(sealed).stream, true);
 * assert.deepEqual(await bytesOf(streamOf(sealed).pipeThrough(openStream({ keyring, context }))), plaintext);
 * ```
 */
export function sealStream(options: SealStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const sealer = createStreamSealer(options);
  return new TransformStream({
    start: (controller) => sealer.start((part) => controller.enqueue(part)),
    transform: (chunk, controller) => sealer.write(chunk, (part) => controller.enqueue(part)),
    flush: (controller) => sealer.end((part) => controller.enqueue(part)),
  });
}

/**
 * A `TransformStream` that decrypts the stream format. Authentication failures (wrong key,
 * context, tampering, truncation, reordering) error the stream with
 * `ERR_CRYPTO_DECRYPTION_FAILED`; a bad header with its structural code.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { CryptoError, generateKey, Keyring, localKek, openStream, sealStream } from '@fluxel/crypto';
 *
 * const bytesOf = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
 * const streamOf = (...parts: Uint8Array[]) =>
 *   new ReadableStream<Uint8Array>({
 *     start(controller) {
 *       for (const part of parts) controller.enqueue(part);
 *       controller.close();
 *     },
 *   });
 *
 * const keyring = new Keyring([localKek({ id: 'local-1', key: generateKey() })]);
 * const sealed = await bytesOf(streamOf(new Uint8Array(5000)).pipeThrough(sealStream({ keyring, chunkSize: 1024 })));
 * assert.equal((await bytesOf(streamOf(sealed).pipeThrough(openStream({ keyring })))).length, 5000);
 * // A truncated stream does not open: treat the output as complete only when the stream closes.
 * const truncated = streamOf(sealed.subarray(0, sealed.length - 16)).pipeThrough(openStream({ keyring }));
 * await assert.rejects(bytesOf(truncated), (error) =>
 *   CryptoError.isInstance(error) && error.code === 'ERR_CRYPTO_DECRYPTION_FAILED',
 * );
 * ```
 */
export function openStream(options: OpenStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const opener = createStreamOpener(options);
  return new TransformStream({
    transform: (chunk, controller) => opener.write(chunk, (part) => controller.enqueue(part)),
    flush: (controller) => opener.end((part) => controller.enqueue(part)),
  });
}
