/**
 * Format version 1, byte by byte (big-endian; described in the package README):
 *
 * ```
 * 0     3  magic "FLX" (46 4C 58)
 * 3     1  version (01)
 * 4     1  suite id (01 AES-256-GCM, 02 XChaCha20-Poly1305, 03 AES-256-GCM-SIV)
 * 5     1  flags (bit 0: stream; other bits zero)
 * [6    4  chunk size, u32, streams only]
 * .    32  salt
 * .    32  commitment
 * .     N  nonce (records: 12 / 24 / 12; streams: the nonce prefix, 5 bytes shorter)
 *          ── end of the authenticated prefix (AAD = prefix ‖ context encoding) ──
 * .     1  entry count (1–32)
 *          per entry: u8 KEK id length (1–255), KEK id (UTF-8),
 *                     u16 wrapped DEK length (1–4096), wrapped DEK
 *          ── end of the header ──
 * .     …  body: ciphertext ‖ 16-byte tag (records) or chunks (streams: data chunks of
 *          chunk size ‖ tag, the last one possibly shorter, then a 16-byte empty end chunk)
 * ```
 */
import { fromUtf8, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { type Suite, suiteById } from './suites.js';

/** The first three bytes of every ciphertext: ASCII "FLX". */
export const MAGIC: Uint8Array = /* @__PURE__ */ Uint8Array.of(0x46, 0x4c, 0x58);
/**
 * The format version this code writes and reads.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { FORMAT_VERSION, generateKey, inspect, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const sealed = await seal(Uint8Array.of(1), { keyring: new Keyring([localKek({ id: 'k', key: generateKey() })]) });
 * assert.equal(sealed[3], FORMAT_VERSION); // after the magic "FLX"
 * assert.equal(inspect(sealed).version, FORMAT_VERSION);
 * ```
 */
export const FORMAT_VERSION = 1;
/** Flag bit: the body is a chunked stream. */
export const FLAG_STREAM = 1;
/** Length of the per-message HKDF salt. */
export const SALT_LENGTH = 32;
/** Length of the key commitment. */
export const COMMITMENT_LENGTH = 32;
/** Bytes of a stream nonce taken by the chunk counter (u32) and the final flag (u8). */
export const STREAM_NONCE_SUFFIX = 5;
/** Most entries (KEK id, wrapped DEK) one header can hold. */
export const MAX_ENTRIES = 32;
/** Longest wrapped DEK accepted. */
export const MAX_WRAPPED_LENGTH = 4096;

/**
 * One recipient of a message: the KEK that wrapped the DEK, and the wrapped DEK.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type HeaderEntry, generateKey, localKek } from '@fluxel/crypto';
 *
 * const kek = localKek({ id: 'local-1', key: generateKey() });
 * const entry: HeaderEntry = { kekId: kek.id, wrapped: await kek.wrap(generateKey()) };
 * assert.equal(entry.wrapped.length, 61); // AES-GCM wrapping: 01 ‖ nonce ‖ key ‖ tag, see the README
 * ```
 */
export interface HeaderEntry {
  /** The id of the KEK that wrapped the data key. */
  readonly kekId: string;
  /** The data key wrapped by that KEK (provider-specific bytes). */
  readonly wrapped: Uint8Array;
}

/** A parsed header. */
export interface Header {
  readonly version: number;
  readonly suite: Suite;
  readonly flags: number;
  /** Chunk size for streams, 0 for records. */
  readonly chunkSize: number;
  readonly salt: Uint8Array;
  readonly commitment: Uint8Array;
  /** The record nonce, or a stream's nonce prefix. */
  readonly nonce: Uint8Array;
  /** The authenticated prefix (bytes 0 up to the entry count). */
  readonly prefix: Uint8Array;
  readonly entries: readonly HeaderEntry[];
  /** Offset of the body in the input. */
  readonly bodyOffset: number;
}

/**
 * The KEK id at `bytes[start, end)`. Ids are short and almost always ASCII: those are read
 * byte by byte (a `TextDecoder` call costs several times more); anything else is decoded as
 * strict UTF-8.
 */
function kekIdOf(bytes: Uint8Array, start: number, end: number): string {
  let id = '';
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x80) return fromUtf8(bytes.subarray(start, end));
    id += String.fromCharCode(byte);
  }
  return id;
}

function malformed(message: string): CryptoError {
  return new CryptoError('ERR_CRYPTO_MALFORMED', message);
}

/** Length of the authenticated prefix for a suite. */
export function prefixLength(suite: Suite, stream: boolean): number {
  return (
    6 +
    (stream ? 4 : 0) +
    SALT_LENGTH +
    COMMITMENT_LENGTH +
    suite.aead.nonceLength -
    (stream ? STREAM_NONCE_SUFFIX : 0)
  );
}

/** Writes the authenticated prefix; `nonce` is the record nonce or the stream nonce prefix. */
export function encodePrefix(
  suite: Suite,
  chunkSize: number,
  salt: Uint8Array,
  commitment: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  const stream = chunkSize > 0;
  const out = new Uint8Array(prefixLength(suite, stream));
  out.set(MAGIC, 0);
  out[3] = FORMAT_VERSION;
  out[4] = suite.id;
  out[5] = stream ? FLAG_STREAM : 0;
  let at = 6;
  if (stream) {
    new DataView(out.buffer).setUint32(6, chunkSize);
    at += 4;
  }
  out.set(salt, at);
  out.set(commitment, at + SALT_LENGTH);
  out.set(nonce, at + SALT_LENGTH + COMMITMENT_LENGTH);
  return out;
}

const idBytes = new Map<string, Uint8Array>();

function kekIdBytes(id: string): Uint8Array {
  let bytes = idBytes.get(id);
  if (!bytes) {
    bytes = utf8(id);
    if (idBytes.size >= 1024) idBytes.clear();
    idBytes.set(id, bytes);
  }
  return bytes;
}

/** The bytes of an entry list (count and entries). */
export function encodeEntries(entries: readonly HeaderEntry[]): Uint8Array {
  if (entries.length < 1 || entries.length > MAX_ENTRIES) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', `a header holds 1 to ${MAX_ENTRIES} KEKs`);
  }
  const ids = entries.map((e) => kekIdBytes(e.kekId));
  let size = 1;
  for (const [i, entry] of entries.entries()) {
    const id = ids[i] as Uint8Array;
    if (id.length < 1 || id.length > 255) {
      throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a KEK id is 1 to 255 UTF-8 bytes');
    }
    if (entry.wrapped.length < 1 || entry.wrapped.length > MAX_WRAPPED_LENGTH) {
      throw new CryptoError(
        'ERR_CRYPTO_INVALID_ARGUMENT',
        `a wrapped DEK is 1 to ${MAX_WRAPPED_LENGTH} bytes`,
      );
    }
    size += 3 + id.length + entry.wrapped.length;
  }
  const out = new Uint8Array(size);
  out[0] = entries.length;
  let at = 1;
  for (const [i, entry] of entries.entries()) {
    const id = ids[i] as Uint8Array;
    out[at] = id.length;
    out.set(id, at + 1);
    at += 1 + id.length;
    out[at] = entry.wrapped.length >> 8;
    out[at + 1] = entry.wrapped.length & 0xff;
    out.set(entry.wrapped, at + 2);
    at += 2 + entry.wrapped.length;
  }
  return out;
}

/**
 * Parses a header. Returns `undefined` when `bytes` ends before the header does (streams read
 * on); any other problem throws `ERR_CRYPTO_MALFORMED`, `ERR_CRYPTO_UNSUPPORTED_VERSION` or
 * `ERR_CRYPTO_UNSUPPORTED_SUITE`. Checks only the structure: nothing is authenticated here.
 */
export function parseHeader(bytes: Uint8Array): Header | undefined {
  if (!(bytes instanceof Uint8Array)) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'a ciphertext is a Uint8Array');
  }
  for (let i = 0; i < Math.min(3, bytes.length); i++) {
    if (bytes[i] !== MAGIC[i]) throw malformed('not a Fluxel ciphertext (bad magic)');
  }
  if (bytes.length < 6) return undefined;
  const version = bytes[3] as number;
  if (version !== FORMAT_VERSION) {
    throw new CryptoError(
      'ERR_CRYPTO_UNSUPPORTED_VERSION',
      `format version ${version} is not supported (this release reads version ${FORMAT_VERSION})`,
    );
  }
  const suite = suiteById(bytes[4] as number);
  const flags = bytes[5] as number;
  if ((flags & ~FLAG_STREAM) !== 0) throw malformed('unknown header flags');
  const stream = (flags & FLAG_STREAM) !== 0;
  const end = prefixLength(suite, stream);
  if (bytes.length < end + 1) return undefined;
  let at = 6;
  let chunkSize = 0;
  if (stream) {
    // Big-endian u32, read byte by byte (a DataView per parse costs more than the read).
    chunkSize =
      (bytes[6] as number) * 0x1000000 +
      (((bytes[7] as number) << 16) | ((bytes[8] as number) << 8) | (bytes[9] as number));
    if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw malformed('stream chunk size out of range');
    }
    at += 4;
  }
  const salt = bytes.subarray(at, at + SALT_LENGTH);
  at += SALT_LENGTH;
  const commitment = bytes.subarray(at, at + COMMITMENT_LENGTH);
  at += COMMITMENT_LENGTH;
  const nonce = bytes.subarray(at, end);
  const count = bytes[end] as number;
  if (count < 1 || count > MAX_ENTRIES) throw malformed('bad KEK entry count');
  at = end + 1;
  const entries: HeaderEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (bytes.length < at + 1) return undefined;
    const idLength = bytes[at] as number;
    if (idLength === 0) throw malformed('empty KEK id');
    if (bytes.length < at + 1 + idLength + 2) return undefined;
    const kekId = kekIdOf(bytes, at + 1, at + 1 + idLength);
    at += 1 + idLength;
    const wrappedLength = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
    if (wrappedLength === 0 || wrappedLength > MAX_WRAPPED_LENGTH) {
      throw malformed('bad wrapped DEK length');
    }
    if (bytes.length < at + 2 + wrappedLength) return undefined;
    entries.push({ kekId, wrapped: bytes.subarray(at + 2, at + 2 + wrappedLength) });
    at += 2 + wrappedLength;
  }
  return {
    version,
    suite,
    flags,
    chunkSize,
    salt,
    commitment,
    nonce,
    prefix: bytes.subarray(0, end),
    entries,
    bodyOffset: at,
  };
}

/** Parses the header of a complete ciphertext: a short input is `ERR_CRYPTO_MALFORMED`. */
export function parseComplete(bytes: Uint8Array): Header {
  const header = parseHeader(bytes);
  if (!header) throw malformed('truncated header');
  return header;
}

/** Smallest stream chunk size. */
export const MIN_CHUNK_SIZE = 64;
/** Largest stream chunk size (16 MiB). */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
