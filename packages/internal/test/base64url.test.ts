import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b64u, b64uText, equalBytes, fromB64u, fromUtf8, utf8 } from '../src/base64url.ts';

describe('base64url', () => {
  it('matches RFC 4648 test vectors (base64url, unpadded)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(b64u(utf8(plain))).toBe(encoded);
      expect(fromUtf8(fromB64u(encoded) as Uint8Array)).toBe(plain);
    }
    expect(b64u(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it('round-trips any bytes and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = b64u(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromB64u(text)).toEqual(bytes);
      }),
    );
  });

  it('encodes exactly the bytes of a view (offset and length), of shared memory too', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = a % bytes.length;
          const end = start + (b % (bytes.length - start + 1));
          const view = bytes.subarray(start, end);
          expect(b64u(view)).toBe(Buffer.from(bytes.slice(start, end)).toString('base64url'));
          const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
          shared.set(bytes);
          expect(b64u(shared.subarray(start, end))).toBe(b64u(view));
        },
      ),
    );
  });

  it('b64uText is base64url of the UTF-8 bytes', () => {
    for (const text of ['', 'a', 'é', '𝄞 ü', '{"htu":"https://x/é"}'])
      expect(b64uText(text)).toBe(b64u(utf8(text)));
    expect(b64uText('é')).toBe('w6k');
  });

  it('the pure-JS path (no Buffer, as in browsers) gives the same results', async () => {
    const saved = globalThis.Buffer;
    const url = `${new URL('../src/base64url.ts', import.meta.url).href}?nobuffer`;
    Reflect.deleteProperty(globalThis, 'Buffer');
    let pure: typeof import('../src/base64url.ts');
    try {
      pure = await import(/* @vite-ignore */ url);
    } finally {
      globalThis.Buffer = saved;
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = pure.b64u(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(pure.fromB64u(text)).toEqual(bytes);
      }),
    );
    for (const bad of ['Zg==', 'Z', 'Zh', 'Zm+v']) expect(pure.fromB64u(bad)).toBeUndefined();
  });

  it('rejects non-canonical and foreign input', () => {
    for (const bad of ['Zg==', 'Z', 'Zh', 'Zm9=', 'Zm+v', 'Zm/v', 'Zm9v\n', 'é', 'Zm9vY']) {
      expect(fromB64u(bad), bad).toBeUndefined();
    }
  });

  it('compares bytes', () => {
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});
