import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromText, Keyring, localKek, open, openStream } from '../src/index.ts';
import { collect, streamOf } from './helpers.ts';

interface Case {
  name: string;
  kind: 'record' | 'stream' | 'text';
  context: Record<string, string>;
  plaintext: string;
  ciphertext: string;
}
const file = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'vectors', 'v1.json'), 'utf8'),
) as {
  keks: Record<string, string>;
  cases: Case[];
};
const keyring = new Keyring(
  Object.entries(file.keks).map(([id, key]) => localKek({ id, key: Buffer.from(key, 'hex') })),
);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('format v1 vectors (vectors/v1.json): today’s ciphertexts keep opening', () => {
  it('holds every suite, wrapping, stream and text case', () => {
    expect(file.cases.length).toBe(3 * 5 + 1);
  });
  for (const c of file.cases) {
    it(c.name, async () => {
      let plaintext: Uint8Array;
      if (c.kind === 'stream') {
        const sealed = Buffer.from(c.ciphertext, 'hex');
        plaintext = await collect(
          streamOf([sealed]).pipeThrough(openStream({ keyring, context: c.context })),
        );
      } else {
        const sealed =
          c.kind === 'text' ? fromText(c.ciphertext) : Buffer.from(c.ciphertext, 'hex');
        plaintext = await open(sealed, { keyring, context: c.context });
      }
      expect(hex(plaintext)).toBe(c.plaintext);
    });
  }
});
