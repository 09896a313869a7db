/**
 * Batch delivery (issue 18): the agent sends the records of its drop folder in `sendBatch`
 * requests; each record keeps its own outcome — delivered and logged by name, or refused and
 * dead-lettered with the relay's problem (status, detail) — and `--batch 1` sends each alone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateArgs,
  agent,
  dropRecords,
  type Harness,
  startHarness,
  tempDir,
  testEnv,
} from './helpers.ts';

let h: Harness;
const dir = tempDir();
const CONNECTION = 'shop-1';

function logLines(err: string): Record<string, unknown>[] {
  return err
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const record = (note: string) => (i: number) => ({
  connection: CONNECTION,
  operation: 'order.status',
  payload: { order: `B-${i}`, status: 'shipped', note: `${note}-${i}` },
});

const effectsOf = (note: string) =>
  h.counterpart.effects.filter((e) =>
    String((e.body as { note?: string }).note).startsWith(`${note}-`),
  );

beforeAll(async () => {
  h = await startHarness();
  const activated = await agent(activateArgs(h, await h.issueKey(), dir, '--json'));
  expect(activated.code, activated.out + activated.err).toBe(0);
  const put = await agent(
    ['credentials', 'put', CONNECTION, '--field-env', 'apiKey=CP_KEY', '--config', dir],
    { env: testEnv({ CP_KEY: 'cp-agent-test-key-4d2b' }) },
  );
  expect(put.code, put.out + put.err).toBe(0);
});

afterAll(async () => {
  await h?.close();
});

describe('batch delivery', () => {
  it('one request for several records; each delivered record is logged by name, each refused one dead-lettered with its problem', async () => {
    const out = join(dir, 'outgoing');
    dropRecords(dir, 3, record('mixed'));
    for (const name of ['teleport-1.json', 'teleport-2.json'])
      writeFileSync(
        join(out, name),
        JSON.stringify({ connection: CONNECTION, operation: 'order.teleport', payload: {} }),
      );
    const res = await agent(['run', '--once', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({ enqueued: 5, outbox: { depth: 0, dead: 2 } });
    const logs = logLines(res.err);
    expect(logs.filter((l) => l.event === 'relay.request').map((l) => l.size)).toEqual([5]);
    expect(
      logs
        .filter((l) => l.event === 'outbox.delivered')
        .map((l) => l.file)
        .sort(),
    ).toEqual(['rec-00000.json', 'rec-00001.json', 'rec-00002.json']);
    const refused = logs.filter((l) => l.event === 'outbox.dead');
    expect(refused.map((l) => l.file).sort()).toEqual(['teleport-1.json', 'teleport-2.json']);
    for (const l of refused)
      expect(l).toMatchObject({
        operation: 'order.teleport',
        reason: 'not-retryable',
        status: 422,
        detail: 'unknown operation',
      });
    expect(effectsOf('mixed')).toHaveLength(3);
    const status = await agent(['status', '--config', dir, '--json']);
    const dead = (status.json.outbox as { deadLetters: { file: string; detail: string }[] })
      .deadLetters;
    expect(dead.map((d) => [d.file, d.detail]).sort()).toEqual([
      ['teleport-1.json', 'unknown operation'],
      ['teleport-2.json', 'unknown operation'],
    ]);
  });

  it('--batch 1 sends each record alone; a --batch outside 1..100 is a usage error', async () => {
    dropRecords(dir, 4, record('single'));
    const res = await agent(['run', '--once', '--batch', '1', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(logLines(res.err).filter((l) => l.event === 'relay.request')).toEqual([]);
    expect(effectsOf('single')).toHaveLength(4);
    for (const bad of ['0', '101', 'x', '1.5'])
      expect((await agent(['run', '--once', '--batch', bad, '--config', dir])).code).toBe(2);
  });
});
