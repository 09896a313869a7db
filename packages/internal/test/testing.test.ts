import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, repoRoot, vectorsDir, waitUntilReady } from '../src/testing.ts';

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

describe('vectorsDir', () => {
  it('finds the vectors in the package folder, with nothing beside the repository', () => {
    const vectors = vectorsDir(join(repoRoot, 'packages', 'crypto'), [
      'wycheproof/aes_gcm_test.json',
      'wycheproof/LICENSE',
      'wycheproof/README.md',
    ]);
    expect(vectors).toEqual({ dir: join(repoRoot, 'packages', 'crypto', 'vectors') });
  });

  it('a missing vector file skips with its name outside CI and fails under CI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-vectors-'));
    mkdirSync(join(dir, 'vectors', 'wycheproof'), { recursive: true });
    writeFileSync(join(dir, 'vectors', 'wycheproof', 'a_test.json'), '{}');
    const files = ['wycheproof/a_test.json', 'wycheproof/b_test.json'];
    expect(vectorsDir(dir, files.slice(0, 1), true)).toEqual({ dir: join(dir, 'vectors') });
    expect(vectorsDir(dir, files, false).skip).toMatch(/wycheproof\/b_test\.json .*git checkout/);
    expect(() => vectorsDir(dir, files, true)).toThrow(
      /^CI=true and the test vector file\(s\) wycheproof\/b_test\.json/,
    );
  });
});

describe('waitUntilReady', () => {
  it('returns the first value the probe gives, treating a throw or false as "not yet"', async () => {
    let calls = 0;
    const value = await waitUntilReady(
      'the third probe',
      () => {
        calls++;
        if (calls === 1) throw new Error('connection refused');
        return calls === 2 ? false : `ready after ${calls}`;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready after 3');
  });

  it('past its bound, says what it waited for and the last error', async () => {
    await expect(
      waitUntilReady(
        'the relay on port 9',
        () => {
          throw new Error('ECONNREFUSED 127.0.0.1:9');
        },
        { boundMs: 0, intervalMs: 1 },
      ),
    ).rejects.toThrow(/waiting for the relay on port 9; last error: ECONNREFUSED 127\.0\.0\.1:9$/);
  });
});
