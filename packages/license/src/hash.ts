/**
 * SHA-256 and HMAC-SHA-256, synchronous: `node:crypto` where the runtime's node:crypto passes
 * a known-answer probe of each (Node.js, Bun, Deno, workerd), `@noble/hashes` elsewhere. The
 * probe runs on first use; its outcome is kept here, so later calls pay no lookup.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { b64u, utf8 } from '../../internal/src/base64url.js';
import { nativeCapability } from '../../internal/src/capability.js';
import { probeHmacSha256, probeSha256 } from '../../internal/src/native-probes.js';
import { type NodeCrypto, nodeCrypto } from '../../internal/src/node-crypto.js';

let shaNode: NodeCrypto | null | undefined;
let hmacNode: NodeCrypto | null | undefined;

function nativeSha(): NodeCrypto | null {
  if (shaNode === undefined)
    shaNode = nativeCapability(nodeCrypto(), 'sha256', probeSha256) ?? null;
  return shaNode;
}

/** A plain Uint8Array over node:crypto's result (a view, not a copy; not a Buffer). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** SHA-256 of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  const node = nativeSha();
  return node ? plain(node.createHash('sha256').update(data).digest()) : nobleSha256(data);
}

/**
 * base64url of the SHA-256 of bytes, or of a string's UTF-8 bytes: on the native path in one
 * step (no `TextEncoder`, no intermediate buffer). DPoP's `ath` and `cdg`, JWK thumbprints.
 */
export function sha256B64u(data: Uint8Array | string): string {
  const node = nativeSha();
  if (node) return node.createHash('sha256').update(data).digest('base64url');
  return b64u(nobleSha256(typeof data === 'string' ? utf8(data) : data));
}

/** HMAC-SHA-256. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (hmacNode === undefined) {
    hmacNode = nativeCapability(nodeCrypto(), 'hmac-sha256', probeHmacSha256) ?? null;
  }
  return hmacNode
    ? plain(hmacNode.createHmac('sha256', key).update(data).digest())
    : hmac(nobleSha256, key, data);
}
