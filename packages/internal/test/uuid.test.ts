import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/uuid.ts';

describe('uuidv7', () => {
  it('has the version and variant bits of RFC 9562 and encodes the time', () => {
    const id = uuidv7(0x0189_3f2a_1b2c);
    expect(id).toMatch(/^01893f2a-1b2c-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
