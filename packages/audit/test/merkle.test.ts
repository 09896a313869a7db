import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  AuditLog,
  type Checkpoint,
  generateSigningKey,
  MemoryStore,
  parseRecordLine,
  proveConsistency,
  proveInclusion,
  verifyConsistencyProof,
  verifyInclusionProof,
  verifyLines,
} from '../src/index.ts';
import { FileStore, listSegments, verifyPath } from '../src/node.ts';
import { loginEvent, readLines, tempDir, writeLines } from './helpers.ts';

async function merkleLog(events = 30) {
  const store = new MemoryStore();
  const key = generateSigningKey();
  const log = await AuditLog.open({
    store,
    signingKey: key,
    merkle: true,
    checkpointEvery: 8,
    checkpointIntervalMs: 0,
  });
  for (let i = 0; i < events; i++) await log.append(loginEvent(i));
  await log.close();
  return { lines: store.lines(), key };
}

const codes = (r: { findings: readonly { code: string; seq?: number }[] }) =>
  r.findings.map((f) => `${f.code}@${f.seq}`);

describe('Merkle checkpoints', () => {
  it('every checkpoint signs the tree root of its epoch, and the verifier recomputes it', async () => {
    const { lines, key } = await merkleLog();
    const trees = lines.map((l) => parseRecordLine(l)?.c?.tree).filter(Boolean);
    expect(trees.length).toBeGreaterThan(3);
    expect(trees.every((t) => t?.from === 1)).toBe(true);
    expect(codes(verifyLines(lines, { publicKeys: [key] }))).toEqual([]);
  });

  it('tampering is still named exactly once (the root mismatch is not piled on)', async () => {
    const { lines, key } = await merkleLog();
    const flipped = [...lines];
    flipped[5] = (flipped[5] as string).replace('"auth.login"', '"auth.logim"');
    expect(codes(verifyLines(flipped, { publicKeys: [key] }))).toEqual(['hash-mismatch@6']);
    const deleted = lines.filter((_, i) => i !== 5);
    expect(codes(verifyLines(deleted, { publicKeys: [key] }))).toEqual(['missing-range@6']);
  });

  it('a checkpoint whose signed root does not match the records is named', async () => {
    const store = new MemoryStore();
    const key = generateSigningKey();
    const log = await AuditLog.open({
      store,
      signingKey: key,
      merkle: true,
      checkpointIntervalMs: 0,
    });
    await log.append(loginEvent(1));
    await log.close();
    // A writer bug or a forged tree: re-sign the closing checkpoint with a wrong root.
    const { checkpointRecord } = await import('../src/record.ts');
    const last = store.records.at(-1) as { seq: number; prev: string; checkpoint: Checkpoint };
    const wrong = checkpointRecord(
      last.seq,
      last.prev,
      { ...last.checkpoint, tree: { from: 1, root: 'ab'.repeat(32) } },
      key,
    );
    const lines = [...store.lines().slice(0, -1), wrong.line];
    expect(codes(verifyLines(lines, { publicKeys: [key] }))).toEqual([
      `checkpoint-mismatch@${last.seq}`,
    ]);
  });

  it('inclusion proofs: a record is proven by the path to a signed root', async () => {
    const { lines, key } = await merkleLog();
    for (const seq of [2, 7, 13, 20]) {
      const proof = proveInclusion(lines, seq);
      expect(proof.path.length).toBeLessThanOrEqual(6);
      expect(verifyInclusionProof(proof, lines[seq - 1] as string, [key])).toBe(true);
      // The wrong record, a modified record, a wrong key or a tampered path all fail.
      expect(verifyInclusionProof(proof, lines[seq] as string, [key])).toBe(false);
      expect(
        verifyInclusionProof(proof, (lines[seq - 1] as string).replace('acme', 'acmf'), [key]),
      ).toBe(false);
      expect(verifyInclusionProof(proof, lines[seq - 1] as string, [generateSigningKey()])).toBe(
        false,
      );
      const bad = { ...proof, path: [...proof.path].reverse() };
      if (proof.path.length > 1)
        expect(verifyInclusionProof(bad, lines[seq - 1] as string, [key])).toBe(false);
    }
    expect(() => proveInclusion(lines, 999)).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_ARGUMENT' }),
    );
  });

  it('consistency proofs: a later checkpoint extends an earlier one', async () => {
    const { lines, key } = await merkleLog();
    const cps = lines
      .map((l) => parseRecordLine(l))
      .filter((r) => r?.c?.tree && r.c.reason !== 'open')
      .map((r) => r?.s as number);
    const proof = proveConsistency(lines, cps[0] as number, cps.at(-1) as number);
    expect(verifyConsistencyProof(proof, [key])).toBe(true);
    const swapped = { ...proof, older: proof.newer, newer: proof.older };
    expect(verifyConsistencyProof(swapped, [key])).toBe(false);
    expect(verifyConsistencyProof({ ...proof, path: proof.path.slice(1) }, [key])).toBe(false);
  });

  it('a forger who re-hashes the whole chain cannot keep the signed head or root', async () => {
    const { lines, key } = await merkleLog(12);
    const { eventRecord } = await import('../src/record.ts');
    const forged = [...lines];
    const original = parseRecordLine(lines[3] as string);
    let prev = parseRecordLine(lines[2] as string)?.h as string;
    forged[3] = eventRecord(4, prev, {
      ...(original?.e as AuditEvent),
      action: 'auth.logout',
    }).line;
    // Re-chain every later record (the checkpoints' signed contents stay as they were).
    for (let i = 3; i < forged.length; i++) {
      const line = (forged[i] as string).replace(/^(\{"s":\d+,"p":")[0-9a-f]{64}/, `$1${prev}`);
      const body = line.slice(0, line.length - 72);
      const hash = createHash('sha256').update(body).digest('hex');
      forged[i] = `${body},"h":"${hash}"}`;
      prev = hash;
    }
    const report = verifyLines(forged, { publicKeys: [key] });
    expect(report.findings[0]).toMatchObject({ code: 'checkpoint-mismatch', seq: 10 });
  });

  it('a reopen after a crash with a key rotation keeps verifying (rotate/recover carry no tree)', async () => {
    const dir = tempDir();
    const k1 = generateSigningKey();
    const k2 = generateSigningKey();
    let log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: k1,
      merkle: true,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 5; i++) await log.append(loginEvent(i));
    await log.close();
    appendFileSync(join(dir, '00000000000000000001.log'), '{"s":9,"p":"ab'); // torn tail
    log = await AuditLog.open({
      store: new FileStore(dir),
      signingKey: k2,
      previousKey: k1,
      merkle: true,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 5; i++) await log.append(loginEvent(i));
    await log.close();
    const report = await verifyPath(dir, { publicKeys: [k1] });
    expect(report.findings).toEqual([]);
    expect(report.notes.join('\n')).toMatch(/rotated[\s\S]*recovered/);
  });

  it('trees restart with each segment and each session, on disk', async () => {
    const dir = tempDir();
    const key = generateSigningKey();
    for (let session = 0; session < 2; session++) {
      const log = await AuditLog.open({
        store: new FileStore(dir, { segmentMaxBytes: 3000 }),
        signingKey: key,
        merkle: true,
        checkpointEvery: 5,
        checkpointIntervalMs: 0,
      });
      for (let i = 0; i < 25; i++) await log.append(loginEvent(i));
      await log.close();
    }
    expect((await verifyPath(dir, { publicKeys: [key] })).findings).toEqual([]);
    const segments = await listSegments(dir);
    const lines = readLines(join(dir, (segments[1] as { name: string }).name));
    const seq = parseRecordLine(lines[2] as string)?.s as number;
    expect(verifyInclusionProof(proveInclusion(lines, seq), lines[2] as string, [key])).toBe(true);
    // Reordering inside a segment is still named exactly.
    const swapped = [...lines];
    [swapped[2], swapped[3]] = [swapped[3] as string, swapped[2] as string];
    writeLines(join(dir, (segments[1] as { name: string }).name), swapped);
    expect(codes(await verifyPath(dir, { publicKeys: [key] }))).toEqual([`reordered@${seq}`]);
  });
});
