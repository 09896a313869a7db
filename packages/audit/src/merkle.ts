/**
 * Merkle trees over record hashes, as in Certificate Transparency (RFC 9162 §2.1): leaf hash
 * = SHA-256(0x00 ‖ record hash), interior node = SHA-256(0x01 ‖ left ‖ right), with
 * inclusion and consistency proofs. With `merkle: true` a log's checkpoints sign the tree
 * root over the records of the current epoch (from the latest `open` checkpoint), so one
 * event can be proven to be in the log with log₂(n) hashes instead of the whole chain.
 */
import { toHex } from './encoding.js';
import { AuditError } from './errors.js';
import { sha256 } from './primitives.js';

/**
 * The hash of an empty tree: SHA-256 of nothing.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { EMPTY_TREE_ROOT, MerkleFrontier } from '@fluxel/audit';
 *
 * assert.equal(new MerkleFrontier().root(), EMPTY_TREE_ROOT);
 * assert.equal(EMPTY_TREE_ROOT, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
 * ```
 */
export const EMPTY_TREE_ROOT: string = toHex(sha256(new Uint8Array(0)));

/**
 * The leaf hash of a record (given its hex hash).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createHash } from 'node:crypto';
 * import { leafHash } from '@fluxel/audit';
 *
 * const recordHash = new Uint8Array(createHash('sha256').update('a record').digest());
 * const expected = createHash('sha256').update(Buffer.concat([Buffer.from([0]), recordHash])).digest();
 * assert.deepEqual(Buffer.from(leafHash(recordHash)), expected); // SHA-256(0x00 ‖ record hash)
 * ```
 */
export function leafHash(recordHash: Uint8Array): Uint8Array {
  const input = new Uint8Array(33);
  input.set(recordHash, 1);
  return sha256(input);
}

/**
 * An interior node hash.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { leafHash, merkleRoot, nodeHash } from '@fluxel/audit';
 *
 * const a = leafHash(new Uint8Array(32).fill(1));
 * const b = leafHash(new Uint8Array(32).fill(2));
 * assert.deepEqual(nodeHash(a, b), merkleRoot([a, b])); // SHA-256(0x01 ‖ left ‖ right)
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(65);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 33);
  return sha256(input);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The Merkle tree hash of leaf hashes (RFC 9162 MTH).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { leafHash, merkleRoot, nodeHash } from '@fluxel/audit';
 *
 * const [a, b, c] = [1, 2, 3].map((n) => leafHash(new Uint8Array(32).fill(n))) as [Uint8Array, Uint8Array, Uint8Array];
 * assert.deepEqual(merkleRoot([a, b, c]), nodeHash(nodeHash(a, b), c));
 * assert.deepEqual(merkleRoot([a]), a);
 * ```
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/**
 * An append-only tree that keeps only the roots of its perfect subtrees (O(log n) memory);
 * its root equals {@link merkleRoot} over everything added.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { leafHash, MerkleFrontier, merkleRoot } from '@fluxel/audit';
 *
 * const leaves = [1, 2, 3, 4, 5].map((n) => leafHash(new Uint8Array(32).fill(n)));
 * const frontier = new MerkleFrontier();
 * for (const leaf of leaves) frontier.add(leaf);
 * assert.equal(frontier.size, 5);
 * assert.equal(frontier.root(), Buffer.from(merkleRoot(leaves)).toString('hex'));
 * ```
 */
export class MerkleFrontier {
  #stack: { hash: Uint8Array; size: number }[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds a leaf hash. */
  add(leaf: Uint8Array): void {
    let node = { hash: leaf, size: 1 };
    this.#size++;
    let top = this.#stack.at(-1);
    while (top && top.size === node.size) {
      this.#stack.pop();
      node = { hash: nodeHash(top.hash, node.hash), size: node.size * 2 };
      top = this.#stack.at(-1);
    }
    this.#stack.push(node);
  }

  /** The current root (hex). */
  root(): string {
    const stack = this.#stack;
    if (stack.length === 0) return EMPTY_TREE_ROOT;
    let hash = (stack[stack.length - 1] as { hash: Uint8Array }).hash;
    for (let i = stack.length - 2; i >= 0; i--)
      hash = nodeHash((stack[i] as { hash: Uint8Array }).hash, hash);
    return toHex(hash);
  }

  /** Empties the tree. */
  reset(): void {
    this.#stack = [];
    this.#size = 0;
  }
}

/**
 * The audit path of leaf `index` in the tree of `leaves` (RFC 9162 PATH).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { inclusionPath, leafHash, merkleRoot, verifyInclusionPath } from '@fluxel/audit';
 *
 * const leaves = [1, 2, 3, 4, 5].map((n) => leafHash(new Uint8Array(32).fill(n)));
 * const path = inclusionPath(leaves, 2);
 * assert.equal(path.length, 3); // about log2(n) hashes
 * assert.ok(verifyInclusionPath(leaves[2]!, 2, leaves.length, path, merkleRoot(leaves)));
 * ```
 */
export function inclusionPath(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'leaf index out of range');
  if (leaves.length === 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (index < k) return [...inclusionPath(leaves.slice(0, k), index), merkleRoot(leaves.slice(k))];
  return [...inclusionPath(leaves.slice(k), index - k), merkleRoot(leaves.slice(0, k))];
}

/**
 * Whether `path` proves `leaf` at `index` in a tree of `size` with `root` (RFC 9162 §2.1.3.2).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { inclusionPath, leafHash, merkleRoot, verifyInclusionPath } from '@fluxel/audit';
 *
 * const leaves = [1, 2, 3].map((n) => leafHash(new Uint8Array(32).fill(n)));
 * const root = merkleRoot(leaves);
 * assert.equal(verifyInclusionPath(leaves[0]!, 0, 3, inclusionPath(leaves, 0), root), true);
 * assert.equal(verifyInclusionPath(leaves[1]!, 0, 3, inclusionPath(leaves, 0), root), false); // wrong leaf
 * ```
 */
export function verifyInclusionPath(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size)
    return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

function subproof(m: number, leaves: readonly Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [merkleRoot(leaves)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), merkleRoot(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), merkleRoot(leaves.slice(0, k))];
}

/**
 * The consistency proof from the tree of the first `m` leaves to the tree of all (RFC 9162 PROOF).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { consistencyPath, leafHash, merkleRoot, verifyConsistencyPath } from '@fluxel/audit';
 *
 * const leaves = [1, 2, 3, 4, 5, 6].map((n) => leafHash(new Uint8Array(32).fill(n)));
 * const path = consistencyPath(leaves, 4); // the tree of 6 leaves extends the tree of the first 4
 * assert.ok(verifyConsistencyPath(4, 6, merkleRoot(leaves.slice(0, 4)), merkleRoot(leaves), path));
 * ```
 */
export function consistencyPath(leaves: readonly Uint8Array[], m: number): Uint8Array[] {
  if (!Number.isInteger(m) || m < 1 || m > leaves.length)
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'consistency proof needs 0 < m ≤ n');
  return subproof(m, leaves, true);
}

/**
 * Whether `path` proves the tree (m, rootM) is a prefix of (n, rootN) (RFC 9162 §2.1.4.2).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { consistencyPath, leafHash, merkleRoot, verifyConsistencyPath } from '@fluxel/audit';
 *
 * const leaves = [1, 2, 3, 4, 5].map((n) => leafHash(new Uint8Array(32).fill(n)));
 * const older = merkleRoot(leaves.slice(0, 3));
 * const path = consistencyPath(leaves, 3);
 * assert.equal(verifyConsistencyPath(3, 5, older, merkleRoot(leaves), path), true);
 * const rewritten = merkleRoot([leaves[0]!, leaves[1]!, leafHash(new Uint8Array(32))]);
 * assert.equal(verifyConsistencyPath(3, 5, rewritten, merkleRoot(leaves), path), false);
 * ```
 */
export function verifyConsistencyPath(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || m > n) return false;
  if (m === n) return path.length === 0 && equal(rootM, rootN);
  let proof = [...path];
  if ((m & (m - 1)) === 0) proof = [rootM, ...proof];
  if (proof.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = proof[0] as Uint8Array;
  let sr = proof[0] as Uint8Array;
  for (const c of proof.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else sr = nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, rootM) && equal(sr, rootN);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
