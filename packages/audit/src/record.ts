/**
 * The record format of the log. One record per line (UTF-8, `\n`-terminated):
 *
 * ```
 * {"s":<seq>,"p":"<prev hash>","k":"e","e":<canonical event>,"h":"<hash>"}
 * {"s":<seq>,"p":"<prev hash>","k":"c","c":<canonical checkpoint>,"sig":"<b64url>","h":"<hash>"}
 * ```
 *
 * `hash` is the lower-case hex SHA-256 of the line's bytes up to (not including) the
 * `,"h":"` that ends it — i.e. of the canonical record body — so a verifier hashes a slice
 * of the file without parsing JSON. The first record has `seq` 1 and a previous hash of 64
 * zeros. Checkpoints sign `fluxel-audit checkpoint v1\n` + canonical JSON of the checkpoint
 * object with Ed25519.
 */
import { canonicalJson, fromBase64url, toBase64url, utf8 } from './encoding.js';
import type { AuditEvent } from './event.js';
import { canonicalEvent } from './event.js';
import type { SigningKey } from './keys.js';
import { ed25519Sign, ed25519Verify, sha256Hex } from './primitives.js';

/**
 * The previous hash of the first record.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, GENESIS_HASH, MemoryStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.close();
 * assert.equal(store.records[0]?.prev, GENESIS_HASH); // the first record links to 64 zeros
 * ```
 */
export const GENESIS_HASH: string = '0'.repeat(64);

/** Length of the `,"h":"<64 hex>"}` suffix of every line. */
export const HASH_SUFFIX_LENGTH = 72;

/**
 * Why a checkpoint was written.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type CheckpointReason, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.checkpoint();
 * await log.close();
 * const reasons: CheckpointReason[] = store.records.flatMap((r) => (r.checkpoint ? [r.checkpoint.reason] : []));
 * assert.deepEqual(reasons, ['open', 'interval', 'close']); // checkpoint() writes an `interval` one
 * ```
 */
export type CheckpointReason =
  | 'open'
  | 'count'
  | 'interval'
  | 'close'
  | 'seal'
  | 'recover'
  | 'rotate'
  | 'retention';

/**
 * A signed statement "this log had `size` records and its head hash was `head` at `time`".
 * A checkpoint at sequence number n has `size` n − 1 and `head` equal to its own previous
 * hash, so it covers every record before it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type Checkpoint, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * const checkpoint: Checkpoint = await log.checkpoint();
 * assert.equal(checkpoint.size, 2); // covers the opening checkpoint and the event
 * assert.equal(checkpoint.log, log.id);
 * assert.equal(checkpoint.kid, log.keyId);
 * await log.close();
 * ```
 */
export interface Checkpoint {
  /** The log's id, fixed at creation. */
  readonly log: string;
  readonly size: number;
  readonly head: string;
  /** ISO-8601 UTC time of signing. */
  readonly time: string;
  /** Id of the key that signed it. */
  readonly kid: string;
  readonly reason: CheckpointReason;
  /** The signer's raw public key (base64url), on `open` and `seal` checkpoints. */
  readonly key?: string;
  /** Key rotation: the key that signs from the next checkpoint on. */
  readonly next?: { readonly kid: string; readonly key: string };
  /** Retention: the range of sequence numbers whose segments were dropped. */
  readonly dropped?: { readonly from: number; readonly to: number };
  /** Crash recovery: bytes of an incomplete final line removed on open. */
  readonly recovered?: { readonly truncatedBytes: number };
  /**
   * With `merkle: true`: the Merkle tree root (hex) over the records `from`..`size`, where
   * `from` is the sequence number of the latest `open` checkpoint (on which the tree is
   * empty). Absent when the log does not keep trees.
   */
  readonly tree?: { readonly from: number; readonly root: string };
}

/**
 * A record as stored: its sequence number, hash and the line (without `\n`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, type StoredRecord } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const [opening, login] = store.records as [StoredRecord, StoredRecord];
 * assert.equal(login.kind, 'e');
 * assert.equal(login.prev, opening.hash); // the chain
 * assert.equal(login.event?.action, 'auth.login');
 * assert.ok(login.line.endsWith(`"h":"${login.hash}"}`));
 * ```
 */
export interface StoredRecord {
  readonly seq: number;
  readonly kind: 'e' | 'c';
  readonly hash: string;
  readonly prev: string;
  readonly line: string;
  /** The event, for event records (as hashed: after redaction and encryption). */
  readonly event?: AuditEvent;
  /** The checkpoint, for checkpoint records. */
  readonly checkpoint?: Checkpoint;
}

/** Builds an event record. */
export function eventRecord(seq: number, prev: string, event: AuditEvent): StoredRecord {
  const body = `{"s":${seq},"p":"${prev}","k":"e","e":${canonicalEvent(event)}`;
  const hash = sha256Hex(body);
  return { seq, kind: 'e', hash, prev, line: `${body},"h":"${hash}"}`, event };
}

const CHECKPOINT_DOMAIN = 'fluxel-audit checkpoint v1\n';

/**
 * The bytes a checkpoint signature covers.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, checkpointMessage, generateSigningKey, MemoryStore } from '@fluxel/audit';
 *
 * const log = await AuditLog.open({ store: new MemoryStore(), signingKey: generateSigningKey() });
 * const checkpoint = await log.checkpoint();
 * await log.close();
 * // The bytes an Ed25519 signature covers: a domain prefix and the canonical JSON.
 * assert.match(new TextDecoder().decode(checkpointMessage(checkpoint)), /^fluxel-audit checkpoint v1\n\{/);
 * ```
 */
export function checkpointMessage(checkpoint: Checkpoint): Uint8Array {
  return utf8(CHECKPOINT_DOMAIN + canonicalJson(checkpoint));
}

/** Signs a checkpoint and builds its record. */
export function checkpointRecord(
  seq: number,
  prev: string,
  checkpoint: Checkpoint,
  key: SigningKey,
): StoredRecord {
  const sig = toBase64url(ed25519Sign(checkpointMessage(checkpoint), key.seed, key.publicKey));
  const body = `{"s":${seq},"p":"${prev}","k":"c","c":${canonicalJson(checkpoint)},"sig":"${sig}"`;
  const hash = sha256Hex(body);
  return { seq, kind: 'c', hash, prev, line: `${body},"h":"${hash}"}`, checkpoint };
}

/**
 * Whether `sig` (base64url) is a valid signature of the checkpoint under the public key.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, parseRecordLine, verifyCheckpointSignature } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey });
 * await log.close();
 * const closing = parseRecordLine(store.lines().at(-1)!)!;
 * assert.equal(verifyCheckpointSignature(closing.c!, closing.sig!, signingKey.publicKey), true);
 * assert.equal(verifyCheckpointSignature({ ...closing.c!, size: 99 }, closing.sig!, signingKey.publicKey), false);
 * ```
 */
export function verifyCheckpointSignature(
  checkpoint: Checkpoint,
  sig: string,
  publicKey: Uint8Array,
): boolean {
  let signature: Uint8Array;
  try {
    signature = fromBase64url(sig);
  } catch {
    return false;
  }
  return ed25519Verify(signature, checkpointMessage(checkpoint), publicKey);
}

/**
 * Parses a record line (without `\n`) into its parts; undefined when malformed.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, parseRecordLine } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const parsed = parseRecordLine(store.lines()[1]!);
 * assert.equal(parsed?.s, 2);
 * assert.equal(parsed?.e?.action, 'auth.login');
 * assert.equal(parseRecordLine('not a record'), undefined);
 * ```
 */
export function parseRecordLine(line: string):
  | {
      s: number;
      p: string;
      k: 'e' | 'c';
      e?: AuditEvent;
      c?: Checkpoint;
      sig?: string;
      h: string;
    }
  | undefined {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (
      typeof value.s !== 'number' ||
      typeof value.p !== 'string' ||
      typeof value.h !== 'string' ||
      (value.k !== 'e' && value.k !== 'c')
    )
      return undefined;
    return value as never;
  } catch {
    return undefined;
  }
}
