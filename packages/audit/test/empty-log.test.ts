import { mkdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.ts';
import {
  assertVerified,
  generateSigningKey,
  publicJwk,
  verifyChunks,
  verifyLines,
} from '../src/index.ts';
import { verifyPath } from '../src/node.ts';
import { tempDir, writeLog } from './helpers.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Three emptied logs: an empty segment file, the directory holding it, an empty directory. */
async function emptied() {
  const key = generateSigningKey();
  const withSegment = tempDir();
  const segment = join(withSegment, '00000000000000000001.log');
  writeFileSync(segment, '');
  const emptyDir = tempDir();
  const keyFile = join(tempDir(), 'key.jwk');
  await writeFile(keyFile, JSON.stringify(publicJwk(key)));
  return { key, keyFile, paths: { segment, 'dir with an empty segment': withSegment, emptyDir } };
}

const codes = (report: { findings: readonly { code: string }[] }) =>
  report.findings.map((f) => f.code);

describe('an emptied audit log is a finding, not OK (issue 17)', () => {
  it('verifyPath: empty segment file, empty directory, with and without a pinned key → empty-log', async () => {
    const { key, paths } = await emptied();
    for (const [what, path] of Object.entries(paths)) {
      for (const options of [{}, { publicKeys: [key] }]) {
        const report = await verifyPath(path, options);
        expect({ what, ok: report.ok, codes: codes(report) }).toEqual({
          what,
          ok: false,
          codes: ['empty-log'],
        });
        expect(() => assertVerified(report)).toThrow(/empty-log/);
      }
      // The caller who expects no log yet says so.
      expect((await verifyPath(path, { allowEmpty: true, publicKeys: [key] })).ok).toBe(true);
    }
  });

  it('verifyLines and verifyChunks: no record → empty-log unless allowEmpty', async () => {
    expect(codes(verifyLines([]))).toEqual(['empty-log']);
    expect(codes(verifyLines([], { live: true }))).toEqual(['empty-log']);
    expect(verifyLines([], { allowEmpty: true }).ok).toBe(true);
    expect(codes(await verifyChunks([{ name: 'a.log', chunks: [new Uint8Array(0)] }]))).toEqual([
      'empty-log',
    ]);
    expect(
      (await verifyChunks([{ name: 'a.log', chunks: [] }], { allowEmpty: true })).findings,
    ).toEqual([]);
  });

  it('fluxel-audit verify exits 1 naming empty-log (with and without --public-key, --live); 0 with --allow-empty', async () => {
    const { keyFile, paths } = await emptied();
    for (const path of Object.values(paths)) {
      for (const extra of [[], ['--public-key', keyFile], ['--live']]) {
        const t = io();
        expect(await main(['verify', path, ...extra], t.io)).toBe(1);
        expect(t.out()).toContain('empty-log');
        expect(t.out()).not.toContain('OK:');
        const j = io();
        expect(await main(['verify', path, ...extra, '--json'], j.io)).toBe(1);
        expect(JSON.parse(j.out()).findings.map((f: { code: string }) => f.code)).toEqual([
          'empty-log',
        ]);
      }
      expect(await main(['verify', path, '--allow-empty'], io().io)).toBe(0);
      expect(await main(['verify', path, '--allow-empty', '--public-key', keyFile], io().io)).toBe(
        0,
      );
    }
  });

  it('a directory that is not a log (no segment files) is empty-log too', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    expect(await main(['verify', dir], io().io)).toBe(1);
  });

  it('a non-empty log still verifies (allowEmpty changes nothing there)', async () => {
    const { dir, key } = await writeLog(5);
    expect((await verifyPath(dir, { publicKeys: [key] })).ok).toBe(true);
    expect((await verifyPath(dir, { publicKeys: [key], allowEmpty: true })).ok).toBe(true);
  });
});

describe('trust on first use says which key to pin and how (issue 17)', () => {
  it('prints the key fingerprint and the exact --public-key command; the printed key pins', async () => {
    const { dir, key } = await writeLog(3);
    const t = io();
    expect(await main(['verify', dir], t.io)).toBe(0);
    const out = t.out();
    expect(out).toContain('key trust: first use, NOT pinned');
    const fingerprint = Buffer.from(
      await crypto.subtle.digest('SHA-256', new Uint8Array(key.publicKey)),
    ).toString('hex');
    expect(out).toContain(`kid ${key.kid}, SHA-256 fingerprint ${fingerprint}`);
    const raw = Buffer.from(key.publicKey).toString('base64url');
    const file = `fluxel-audit-${key.kid}.pub`;
    expect(out).toContain(`printf '%s\\n' ${raw} > ${file}`);
    expect(out).toContain(`fluxel-audit verify ${dir} --public-key ${file}`);

    // Following the advice pins the key.
    const keyFile = join(tempDir(), file);
    writeFileSync(keyFile, `${raw}\n`);
    const pinned = io();
    expect(await main(['verify', dir, '--public-key', keyFile], pinned.io)).toBe(0);
    expect(pinned.out()).toContain('key trust: pinned');

    const j = io();
    await main(['verify', dir, '--json'], j.io);
    expect(JSON.parse(j.out()).firstUseKey).toEqual({ kid: key.kid, publicKey: raw, fingerprint });
    expect((await verifyPath(dir, { publicKeys: [key] })).firstUseKey).toBeUndefined();
  });
});
