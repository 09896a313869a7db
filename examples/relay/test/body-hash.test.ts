/**
 * Send-body fingerprints (`body-hash.ts`): the body is hashed once (the fingerprint is keyed
 * over the digest the DPoP proof bound), and records of every earlier format still tell the
 * same body from another — a retry across an upgrade is replayed, never forwarded twice.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyDigest, bodyHash, sameBody } from '../src/body-hash.ts';

const key = randomBytes(32);
const body = Buffer.from('{"operation":"order.status","payload":{"order":"A-1"}}');
const other = Buffer.from('{"operation":"order.status","payload":{"order":"A-2"}}');

describe('send-body fingerprints', () => {
  it('the digest is the SHA-256 a DPoP cdg carries, and the fingerprint is keyed over it', () => {
    const digest = bodyDigest(body);
    expect(digest).toBe(createHash('sha256').update(body).digest('base64url'));
    const stored = bodyHash(key, digest);
    expect(stored).toMatch(/^hmac-d:[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain(digest);
    expect(bodyHash(randomBytes(32), digest)).not.toBe(stored);
  });

  const formats: [string, string][] = [
    ['current (HMAC of the digest)', bodyHash(key, bodyDigest(body))],
    [
      'earlier (HMAC of the body)',
      `hmac:${createHmac('sha256', key).update(body).digest('base64url')}`,
    ],
    ['first (bare SHA-256)', createHash('sha256').update(body).digest('base64url')],
  ];
  for (const [name, stored] of formats)
    it(`a record of the ${name} format matches its body and no other`, () => {
      expect(sameBody(key, stored, body, bodyDigest(body))).toBe(true);
      expect(sameBody(key, stored, other, bodyDigest(other))).toBe(false);
    });

  it('a stored value that is not text matches nothing', () => {
    expect(sameBody(key, null, body, bodyDigest(body))).toBe(false);
    expect(sameBody(key, undefined, body, bodyDigest(body))).toBe(false);
  });
});
