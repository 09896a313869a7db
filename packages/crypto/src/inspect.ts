/**
 * Reading a ciphertext's header without decrypting: which suite, which KEKs, record or stream.
 * Nothing here is authenticated; use it for routing and rotation planning, not for decisions
 * that need integrity.
 */
import { parseComplete } from './format.js';
import type { SuiteName } from './suites.js';

/** What a header says (unauthenticated). */
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

/** Parses the header of a ciphertext (structural errors as in `open`). */
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
