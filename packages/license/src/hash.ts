/**
 * SHA-256 and HMAC-SHA-256, synchronous: `node:crypto` where the runtime's node:crypto passes
 * a known-answer probe of each (Node.js, Bun, Deno, workerd), `@noble/hashes` elsewhere. The
 * probe runs on first use; its outcome is kept here, so later calls pay no lookup.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nativeCapability } from '../../internal/src/capability.js';
import { probeHmacSha256, probeSha256 } from '../../internal/src/native-probes.js';
import { type NodeCrypto, nodeCrypto } from '../../internal/src/node-crypto.js';

let shaNode: NodeCrypto | null | undefined;
let hmacNode: NodeCrypto | null | undefined;

/** SHA-256 of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  if (shaNode === undefined)
    shaNode = nativeCapability(nodeCrypto(), 'sha256', probeSha256) ?? null;
  return shaNode
    ? new Uint8Array(shaNode.createHash('sha256').update(data).digest())
    : nobleSha256(data);
}

/** HMAC-SHA-256. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (hmacNode === undefined) {
    hmacNode = nativeCapability(nodeCrypto(), 'hmac-sha256', probeHmacSha256) ?? null;
  }
  return hmacNode
    ? new Uint8Array(hmacNode.createHmac('sha256', key).update(data).digest())
    : hmac(nobleSha256, key, data);
}
