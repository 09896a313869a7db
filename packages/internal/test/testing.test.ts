import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlocks } from '../src/testing.ts';

describe('readmeBlocks', () => {
  it('returns only the blocks tagged with the given word, with their line numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-readme-'));
    const file = join(dir, 'README.md');
    writeFileSync(
      file,
      [
        '# Title',
        '```ts quickstart',
        'const a = 1;',
        '```',
        '```ts',
        'const b = 2;',
        '```',
        '```js other quickstart',
        'const c = 3;',
        '```',
        '```ts quickstarter',
        'const d = 4;',
        '```',
      ].join('\n'),
    );
    const blocks = readmeBlocks(file, 'quickstart');
    expect(blocks.map((b) => [b.lang, b.code.trim(), b.line])).toEqual([
      ['ts', 'const a = 1;', 2],
      ['js', 'const c = 3;', 8],
    ]);
  });
});
