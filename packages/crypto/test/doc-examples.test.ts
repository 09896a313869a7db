/**
 * Every export of every entry point carries a TSDoc `@example` (typedoc shows them), and each
 * example runs as printed — as the README quickstart does (issue 20).
 */
import { resolve } from 'node:path';
import { docExamples, runDocExample, typecheckDocExamples } from '@fluxel/internal/doc-examples';
import { describe, expect, it } from 'vitest';

const packageDir = resolve(import.meta.dirname, '..');
const scan = docExamples(packageDir);

describe('TSDoc examples', () => {
  it('every export of every entry point has an @example with a ts code block', () => {
    expect(scan.exports).toBeGreaterThan(90);
    expect(scan.missing).toEqual([]);
  });

  it('every example compiles as printed (strict TypeScript, the entry points as published)', () => {
    expect(typecheckDocExamples(packageDir, scan.examples)).toEqual([]);
  });

  for (const example of scan.examples) {
    it(`${example.entry} ${example.name} (${example.where}) runs as printed`, async () => {
      await runDocExample(packageDir, example);
    });
  }
});
