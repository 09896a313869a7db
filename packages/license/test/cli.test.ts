import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.ts';
import { createTokenIssuer } from '../src/lib/token-issuer.ts';
import { generateKeyPair } from '../src/sig.ts';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fluxel-license', () => {
  it('generates keys and checks them; a typo exits 1 with the reason', async () => {
    const generated = await run('key', 'generate', '--count', '3', '--json');
    expect(generated.code).toBe(0);
    const { keys } = JSON.parse(generated.out) as { keys: string[] };
    expect(keys).toHaveLength(3);
    const good = await run('key', 'check', (keys[0] as string).toLowerCase());
    expect(good).toMatchObject({ code: 0 });
    expect(good.out).toContain(keys[0]);
    const typo = await run(
      'key',
      'check',
      `${(keys[0] as string).slice(0, -1)}${keys[0]?.endsWith('0') ? '1' : '0'}`,
    );
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/ERR_LICENSE_INVALID_KEY: .*typo/);
  });

  it('inspects a token and says it did not verify it; verifies offline with a JWKS', async () => {
    const { privateJwk } = await generateKeyPair('EdDSA');
    const issuer = createTokenIssuer({
      issuer: 'https://relay.test',
      keys: [{ kid: 'k1', privateJwk }],
    });
    const subject = {
      sub: 'lic-9',
      tid: 't',
      prd: 'p',
      ent: ['orders'],
      lexp: null,
      cnf: { jkt: 'dev' },
    };
    const { token } = await issuer.issueLicenseToken(subject, 3600);
    expect((await run('token', 'inspect', token)).out).toMatch(/NOT VERIFIED[\s\S]*lic-9/);

    const dir = mkdtempSync(join(tmpdir(), 'fluxel-cli-'));
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(issuer.jwks()));
    const ok = await run(
      'token',
      'verify',
      token,
      '--jwks',
      jwksFile,
      '--issuer',
      'https://relay.test',
      '--jkt',
      'dev',
      '--entitlement',
      'orders',
      '--json',
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ valid: true, claims: { sub: 'lic-9' } });
    const wrongDevice = await run(
      'token',
      'verify',
      token,
      '--jwks',
      jwksFile,
      '--issuer',
      'https://relay.test',
      '--jkt',
      'other',
      '--json',
    );
    expect(wrongDevice.code).toBe(1);
    expect(JSON.parse(wrongDevice.out)).toMatchObject({
      valid: false,
      code: 'ERR_LICENSE_TOKEN_BINDING',
    });
    const access = await issuer.issueAccessToken(subject, 60);
    expect(
      (
        await run(
          'token',
          'verify',
          access.token,
          '--jwks',
          jwksFile,
          '--issuer',
          'https://relay.test',
        )
      ).code,
    ).toBe(0);
  });

  it('answers --help and --version (exit 0, on stdout)', async () => {
    const version = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ).version;
    for (const flag of ['--help', '-h', 'help'])
      expect(await run(flag)).toMatchObject({ code: 0, out: expect.stringContaining('usage:') });
    for (const flag of ['--version', '-v', 'version'])
      expect(await run(flag)).toEqual({ code: 0, out: `fluxel-license ${version}`, err: '' });
  });

  it('regression: --help after a command ("fluxel-license token verify --help") was a usage error, exit 2', async () => {
    for (const argv of [
      ['key', 'generate', '--help'],
      ['token', 'verify', 'x', '--help'],
      ['key', 'check', '-h'],
    ])
      expect(await run(...argv)).toMatchObject({ code: 0, out: expect.stringContaining('usage:') });
    const version = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ).version;
    expect(await run('token', 'inspect', '--version')).toEqual({
      code: 0,
      out: `fluxel-license ${version}`,
      err: '',
    });
  });

  it('usage errors exit 2', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('key', 'generate', '--count', 'many')).code).toBe(2);
    expect((await run('token', 'verify', 'x')).code).toBe(2);
    expect((await run('--bogus')).code).toBe(2);
  });
});
