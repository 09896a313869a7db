import { randomBytes } from 'node:crypto';
import { Keyring, localKek, open, seal } from './src/index.ts';
import { encodeContext } from './src/context.ts';
import { parseComplete } from './src/format.ts';
import { deriveMessageKey } from './src/derive.ts';
import { aadOf, messageKeyOf } from './src/envelope.ts';
import { dataKeyForOpen } from './src/datakey.ts';
const kek = localKek({ id: 'bench', key: randomBytes(32) });
const keyring = new Keyring([kek]);
const context = { tenant: 'tenant-42', record: 'row-1234', field: 'payload' };
const sealed = await seal(randomBytes(256), { keyring, context });
const header = parseComplete(sealed);
const ctx = encodeContext(context);
const dek = randomBytes(32);
const key = messageKeyOf(header, keyring, undefined) as Uint8Array;
const body = sealed.subarray(header.bodyOffset);
const aad = aadOf(header.prefix, ctx);
const fns: Record<string, () => unknown> = {
  encodeContext: () => encodeContext(context),
  parseComplete: () => parseComplete(sealed),
  unwrap: () => kek.unwrap(header.entries[0]!.wrapped),
  dataKeyForOpen: () => dataKeyForOpen(keyring, header.entries, undefined),
  derive: () => deriveMessageKey(dek, header.salt, header.suite),
  aadOf: () => aadOf(header.prefix, ctx),
  aeadOpen: () => header.suite.aead.open(key, header.nonce, body, aad),
  openAll: () => open(sealed, { keyring, context }),
  syncOpen: () => { const c = encodeContext(context); const h = parseComplete(sealed); const k = messageKeyOf(h, keyring, undefined) as Uint8Array; const r = h.suite.aead.open(k, h.nonce, sealed.subarray(h.bodyOffset), aadOf(h.prefix, c)); k.fill(0); return r; },
  asyncNoop: async () => 1,
  msgKey: () => messageKeyOf(header, keyring, undefined),
};
const t: Record<string, number[]> = {}; for (const k in fns) t[k] = [];
for (let j = 0; j < 200; j++) for (const [k, f] of Object.entries(fns)) { const s = performance.now(); for (let i = 0; i < 100; i++) { const v = f(); if (v instanceof Promise) await v; } t[k]!.push((performance.now() - s) * 10); }
const q = (a: number[], p: number) => a.sort((x, y) => x - y)[Math.floor(a.length * p)]!;
for (const k in t) console.log(k.padEnd(15), 'min', q(t[k]!, 0).toFixed(2), 'p10', q(t[k]!, 0.1).toFixed(2), 'µs');
