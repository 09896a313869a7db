import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.ts';
import {
  assertVerified,
  type Checkpoint,
  generateSigningKey,
  parseRecordLine,
  publicJwk,
  verifyLines,
} from '../src/index.ts';
import { verifyPath } from '../src/node.ts';
import { checkpointRecord, eventRecord } from '../src/record.ts';
import { readLines, tempDir, writeLines, writeLog } from './helpers.ts';

// Layout with checkpointEvery 10: seq 1 = open checkpoint, then 10 events and a checkpoint
// (seq 12, 23, 34, …), and a close checkpoint at the end.
async function fixture(events = 40) {
  const log = await writeLog(events);
  return { ...log, lines: readLines(log.segment) };
}

function codes(report: { findings: readonly { code: string; seq?: number }[] }) {
  return report.findings.map((f) => `${f.code}@${f.seq}`);
}

function rehash(line: string): string {
  const body = line.slice(0, line.length - 72);
  return `${body},"h":"${createHash('sha256').update(body).digest('hex')}"}`;
}

/** Recomputes prev/hash of every line from index `from` on (a forger's re-chaining). */
function rechain(lines: string[], from: number): string[] {
  const out = [...lines];
  for (let i = from; i < out.length; i++) {
    const prev = (parseRecordLine(out[i - 1] as string) as { h: string }).h;
    const line = (out[i] as string).replace(/^(\{"s":\d+,"p":")[0-9a-f]{64}/, `$1${prev}`);
    out[i] = rehash(line);
  }
  return out;
}

describe('the tamper suite: the verifier names each manipulation exactly', () => {
  it('a clean log verifies, with the key pinned', async () => {
    const { dir, key } = await fixture();
    const report = await verifyPath(dir, { publicKeys: [key] });
    expect(codes(report)).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      records: 46,
      events: 40,
      checkpoints: 6,
      trust: 'pinned',
    });
    expect(report.lastCheckpoint?.checkpoint.reason).toBe('close');
    expect(() => assertVerified(report)).not.toThrow();
  });

  it('flip a byte: hash-mismatch at exactly that record', async () => {
    const { segment, lines, dir } = await fixture();
    const line = lines[14] as string; // seq 15
    lines[14] = line.replace('"auth.login"', '"auth.logim"');
    writeLines(segment, lines);
    const report = await verifyPath(dir);
    expect(codes(report)).toEqual(['hash-mismatch@15']);
    expect(report.firstBadSeq).toBe(15);
    expect(() => assertVerified(report)).toThrow(
      expect.objectContaining({
        code: 'ERR_AUDIT_VERIFICATION_FAILED',
        message: expect.stringContaining('hash-mismatch at seq 15'),
      }),
    );
  });

  it('flip a byte in the sequence number: still named at its position', async () => {
    const { segment, lines, dir } = await fixture();
    lines[14] = (lines[14] as string).replace('{"s":15,', '{"s":75,');
    writeLines(segment, lines);
    expect(codes(await verifyPath(dir))).toEqual(['hash-mismatch@15']);
  });

  it('break the structure of a record: malformed at exactly that position', async () => {
    const { segment, lines, dir } = await fixture();
    lines[14] = (lines[14] as string).replace('{"s":15,', '{"t":15,');
    writeLines(segment, lines);
    expect(codes(await verifyPath(dir))).toEqual(['malformed@15']);
  });

  it('delete a record: missing-range of one', async () => {
    const { segment, lines, dir } = await fixture();
    lines.splice(14, 1);
    writeLines(segment, lines);
    const report = await verifyPath(dir);
    expect(codes(report)).toEqual(['missing-range@15']);
    expect(report.findings[0]).toMatchObject({ from: 15, to: 15 });
  });

  it('delete two consecutive records: one missing-range of two', async () => {
    const { segment, lines, dir } = await fixture();
    lines.splice(14, 2);
    writeLines(segment, lines);
    const report = await verifyPath(dir);
    expect(codes(report)).toEqual(['missing-range@15']);
    expect(report.findings[0]).toMatchObject({ from: 15, to: 16 });
  });

  it('reorder two records: reordered at the moved one, nothing missing', async () => {
    const { segment, lines, dir } = await fixture();
    [lines[14], lines[15]] = [lines[15] as string, lines[14] as string];
    writeLines(segment, lines);
    expect(codes(await verifyPath(dir))).toEqual(['reordered@15']);
  });

  it('truncate whole records: truncated after the last checkpoint', async () => {
    const { segment, lines, dir } = await fixture();
    writeLines(segment, lines.slice(0, 30)); // seq 1..30, last checkpoint 23
    const report = await verifyPath(dir);
    expect(codes(report)).toEqual(['truncated@24']);
    expect(report.lastSeq).toBe(30);
  });

  it('truncate inside a line: torn-tail', async () => {
    const { segment, dir } = await fixture();
    const bytes = readFileSync(segment);
    writeFileSync(segment, bytes.subarray(0, bytes.length - 40));
    expect(codes(await verifyPath(dir))).toEqual(['torn-tail@46']);
  });

  it('replace a checkpoint signature: bad-signature at the checkpoint', async () => {
    const { segment, lines, dir } = await fixture();
    const other = JSON.parse(lines[33] as string).sig as string; // checkpoint 34's signature
    lines[22] = (lines[22] as string).replace(/"sig":"[^"]+"/, `"sig":"${other}"`); // checkpoint 23
    writeLines(segment, rechain(lines, 22)); // the forger even fixes every hash after it
    const report = await verifyPath(dir);
    expect(report.findings[0]).toMatchObject({ code: 'bad-signature', seq: 23 });
    expect(report.firstBadSeq).toBe(23);
  });

  it('edit a record and recompute every hash after it: the next checkpoint exposes it', async () => {
    const { segment, lines, dir } = await fixture();
    lines[14] = rehash((lines[14] as string).replace('"auth.login"', '"auth.logout"'));
    writeLines(segment, rechain(lines, 15));
    const report = await verifyPath(dir);
    expect(report.findings[0]).toMatchObject({ code: 'checkpoint-mismatch', seq: 23 });
  });

  it('roll the signing key: an announced rotation verifies, an unannounced key is named', async () => {
    const dir = tempDir();
    const key1 = generateSigningKey();
    const key2 = generateSigningKey();
    await writeLog(15, { dir, key: key1 });
    // Reopen with a new key, announced by the old one (a `rotate` checkpoint).
    await writeLog(15, { dir, key: key2, previousKey: key1 });
    const pinnedOld = await verifyPath(dir, { publicKeys: [key1] });
    expect(codes(pinnedOld)).toEqual([]);
    expect(pinnedOld.notes.join('\n')).toContain(`rotated at seq`);

    // A forger appends records and a closing checkpoint signed by their own key.
    const segment = join(dir, '00000000000000000001.log');
    const lines = readLines(segment);
    const last = parseRecordLine(lines.at(-1) as string) as { s: number; h: string; c: Checkpoint };
    const forgedKey = generateSigningKey();
    const event = eventRecord(last.s + 1, last.h, {
      id: 'forged',
      time: new Date().toISOString(),
      tenant: 'acme',
      actor: { type: 'user', id: 'mallory' },
      action: 'admin.role.grant',
      outcome: 'success',
    });
    const cp = checkpointRecord(
      last.s + 2,
      event.hash,
      {
        ...last.c,
        size: last.s + 1,
        head: event.hash,
        kid: forgedKey.kid,
        time: new Date().toISOString(),
      },
      forgedKey,
    );
    writeLines(segment, [...lines, event.line, cp.line]);
    expect(codes(await verifyPath(dir, { publicKeys: [key1] }))).toEqual([
      `unknown-key@${last.s + 2}`,
    ]);
    // Trust on first use catches it too: the key in force is the announced one.
    expect(codes(await verifyPath(dir))).toEqual([`unknown-key@${last.s + 2}`]);
  });

  it('a whole log re-signed with another key is caught only when the key is pinned', async () => {
    const { dir } = await fixture(5);
    expect(
      (await verifyPath(dir, { publicKeys: [generateSigningKey()] })).findings[0],
    ).toMatchObject({
      code: 'unknown-key',
      seq: 1,
    });
  });

  it('a checkpoint kept elsewhere (anchor) catches a rollback to an earlier close', async () => {
    const { dir, lines, segment, key } = await fixture(20);
    // A second session appends and closes; its closing checkpoint is kept elsewhere (SIEM).
    await writeLog(5, { dir, key });
    const closing = parseRecordLine(readLines(segment).at(-1) as string) as {
      s: number;
      h: string;
    };
    const anchor = { size: closing.s, head: closing.h };
    expect(codes(await verifyPath(dir, { anchor }))).toEqual([]);
    // Rolled back to the end of the first session: self-consistent, caught only by the anchor.
    writeLines(segment, lines);
    expect(codes(await verifyPath(dir))).toEqual([]);
    expect(codes(await verifyPath(dir, { anchor }))).toEqual([`truncated@${closing.s}`]);
  });

  it('reports lines that are not records as malformed', () => {
    const report = verifyLines(['not json at all']);
    expect(codes(report)).toEqual(['malformed@1', 'no-checkpoint@undefined']);
  });
});

describe('fluxel-audit verify (CLI)', () => {
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

  it('answers --help and --version (exit 0, on stdout)', async () => {
    const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
      .version as string;
    for (const flag of ['--help', '-h', 'help']) {
      const t = io();
      expect(await main([flag], t.io)).toBe(0);
      expect(t.out()).toMatch(/^usage: fluxel-audit verify/);
    }
    for (const flag of ['--version', '-v', 'version']) {
      const t = io();
      expect(await main([flag], t.io)).toBe(0);
      expect(t.out()).toBe(`fluxel-audit ${version}\n`);
      expect(t.err()).toBe('');
    }
  });

  it('regression: --help after the command ("fluxel-audit verify --help") was "unknown option", exit 2', async () => {
    for (const argv of [
      ['verify', '--help'],
      ['verify', 'some/dir', '-h'],
    ]) {
      const t = io();
      expect(await main(argv, t.io)).toBe(0);
      expect(t.out()).toMatch(/^usage: fluxel-audit verify/);
    }
    const t = io();
    expect(await main(['verify', 'x', '--version'], t.io)).toBe(0);
    expect(t.out()).toMatch(/^fluxel-audit \d/);
    // After "--" a word is an operand: "--help" is a path there.
    const u = io();
    expect(await main(['verify', '--', '--help'], u.io)).toBe(2);
    expect(u.err()).not.toContain('unknown option');
  });

  it('exits 0 on a clean log, 1 naming the finding, 2 on usage errors', async () => {
    const { dir, lines, segment, key } = await fixture(20);
    const keyFile = join(dir, 'key.jwk');
    await writeFile(keyFile, JSON.stringify(publicJwk(key)));
    let t = io();
    expect(await main(['verify', dir, '--public-key', keyFile], t.io)).toBe(0);
    expect(t.out()).toContain('OK: chain, checkpoints and signatures verify');
    expect(t.out()).toContain('key trust: pinned');

    lines.splice(4, 2);
    writeLines(segment, lines);
    t = io();
    expect(await main(['verify', dir, '--public-key', keyFile], t.io)).toBe(1);
    expect(t.out()).toContain('missing-range at seq 5');
    expect(t.out()).toContain('first bad sequence number: 5');

    t = io();
    expect(await main(['verify', dir, '--json'], t.io)).toBe(1);
    expect(JSON.parse(t.out()).findings[0]).toMatchObject({
      code: 'missing-range',
      from: 5,
      to: 6,
    });

    t = io();
    expect(await main(['verify'], t.io)).toBe(2);
    expect(t.err()).toContain('missing <path>');
    expect(await main(['frobnicate'], io().io)).toBe(2);
    expect(await main(['verify', join(dir, 'nope')], io().io)).toBe(2);
    expect(await main(['verify', dir, '--public-key', segment], io().io)).toBe(2);
  });

  it('--live accepts an unsigned tail of a log being written; --anchor pins an outside checkpoint', async () => {
    const { dir, lines, segment } = await fixture(20);
    writeLines(segment, lines.slice(0, 20)); // as if the writer were still running
    expect(await main(['verify', dir], io().io)).toBe(1);
    const t = io();
    expect(await main(['verify', dir, '--live'], t.io)).toBe(0);
    expect(t.out()).toContain('not yet covered by a checkpoint');
    const cp = parseRecordLine(lines[11] as string) as { s: number; h: string };
    expect(await main(['verify', dir, '--live', '--anchor', `${cp.s}:${cp.h}`], io().io)).toBe(0);
    expect(
      await main(['verify', dir, '--live', '--anchor', `${cp.s}:${'0'.repeat(64)}`], io().io),
    ).toBe(1);
    expect(await main(['verify', dir, '--anchor', 'nonsense'], io().io)).toBe(2);
  });

  it('shows a progress bar on a TTY for large logs', async () => {
    const { dir } = await writeLog(60_000, { concurrency: 5000, fileStore: { fsync: false } });
    const t = io();
    const stderr = { write: (s: string) => t.io.stderr.write(s), isTTY: true, columns: 80 };
    expect(await main(['verify', dir], { stdout: t.io.stdout, stderr })).toBe(0);
    expect(t.err()).toMatch(/verifying \[#+-*\] \d+%/);
  });
});
