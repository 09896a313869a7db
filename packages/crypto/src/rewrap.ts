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

/**
 * Options of {@link rewrap}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { DataKeyCache, generateKey, Keyring, localKek, type RewrapOptions, rewrap, seal } from '@fluxel/crypto';
 *
 * const oldKeyring = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const newKeyring = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * const options: RewrapOptions = { from: oldKeyring, cache: new DataKeyCache({ maxAge: 60_000 }) };
 * const sealed = await seal(Uint8Array.of(1), { keyring: oldKeyring });
 * assert.ok((await rewrap(sealed, newKeyring, options)).length > 0);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, inspect, Keyring, localKek, open, rewrap, seal } from '@fluxel/crypto';
 *
 * const oldKeyring = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const newKeyring = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * const sealed = await seal(new TextEncoder().encode('api-key-123'), { keyring: oldKeyring, context: { record: '42' } });
 *
 * const rotated = await rewrap(sealed, newKeyring, { from: oldKeyring });
 * assert.deepEqual(inspect(rotated).kekIds, ['local-2026']);
 * // Only the entry list changed: the payload bytes are identical.
 * assert.deepEqual(rotated.subarray(inspect(rotated).headerLength), sealed.subarray(inspect(sealed).headerLength));
 * const plaintext = await open(rotated, { keyring: newKeyring, context: { record: '42' } });
 * assert.equal(new TextDecoder().decode(plaintext), 'api-key-123');
 * ```
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

/**
 * One row for {@link rewrapAll}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type RewrapRow, rewrapAll, seal } from '@fluxel/crypto';
 *
 * const from = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const to = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * const row: RewrapRow<number> = { id: 42, ciphertext: await seal(Uint8Array.of(1), { keyring: from }) };
 * for await (const result of rewrapAll([row], to, { from })) assert.equal(result.id, 42);
 * ```
 */
export interface RewrapRow<Id = unknown> {
  /** The row's key, passed through to the result. */
  readonly id: Id;
  /** The row's current ciphertext (binary form). */
  readonly ciphertext: Uint8Array;
}

/**
 * The outcome of one row of {@link rewrapAll}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type RewrapResult, rewrapAll, seal } from '@fluxel/crypto';
 *
 * const from = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const to = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * const rows = [
 *   { id: 'a', ciphertext: await seal(Uint8Array.of(1), { keyring: from }) },
 *   { id: 'b', ciphertext: new Uint8Array(8) }, // damaged
 * ];
 * const results: RewrapResult<string>[] = [];
 * for await (const result of rewrapAll(rows, to, { from })) results.push(result);
 * assert.equal(results[0]?.ok && results[0].changed, true);
 * assert.equal(results[1]?.ok === false && results[1].error.code, 'ERR_CRYPTO_MALFORMED');
 * ```
 */
export type RewrapResult<Id = unknown> =
  | {
      readonly id: Id;
      readonly ok: true;
      readonly ciphertext: Uint8Array;
      readonly changed: boolean;
    }
  | { readonly id: Id; readonly ok: false; readonly error: CryptoError };

/**
 * Options of {@link rewrapAll}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type RewrapAllOptions, rewrapAll, seal } from '@fluxel/crypto';
 *
 * const from = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const to = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * const progress: number[] = [];
 * const options: RewrapAllOptions = { from, concurrency: 2, onProgress: (done) => progress.push(done) };
 * const rows = [1, 2, 3].map(async (id) => ({ id, ciphertext: await seal(Uint8Array.of(id), { keyring: from }) }));
 * for await (const _ of rewrapAll(await Promise.all(rows), to, options));
 * assert.deepEqual(progress, [2, 3]);
 * ```
 */
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateKey, Keyring, localKek, type RewrapRow, rewrapAll, seal } from '@fluxel/crypto';
 *
 * const oldKeyring = new Keyring([localKek({ id: 'local-2025', key: generateKey() })]);
 * const newKeyring = new Keyring([localKek({ id: 'local-2026', key: generateKey() })]);
 * // A table of sealed rows (here in memory), read in batches, rewrapped, written back.
 * const table = new Map<number, Uint8Array>();
 * for (let id = 1; id <= 5; id++) table.set(id, await seal(Uint8Array.of(id), { keyring: oldKeyring }));
 * async function* readRows(): AsyncGenerator<RewrapRow<number>> {
 *   for (const [id, ciphertext] of table) yield { id, ciphertext };
 * }
 * let changed = 0;
 * for await (const row of rewrapAll(readRows(), newKeyring, { from: oldKeyring, concurrency: 16 })) {
 *   if (row.ok && row.changed) {
 *     table.set(row.id, row.ciphertext);
 *     changed++;
 *   }
 * }
 * assert.equal(changed, 5);
 * // A rerun (after a crash) skips the rows already done.
 * for await (const row of rewrapAll(readRows(), newKeyring, { from: oldKeyring })) assert.equal(row.ok && row.changed, false);
 * ```
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
