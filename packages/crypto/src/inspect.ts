/**
 * Reading a ciphertext's header without decrypting: which suite, which KEKs, record or stream.
 * Nothing here is authenticated; use it for routing and rotation planning, not for decisions
 * that need integrity.
 */
import { parseComplete } from './format.js';
import type { SuiteName } from './suites.js';

/**
 * What a header says (unauthenticated).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CiphertextInfo, generateKey, inspect, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const sealed = await seal(new Uint8Array(5), { keyring: new Keyring([localKek({ id: 'local-1', key: generateKey() })]) });
 * const info: CiphertextInfo = inspect(sealed);
 * assert.equal(info.stream, false);
 * assert.equal(info.chunkSize, 0);
 * assert.equal(sealed.length, info.headerLength + 5 + 16); // header, ciphertext, tag
 * ```
 */
export interface CiphertextInfo {
  /** The format version (1). */
  readonly version: number;
  /** The algorithm suite. */
  readonly suite: SuiteName;
  /** Whether this is a chunked stream (else a record). */
  readonly stream: boolean;
  /** Plaintext bytes per chunk for streams, 0 for records. */
  readonly chunkSize: number;
  /** The KEK ids that can open the message, in header order. */
  readonly kekIds: readonly string[];
  /** Length of the authenticated prefix (the header up to the KEK entry list), in bytes. */
  readonly prefixLength: number;
  /** Header length in bytes (the body starts here). */
  readonly headerLength: number;
}

/**
 * Parses the header of a ciphertext (structural errors as in `open`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, seal } from '@fluxel/crypto';
 *
 * const a = localKek({ id: 'eu-2026', key: generateKey() });
 * const b = localKek({ id: 'backup', key: generateKey() });
 * const keyring = new Keyring([a, b], { recipients: ['eu-2026', 'backup'] });
 * const sealed = await seal(new Uint8Array(5), { keyring, suite: 'aes-256-gcm-siv' });
 * // What the header says, without any key (nothing is authenticated here).
 * assert.deepEqual(inspect(sealed).kekIds, ['eu-2026', 'backup']);
 * assert.equal(inspect(sealed).suite, 'aes-256-gcm-siv');
 * ```
 */
export function inspect(ciphertext: Uint8Array): CiphertextInfo {
  const header = parseComplete(ciphertext);
  return {
    version: header.version,
    suite: header.suite.name,
    stream: header.chunkSize > 0,
    chunkSize: header.chunkSize,
    kekIds: header.entries.map((e) => e.kekId),
    prefixLength: header.prefix.length,
    headerLength: header.bodyOffset,
  };
}
