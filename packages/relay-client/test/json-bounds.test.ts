/**
 * The contract's JSON bounds: an iterative walk (no recursion) refuses payloads nested deeper
 * than MAX_JSON_DEPTH, holding more than MAX_JSON_VALUES values, or carrying a `__proto__` key
 * at any depth — before the recursive `z.json()` type check could overflow the stack.
 */
import { describe, expect, it } from 'vitest';
import { JsonValue, jsonShapeProblem, MAX_JSON_DEPTH, relayContract } from '../src/contract.ts';

const nested = (depth: number, inner = '1') =>
  JSON.parse(`${'['.repeat(depth)}${inner}${']'.repeat(depth)}`) as unknown;

describe('JSON payload bounds', () => {
  it('regression: a payload nested 100 000 deep is a validation issue, not a RangeError', () => {
    const deep = nested(100_000);
    expect(() => JsonValue.safeParse(deep)).not.toThrow();
    const parsed = relayContract.send.body.safeParse({ operation: 'order.status', payload: deep });
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(parsed.error.issues[0]?.path).toEqual(['payload']);
      expect(parsed.error.issues[0]?.message).toMatch(/at most 64 deep/);
    }
  });

  it('regression: a "__proto__" key below depth 64 is refused (the walk refuses at its limit, never answers "none")', () => {
    const deepProto = JSON.parse(`${'{"a":'.repeat(80)}{"__proto__":1}${'}'.repeat(80)}`);
    expect(JsonValue.safeParse(deepProto).success).toBe(false);
    expect(jsonShapeProblem(deepProto)).toBe('too-deep');
    const shallowProto = JSON.parse(`${'{"a":'.repeat(10)}{"__proto__":1}${'}'.repeat(10)}`);
    expect(jsonShapeProblem(shallowProto)).toBe('proto-key');
  });

  it(`nesting up to ${MAX_JSON_DEPTH} passes unchanged, one more is refused`, () => {
    expect(JsonValue.safeParse(nested(MAX_JSON_DEPTH)).data).toEqual(nested(MAX_JSON_DEPTH));
    expect(JsonValue.safeParse(nested(MAX_JSON_DEPTH + 1)).success).toBe(false);
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH - 1, '{}'))).toBeUndefined();
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH, '{}'))).toBe('too-deep');
  });

  it('a cyclic or hugely shared object graph ends the walk (too deep / too large) instead of looping', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(jsonShapeProblem(cyclic)).toBe('too-deep');
    // 2^40 paths through 40 shared levels: stopped by the value count, not walked.
    let shared: unknown = 1;
    for (let i = 0; i < 40; i += 1) shared = [shared, shared];
    expect(jsonShapeProblem(shared, { maxValues: 10_000 })).toBe('too-large');
    expect(JsonValue.safeParse(shared).success).toBe(false);
  });
});
