/**
 * KEK rotation without re-encryption: `rewrap` replaces the header's entry list (KEK ids and
 * wrapped data keys) and keeps every other byte — the authenticated prefix and the body —
 * unchanged. The payload's AAD covers the prefix, not the entries, precisely so this works;
 * the entries are protected by the KEK's own authentication and by the key commitment.
 */
import { concat, wipe } from './bytes.js';
import type { DataKeyCache } from './cache.js';
import { dataKeyForOpen } from './datakey.js';
import { commitmentMatches, deriveMessageKey } from './derive.js';
import { CryptoError, decryptionFailed } from './errors.js';
import { encodeEntries, type HeaderEntry, parseComplete } from './format.js';
import { checkKeyring, type Keyring } from './keyring.js';

/** Options of {@link rewrap}. */
export interface RewrapOptions {
  /** A keyring that can unwrap the current data key. */
  readonly from: Keyring;
  /** Unwrapped data keys are remembered here (helps when records share cached data keys). */
  readonly cache?: DataKeyCache;
}

/**
 * The same ciphertext with its data key wrapped under `to.recipients` instead: only the entry
 * list changes. The data key is checked against the key commitment first, so a wrong key is
 * never rewrapped (`ERR_CRYPTO_DECRYPTION_FAILED`).
 */
export async function rewrap(
  ciphertext: Uint8Array,
  to: Keyring,
  options: RewrapOptions,
): Promise<Uint8Array> {
  const header = parseComplete(ciphertext);
  checkKeyring(to);
  const { dek, fromCache, entry, kek } = await dataKeyForOpen(
    checkKeyring(options?.from),
    header.entries,
    options.cache,
  );
  try {
    const { key, commitment } = deriveMessageKey(dek, header.salt, header.suite);
    wipe(key);
    if (!commitmentMatches(commitment, header.commitment)) throw decryptionFailed();
    if (!fromCache) options.cache?.putForOpen(kek, entry.wrapped, dek);
    const entries: HeaderEntry[] = [];
    for (const recipient of to.recipients) {
      const wrapped = recipient.wrap(dek);
      entries.push({
        kekId: recipient.id,
        wrapped: wrapped instanceof Promise ? await wrapped : wrapped,
      });
    }
    return concat(header.prefix, encodeEntries(entries), ciphertext.subarray(header.bodyOffset));
  } finally {
    if (!fromCache) wipe(dek);
  }
}

/** One row for {@link rewrapAll}. */
export interface RewrapRow<Id = unknown> {
  /** The row's key, passed through to the result. */
  readonly id: Id;
  /** The row's current ciphertext (binary form). */
  readonly ciphertext: Uint8Array;
}

/** The outcome of one row of {@link rewrapAll}. */
export type RewrapResult<Id = unknown> =
  | {
      readonly id: Id;
      readonly ok: true;
      readonly ciphertext: Uint8Array;
      readonly changed: boolean;
    }
  | { readonly id: Id; readonly ok: false; readonly error: CryptoError };

/** Options of {@link rewrapAll}. */
export interface RewrapAllOptions extends RewrapOptions {
  /** Rows rewrapped concurrently. Default 16. */
  readonly concurrency?: number;
  /** Called after each batch with the number of rows done so far. */
  readonly onProgress?: (done: number) => void;
  /** Stop on the first failed row (throw) instead of yielding it. Default false. */
  readonly failFast?: boolean;
}

/**
 * Bulk rewrap of a table: reads rows from any (async) iterable, yields each row's new
 * ciphertext in order, in batches of `concurrency`. Rows already wrapped exactly for
 * `to.recipients` are yielded unchanged (`changed: false`), so a rerun after a crash is cheap.
 * Failed rows are yielded with their error (or thrown with `failFast`).
 */
export async function* rewrapAll<Id>(
  rows: Iterable<RewrapRow<Id>> | AsyncIterable<RewrapRow<Id>>,
  to: Keyring,
  options: RewrapAllOptions,
): AsyncGenerator<RewrapResult<Id>> {
  const size = options.concurrency ?? 16;
  if (!Number.isInteger(size) || size < 1) {
    throw new CryptoError('ERR_CRYPTO_INVALID_ARGUMENT', 'concurrency is a positive integer');
  }
  const target = to.recipients.map((k) => k.id).join('\u0000');
  let done = 0;
  let batch: RewrapRow<Id>[] = [];
  const run = async (row: RewrapRow<Id>): Promise<RewrapResult<Id>> => {
    try {
      const header = parseComplete(row.ciphertext);
      if (header.entries.map((e) => e.kekId).join('\u0000') === target) {
        return { id: row.id, ok: true, ciphertext: row.ciphertext, changed: false };
      }
      return {
        id: row.id,
        ok: true,
        ciphertext: await rewrap(row.ciphertext, to, options),
        changed: true,
      };
    } catch (error) {
      if (options.failFast || !CryptoError.isInstance(error)) throw error;
      return { id: row.id, ok: false, error };
    }
  };
  const flush = async function* () {
    const results = await Promise.all(batch.map(run));
    batch = [];
    done += results.length;
    yield* results;
    options.onProgress?.(done);
  };
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= size) yield* flush();
  }
  if (batch.length > 0) yield* flush();
}
