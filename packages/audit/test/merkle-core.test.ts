import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyPath,
  inclusionPath,
  leafHash,
  MerkleFrontier,
  merkleRoot,
  verifyConsistencyPath,
  verifyInclusionPath,
} from '../src/merkle.ts';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(`record ${i}`).digest()),
  );

describe('Merkle trees (RFC 9162)', () => {
  it('matches the RFC 9162 definition for small trees', () => {
    const sha = (...parts: Uint8Array[]) =>
      new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
    const [a, b, c] = leaves(3) as [Uint8Array, Uint8Array, Uint8Array];
    const ab = sha(new Uint8Array([1]), a, b);
    expect(Buffer.from(merkleRoot([a, b, c])).toString('hex')).toBe(
      Buffer.from(sha(new Uint8Array([1]), ab, c)).toString('hex'),
    );
    expect(Buffer.from(merkleRoot([])).toString('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('the frontier gives the same root as the full tree at every size', () => {
    const all = leaves(70);
    const frontier = new MerkleFrontier();
    for (let i = 0; i < all.length; i++) {
      frontier.add(all[i] as Uint8Array);
      expect(frontier.root()).toBe(Buffer.from(merkleRoot(all.slice(0, i + 1))).toString('hex'));
    }
  });

  it('inclusion and consistency proofs verify, and fail for anything else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.nat(), (n, i0, m0) => {
        const all = leaves(n);
        const root = merkleRoot(all);
        const index = i0 % n;
        const path = inclusionPath(all, index);
        expect(verifyInclusionPath(all[index] as Uint8Array, index, n, path, root)).toBe(true);
        if (n > 1) {
          expect(
            verifyInclusionPath(all[(index + 1) % n] as Uint8Array, index, n, path, root),
          ).toBe(false);
          expect(
            verifyInclusionPath(all[index] as Uint8Array, (index + 1) % n, n, path, root),
          ).toBe(false);
        }
        const m = (m0 % n) + 1;
        const proof = consistencyPath(all, m);
        const rootM = merkleRoot(all.slice(0, m));
        expect(verifyConsistencyPath(m, n, rootM, root, proof)).toBe(true);
        if (m < n) {
          const forged = leaves(n).map((l, j) => (j === m ? leafHash(l) : l));
          expect(verifyConsistencyPath(m, n, rootM, merkleRoot(forged), proof)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
