/**
 * Inclusion and consistency proofs for logs written with `merkle: true`: prove that one
 * record is covered by a signed checkpoint, or that a later checkpoint extends an earlier
 * one, without handing over the whole log.
 */
import { hex32, toHex } from './encoding.js';
import { AuditError } from './errors.js';
import type { VerifyingKey } from './keys.js';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  verifyConsistencyPath,
  verifyInclusionPath,
} from './merkle.js';
import { sha256Hex } from './primitives.js';
import {
  type Checkpoint,
  HASH_SUFFIX_LENGTH,
  parseRecordLine,
  verifyCheckpointSignature,
} from './record.js';

/**
 * A signed checkpoint as carried in a proof.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, proveInclusion, type SignedCheckpoint, verifyCheckpointSignature } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, merkle: true });
 * const { seq } = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const signed: SignedCheckpoint = proveInclusion(store.lines(), seq).signed;
 * assert.equal(signed.checkpoint.reason, 'close');
 * assert.ok(verifyCheckpointSignature(signed.checkpoint, signed.sig, signingKey.publicKey));
 * ```
 */
export interface SignedCheckpoint {
  readonly seq: number;
  readonly checkpoint: Checkpoint;
  readonly sig: string;
}

/**
 * Proof that the record `seq` (with hash `hash`) is in the tree a signed checkpoint covers.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, type InclusionProof, MemoryStore, proveInclusion } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), merkle: true });
 * const { seq, hash } = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * // Plain JSON: hand it to an auditor with the record's line.
 * const proof: InclusionProof = JSON.parse(JSON.stringify(proveInclusion(store.lines(), seq)));
 * assert.equal(proof.hash, hash);
 * ```
 */
export interface InclusionProof {
  readonly seq: number;
  readonly hash: string;
  /** Hex hashes of the audit path, leaf to root. */
  readonly path: readonly string[];
  readonly signed: SignedCheckpoint;
}

/**
 * Proof that a later signed checkpoint's tree extends an earlier one's.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, type ConsistencyProof, generateSigningKey, MemoryStore, proveConsistency } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), merkle: true });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * const older = (await log.checkpoint()).size + 1; // a checkpoint's seq is its size + 1
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.logout', outcome: 'success' });
 * await log.close();
 * const proof: ConsistencyProof = proveConsistency(store.lines(), older, log.size);
 * assert.ok(proof.newer.checkpoint.size > proof.older.checkpoint.size);
 * ```
 */
export interface ConsistencyProof {
  readonly older: SignedCheckpoint;
  readonly newer: SignedCheckpoint;
  readonly path: readonly string[];
}

interface Parsed {
  s: number;
  h: string;
  k: 'e' | 'c';
  c?: Checkpoint;
  sig?: string;
}

/** Collects the epoch (leaves since its `open` checkpoint) that contains `seq`. */
function epochOf(lines: Iterable<string>, seq: number, until?: number) {
  let leaves: Uint8Array[] = [];
  let hashes: string[] = [];
  let from = 0;
  const checkpoints: SignedCheckpoint[] = [];
  let found = false;
  for (const line of lines) {
    const r = parseRecordLine(line) as Parsed | undefined;
    if (!r)
      throw new AuditError(
        'ERR_AUDIT_INVALID_ARGUMENT',
        'a line is not a record; verify the log first',
      );
    if (r.k === 'c' && r.c?.reason === 'open') {
      if (found) break;
      leaves = [];
      hashes = [];
      from = r.s;
      checkpoints.length = 0;
    }
    if (r.k === 'c' && r.c?.tree && r.sig)
      checkpoints.push({ seq: r.s, checkpoint: r.c, sig: r.sig });
    leaves.push(leafHash(hex32(r.h)));
    hashes.push(r.h);
    if (r.s === seq) found = true;
    if (found && until !== undefined && r.s >= until) break;
  }
  if (!found)
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `record ${seq} is not in these lines`);
  return { leaves, hashes, from, checkpoints };
}

function leavesFor(leaves: Uint8Array[], from: number, c: Checkpoint): Uint8Array[] {
  return leaves.slice(0, c.size - from + 1);
}

/**
 * Builds an inclusion proof for record `seq` from the log's lines (in order, e.g. one
 * segment file), against the first checkpoint after it that signs a tree (or the one at
 * `checkpointSeq`).
 *
 * @throws `AuditError` `ERR_AUDIT_INVALID_ARGUMENT` when the record or a covering checkpoint
 * is not there (e.g. the log was written without `merkle: true`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, proveInclusion, verifyInclusionProof } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, merkle: true });
 * for (let i = 0; i < 10; i++)
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: `user-${i}` }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const lines = store.lines();
 * const proof = proveInclusion(lines, 5); // covered by the closing checkpoint
 * assert.ok(verifyInclusionProof(proof, lines[4]!, [signingKey]));
 * ```
 */
export function proveInclusion(
  lines: Iterable<string>,
  seq: number,
  checkpointSeq?: number,
): InclusionProof {
  const { leaves, hashes, from, checkpoints } = epochOf(lines, seq, checkpointSeq);
  const signed = checkpoints.find((c) =>
    checkpointSeq === undefined ? c.seq > seq : c.seq === checkpointSeq,
  );
  if (!signed || signed.checkpoint.size < seq || !signed.checkpoint.tree)
    throw new AuditError(
      'ERR_AUDIT_INVALID_ARGUMENT',
      `no checkpoint with a Merkle tree covers record ${seq}`,
    );
  const tree = leavesFor(leaves, from, signed.checkpoint);
  const index = seq - from;
  return {
    seq,
    hash: hashes[index] as string,
    path: inclusionPath(tree, index).map(toHex),
    signed,
  };
}

function checkSigned(signed: SignedCheckpoint, keys: readonly VerifyingKey[]): boolean {
  const key = keys.find((k) => k.kid === signed.checkpoint.kid);
  return (
    key !== undefined && verifyCheckpointSignature(signed.checkpoint, signed.sig, key.publicKey)
  );
}

/**
 * Verifies an inclusion proof for a record line against trusted keys: the line hashes to the
 * proven record hash, the audit path leads to the signed root, and the checkpoint's
 * signature verifies under one of `keys`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, proveInclusion, verifyInclusionProof } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, merkle: true });
 * const { seq } = await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure' });
 * await log.close();
 * const line = store.lines()[seq - 1]!;
 * const proof = proveInclusion(store.lines(), seq);
 * assert.equal(verifyInclusionProof(proof, line, [signingKey]), true);
 * assert.equal(verifyInclusionProof(proof, line.replace('failure', 'success'), [signingKey]), false);
 * assert.equal(verifyInclusionProof(proof, line, [generateSigningKey()]), false); // not the pinned key
 * ```
 */
export function verifyInclusionProof(
  proof: InclusionProof,
  recordLine: string,
  keys: readonly VerifyingKey[],
): boolean {
  try {
    const tree = proof.signed.checkpoint.tree;
    if (!tree || !checkSigned(proof.signed, keys)) return false;
    const parsed = parseRecordLine(recordLine);
    if (!parsed || parsed.s !== proof.seq || parsed.h !== proof.hash) return false;
    if (sha256Hex(recordLine.slice(0, recordLine.length - HASH_SUFFIX_LENGTH)) !== parsed.h)
      return false;
    const size = proof.signed.checkpoint.size - tree.from + 1;
    return verifyInclusionPath(
      leafHash(hex32(parsed.h)),
      proof.seq - tree.from,
      size,
      proof.path.map((h) => hex32(h)),
      hex32(tree.root),
    );
  } catch {
    return false;
  }
}

/**
 * Builds a consistency proof between two checkpoints of the same epoch (both sign trees
 * starting at the same `open` checkpoint): the newer tree extends the older one.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, proveConsistency, verifyConsistencyProof } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, merkle: true, checkpointEvery: 3 });
 * for (let i = 0; i < 6; i++)
 *   await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const checkpoints = store.records.filter((r) => r.checkpoint && r.checkpoint.reason !== 'open').map((r) => r.seq);
 * const proof = proveConsistency(store.lines(), checkpoints[0]!, checkpoints.at(-1)!);
 * assert.ok(verifyConsistencyProof(proof, [signingKey]));
 * ```
 */
export function proveConsistency(
  lines: Iterable<string>,
  olderSeq: number,
  newerSeq: number,
): ConsistencyProof {
  const { leaves, from, checkpoints } = epochOf(lines, olderSeq, newerSeq);
  const older = checkpoints.find((c) => c.seq === olderSeq);
  const newer = checkpoints.find((c) => c.seq === newerSeq);
  if (!older || !newer || newerSeq <= olderSeq)
    throw new AuditError(
      'ERR_AUDIT_INVALID_ARGUMENT',
      'both checkpoints must sign trees of the same epoch, older first',
    );
  const tree = leavesFor(leaves, from, newer.checkpoint);
  const m = older.checkpoint.size - from + 1;
  return { older, newer, path: consistencyPath(tree, m).map(toHex) };
}

/**
 * Verifies a consistency proof and both checkpoints' signatures against trusted keys.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, proveConsistency, verifyConsistencyProof } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, merkle: true });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'success' });
 * const older = (await log.checkpoint()).size + 1; // kept by the auditor
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'bob' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * // An auditor holding the older checkpoint learns that the log only grew since.
 * const proof = proveConsistency(store.lines(), older, log.size);
 * assert.equal(verifyConsistencyProof(proof, [signingKey]), true);
 * assert.equal(verifyConsistencyProof(proof, [generateSigningKey()]), false);
 * ```
 */
export function verifyConsistencyProof(
  proof: ConsistencyProof,
  keys: readonly VerifyingKey[],
): boolean {
  try {
    const a = proof.older.checkpoint;
    const b = proof.newer.checkpoint;
    if (!a.tree || !b.tree || a.tree.from !== b.tree.from || a.log !== b.log) return false;
    if (!checkSigned(proof.older, keys) || !checkSigned(proof.newer, keys)) return false;
    return verifyConsistencyPath(
      a.size - a.tree.from + 1,
      b.size - b.tree.from + 1,
      hex32(a.tree.root),
      hex32(b.tree.root),
      proof.path.map((h) => hex32(h)),
    );
  } catch {
    return false;
  }
}
