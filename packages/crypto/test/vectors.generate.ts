/**
 * Writes vectors/v1.json: ciphertexts of format version 1 with known keys, which every later
 * release must keep opening (test/vectors.test.ts). Run once per format version, never to
 * "refresh" the file: `node --experimental-strip-types test/vectors.generate.ts` (Node ≥ 22.6)
 * or `npx tsx test/vectors.generate.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Keyring,
  type LocalWrapping,
  localKek,
  SUITES,
  seal,
  sealStream,
  toText,
} from '../src/index.ts';
import { collect, streamOf } from './helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const keks = {
  'vector-kek-1': new Uint8Array(32).map((_, i) => i),
  'vector-kek-2': new Uint8Array(32).map((_, i) => 255 - i),
};
const ring = (ids: (keyof typeof keks)[], wrapping: LocalWrapping = 'aes-gcm') =>
  new Keyring(
    ids.map((id) => localKek({ id, key: keks[id], wrapping })),
    { recipients: ids },
  );

const cases: unknown[] = [];
const plaintext = new TextEncoder().encode('Fluxel format v1 test vector: ünïcödé ✓');
const context = { tenant: 'tenant-1', record: 'order/42', field: 'card' };
for (const suite of SUITES) {
  for (const wrapping of ['aes-gcm', 'aes-kw', 'aes-kwp'] as const) {
    const sealed = await seal(plaintext, {
      keyring: ring(['vector-kek-1'], wrapping),
      context,
      suite,
    });
    cases.push({
      name: `record ${suite} ${wrapping}`,
      kind: 'record',
      context,
      plaintext: hex(plaintext),
      ciphertext: hex(sealed),
    });
  }
  const multi = await seal(new Uint8Array(0), {
    keyring: ring(['vector-kek-1', 'vector-kek-2']),
    suite,
  });
  cases.push({
    name: `record ${suite} empty, two recipients`,
    kind: 'record',
    context: {},
    plaintext: '',
    ciphertext: hex(multi),
  });
  const data = new Uint8Array(200).map((_, i) => i);
  const sealed = await collect(
    streamOf([data]).pipeThrough(
      sealStream({ keyring: ring(['vector-kek-2']), context, suite, chunkSize: 64 }),
    ),
  );
  cases.push({
    name: `stream ${suite} 200 bytes in 64-byte chunks`,
    kind: 'stream',
    context,
    plaintext: hex(data),
    ciphertext: hex(sealed),
  });
}
const text = toText(await seal(plaintext, { keyring: ring(['vector-kek-1']), context }));
cases.push({
  name: 'text form',
  kind: 'text',
  context,
  plaintext: hex(plaintext),
  ciphertext: text,
});

const file = {
  description:
    'Fixed ciphertexts of @fluxel/crypto format version 1. Every release must open them all. Never regenerate.',
  keks: Object.fromEntries(Object.entries(keks).map(([id, key]) => [id, hex(key)])),
  cases,
};
writeFileSync(
  join(import.meta.dirname, '..', 'vectors', 'v1.json'),
  `${JSON.stringify(file, null, 2)}\n`,
);
