/**
 * The verify path's segment decoding (no copy, no TextEncoder on Node.js; reused memory for
 * bytes that are only read synchronously) is exactly as strict as the shared base64url
 * decoder: the same inputs are refused, the same bytes come out.
 */
import { describe, expect, it } from 'vitest';
import { fromB64u, utf8 } from '../../internal/src/base64url.ts';
import {
  decodeJws,
  parseObject,
  scratchSignature,
  scratchSigningInput,
  segmentBytes,
  signingBytes,
} from '../src/lib/jws.ts';

describe('segmentBytes', () => {
  it('agrees with fromB64u on canonical, non-canonical and invalid inputs', () => {
    const inputs = [
      '',
      'A',
      'AA',
      'AB',
      'AAA',
      'AAB',
      'AAAA',
      'Zg',
      'Zh',
      'Zm8',
      'Zm9',
      'Zm9v',
      'Zm9v=',
      'Zg==',
      'ab+c',
      'ab/c',
      'ab c',
      'abc\u00e9',
      '-_-_',
    ];
    for (let i = 0; i < 200; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(i % 70));
      inputs.push(Buffer.from(bytes).toString('base64url'));
    }
    for (const input of inputs) {
      const expected = fromB64u(input);
      const actual = segmentBytes(input);
      // The reused-memory decoder of signatures, read before the next call.
      const scratch = scratchSignature(input);
      if (expected === undefined) {
        expect(actual, input).toBeUndefined();
        expect(scratch, input).toBeUndefined();
      } else {
        expect(actual && Uint8Array.from(actual), input).toEqual(expected);
        expect(scratch && Uint8Array.from(scratch), input).toEqual(expected);
      }
    }
  });

  it('the reused memory holds exactly the latest bytes, never a longer earlier value', () => {
    const long = Buffer.from(crypto.getRandomValues(new Uint8Array(64))).toString('base64url');
    const short = Buffer.from([1, 2, 3]).toString('base64url');
    expect(scratchSignature(long)?.length).toBe(64);
    expect(Uint8Array.from(scratchSignature(short) ?? [])).toEqual(new Uint8Array([1, 2, 3]));
    const jws = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig';
    const input = scratchSigningInput(jws, jws.lastIndexOf('.'));
    expect(input && Uint8Array.from(input)).toEqual(utf8('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0'));
    expect(Uint8Array.from(scratchSigningInput('ab', 2) ?? [])).toEqual(utf8('ab'));
  });

  it('parseObject is as strict through reused memory: canonical base64url, valid UTF-8, an object', () => {
    const seg = (text: string | Uint8Array) => Buffer.from(text).toString('base64url');
    expect(parseObject(seg('{"a":"é"}'))).toEqual({ a: 'é' });
    expect(parseObject(seg('[1]'))).toBeUndefined();
    expect(parseObject(seg('null'))).toBeUndefined();
    expect(parseObject(`${seg('{"a":1}')}=`)).toBeUndefined();
    // {"a":"<0xff>"}: invalid UTF-8 is refused, not replaced with U+FFFD.
    expect(
      parseObject(seg(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))),
    ).toBeUndefined();
    // After a long segment, a short one is read alone (no bytes of the earlier one).
    expect(parseObject(seg(JSON.stringify({ pad: 'x'.repeat(3000) })))).toBeDefined();
    expect(parseObject(seg('{"b":2}'))).toEqual({ b: 2 });
  });

  it('signingBytes are the ASCII bytes of the signing input', () => {
    const input = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0';
    expect(Uint8Array.from(signingBytes(input))).toEqual(utf8(input));
  });

  it('decodeJws refuses a non-canonical segment', () => {
    const header = Buffer.from('{"alg":"ES256"}').toString('base64url');
    const payload = Buffer.from('{"a":1}').toString('base64url');
    expect(decodeJws(`${header}.${payload}.AAAA`)).toBeDefined();
    expect(decodeJws(`${header}.${payload}.AAAB`)).toBeDefined();
    expect(decodeJws(`${header}.${payload}.AB`)).toBeUndefined();
    expect(decodeJws(`${header}=.${payload}.AAAA`)).toBeUndefined();
  });
});
