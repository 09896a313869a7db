/**
 * FileTokenStore: the token file the README's Node snippet needs — atomic, owner-only, and a
 * broken file costs a refresh, never a crash.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTokenStore, type StoredTokens } from '../src/node.ts';

const tokens: StoredTokens = {
  licenseId: 'lic-1',
  accessToken: 'at',
  accessTokenExpiresAt: '2026-12-06T12:00:00Z',
  licenseToken: 'lt',
  licenseTokenExpiresAt: '2027-12-06T12:00:00Z',
};

describe('FileTokenStore', () => {
  it('keeps tokens across instances, in a file only its owner can read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-tokens-'));
    const path = join(dir, 'state', 'tokens.json');
    expect(await new FileTokenStore(path).load()).toBeUndefined();
    await new FileTokenStore(path).save(tokens);
    expect(await new FileTokenStore(path).load()).toEqual(tokens);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // Concurrent saves each go through a temp file of their own; none is left behind.
    const store = new FileTokenStore(path);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.save({ ...tokens, accessToken: `at-${i}` })),
    );
    expect((await store.load())?.accessToken).toMatch(/^at-\d+$/);
    expect(readdirSync(join(dir, 'state'))).toEqual(['tokens.json']);
  });

  it('loads a broken or foreign file as "no tokens"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-tokens-'));
    for (const text of ['{', '[]', '{"accessToken":1}', JSON.stringify({ ...tokens, extra: 1 })]) {
      writeFileSync(join(dir, 't.json'), text);
      expect(await new FileTokenStore(join(dir, 't.json')).load()).toBeUndefined();
    }
  });

  it('refuses a missing path when built, and names the file when it cannot write', async () => {
    expect(() => new FileTokenStore('' as string)).toThrow(/FileTokenStore needs the path/);
    const dir = mkdtempSync(join(tmpdir(), 'relay-tokens-'));
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o500);
    const store = new FileTokenStore(join(dir, 'ro', 'tokens.json'));
    const error = await store.save(tokens).catch((e: unknown) => e);
    // root ignores directory permissions: then the write simply succeeds.
    if (process.getuid?.() === 0) expect(error).toBeUndefined();
    else
      expect(error).toMatchObject({
        code: 'ERR_RELAY_TOKEN_STORAGE',
        message: expect.stringContaining(join(dir, 'ro', 'tokens.json')),
      });
  });
});
