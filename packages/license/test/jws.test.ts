/**
 * The verify path's segment decoding (no copy, no TextEncoder on Node.js) is exactly as strict
 * as the shared base64url decoder: the same inputs are refused, the same bytes come out.
 */
import { describe, expect, it } from 'vitest';
import { fromB64u, utf8 } from '../../internal/src/base64url.ts';
import { decodeJws, segmentBytes, signingBytes } from '../src/lib/jws.ts';

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
      if (expected === undefined) expect(actual, input).toBeUndefined();
      else expect(actual && Uint8Array.from(actual), input).toEqual(expected);
    }
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
