/** SHA-256 and HMAC-SHA-256, synchronous: `node:crypto` on Node.js, `@noble/hashes` elsewhere. */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from '../../internal/src/node-crypto.js';

/** SHA-256 of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  const node = nodeCrypto();
  return node ? new Uint8Array(node.createHash('sha256').update(data).digest()) : nobleSha256(data);
}

/** HMAC-SHA-256. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const node = nodeCrypto();
  return node
    ? new Uint8Array(node.createHmac('sha256', key).update(data).digest())
    : hmac(nobleSha256, key, data);
}
