/**
 * Cryptographically random bytes. Small requests are served from a pool filled by one
 * `getRandomValues` call (each call costs about 2 µs on Node.js, more than the bytes); every
 * pool byte is handed out once and zeroed as it leaves.
 */
const POOL_SIZE = 8192;
const POOL_MAX_TAKE = 256;
let pool = new Uint8Array(0);
let poolAt = 0;

/** `size` cryptographically random bytes. */
export function randomBytes(size: number): Uint8Array {
  if (size <= POOL_MAX_TAKE) {
    if (poolAt + size > pool.length) {
      pool = new Uint8Array(POOL_SIZE);
      crypto.getRandomValues(pool);
      poolAt = 0;
    }
    const out = pool.slice(poolAt, poolAt + size);
    pool.fill(0, poolAt, poolAt + size);
    poolAt += size;
    return out;
  }
  const out = new Uint8Array(size);
  // getRandomValues takes at most 65536 bytes per call.
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(out.subarray(offset, Math.min(size, offset + 65536)));
  }
  return out;
}
