import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  docExamples,
  exampleBlocks,
  runDocExample,
  typecheckDocExamples,
} from '../src/doc-examples.ts';

function fixturePackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-doc-examples-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: '@fluxel/fixture',
      exports: {
        '.': { types: './dist/index.d.ts', default: './dist/index.js' },
        './extra': './dist/extra.js',
        './data.json': './data.json',
        './package.json': './package.json',
      },
    }),
  );
  writeFileSync(
    join(dir, 'src', 'impl.ts'),
    [
      '/**',
      ' * Adds one.',
      ' *',
      ' * @example',
      ' * ```ts',
      " * import assert from 'node:assert/strict';",
      " * // from '@fluxel/fixture' in a package: an @word in code does not end the example",
      ' * assert.equal(1 + 1, 2);',
      ' * ```',
      ' * @param n - a number',
      ' */',
      'export function addOne(n: number): number {',
      '  return n + 1;',
      '}',
      '',
      '/** No example. */',
      'export const bare = 1;',
      '',
      '/**',
      ' * @example',
      ' * ```ts',
      " * throw new Error('broken example');",
      ' * ```',
      ' */',
      'export type Broken = string;',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'src', 'index.ts'),
    "export { addOne, bare, type Broken } from './impl.ts';\n",
  );
  writeFileSync(join(dir, 'src', 'extra.ts'), "export { addOne as plusOne } from './impl.ts';\n");
  return dir;
}

describe('docExamples', () => {
  it('finds the @example blocks of every entry point export, once per declaration, and names the missing', () => {
    const scan = docExamples(fixturePackage());
    expect(scan.exports).toBe(4);
    expect(scan.missing).toEqual(['.: bare']);
    expect(scan.examples.map((e) => [e.entry, e.name, e.where, e.lang])).toEqual([
      ['.', 'addOne', 'src/impl.ts:12', 'ts'],
      ['.', 'Broken', 'src/impl.ts:25', 'ts'],
    ]);
    expect(scan.examples[0]?.code).toContain('assert.equal(1 + 1, 2);');
  });

  it('runs an example and names the export whose example fails', async () => {
    const dir = fixturePackage();
    const [good, broken] = docExamples(dir).examples;
    await runDocExample(dir, good as never);
    await expect(runDocExample(dir, broken as never)).rejects.toThrow(
      /the @example of Broken \(src\/impl\.ts:25\) failed/,
    );
  });

  it('type-checks examples with the entry points resolved to the sources', () => {
    const dir = fixturePackage();
    const base = { entry: '.', lang: 'ts', index: 0, where: 'src/impl.ts:12' };
    const errors = typecheckDocExamples(dir, [
      {
        ...base,
        name: 'good',
        code: "import { addOne } from '@fluxel/fixture';\nconst n: number = addOne(1);\n",
      },
      {
        ...base,
        name: 'bad',
        code: "import { addOne } from '@fluxel/fixture';\nconst s: string = addOne(1);\n",
      },
    ]);
    expect(errors).toEqual([
      "bad (src/impl.ts:12), line 2: Type 'number' is not assignable to type 'string'.",
    ]);
  });

  it('takes ts and js fences only', () => {
    expect(
      exampleBlocks('text\n```ts\na();\n```\n```sh\nls\n```\n```js title\nb();\n```\n'),
    ).toEqual([
      { lang: 'ts', code: 'a();\n' },
      { lang: 'js', code: 'b();\n' },
    ]);
  });
});
