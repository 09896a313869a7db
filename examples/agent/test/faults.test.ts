/**
 * Two faults the load suite (examples/system/load) found in the agent, each pinned as a real
 * process against the in-process relay: a device clock five minutes off (libfaketime on the
 * agent process, its clock and nothing else changed) and a full disk under the outbox (a
 * small tmpfs mounted on the outbox folder, filled; needs root, as in CI).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  activateArgs,
  agent,
  agentChild,
  agentDir,
  dropRecords,
  type Harness,
  READY_BOUND_MS,
  startHarness,
  tempDir,
  testEnv,
  waitFor,
} from './helpers.ts';

const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

async function activated(tenant: string, before?: (dir: string) => void): Promise<string> {
  const dir = tempDir();
  before?.(dir);
  const key = await h.issueKey(tenant);
  expect((await agent(activateArgs(h, key, dir))).code).toBe(0);
  const creds = await agent([
    'credentials',
    'put',
    'shop-1',
    '--field',
    `apiKey=${API_KEY}`,
    '--config',
    dir,
  ]);
  expect(creds.code).toBe(0);
  return dir;
}

const record = (tag: string) => (i: number) => ({
  connection: 'shop-1',
  operation: 'order.status',
  payload: { order: `${tag}-${i}`, status: 'packed', note: `${tag}-${i}` },
});
const arrived = (tag: string) =>
  h.counterpart.effects.filter((e) =>
    String((e.body as { note?: string }).note).startsWith(`${tag}-`),
  );

describe('device clock five minutes off', () => {
  it('libfaketime is installed (apt-get install faketime)', () => {
    expect(existsSync(FAKETIME_LIB), `${FAKETIME_LIB} missing: apt-get install faketime`).toBe(
      true,
    );
  });

  // The bug: the relay-client counts ERR_DPOP_STALE ("iat" outside the window) and a relay
  // certificate "not yet valid" by the device clock as final, so every record sent while the
  // clock was off went to the dead letters (to be retried by hand).
  it.each([
    ['+5m', 'ahead', 'ERR_RELAY_DEVICE_PROOF'],
    ['-5m', 'behind', 'ERR_RELAY_TLS'],
  ])(
    'clock %s dead-lettered every record: now they wait in the outbox and the agent names the clock',
    async (offset, tag, code) => {
      const dir = await activated(`merchant-clock-${tag}`);
      dropRecords(dir, 3, record(`clock-${tag}`), `clock-${tag}`);
      const skewed = await agentChild(
        ['run', '--once', '--config', dir, '--json'],
        testEnv({ LD_PRELOAD: FAKETIME_LIB, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' }),
        { timeoutMs: READY_BOUND_MS },
      );
      const text = skewed.out + skewed.err;
      const last = JSON.parse(skewed.out.trim().split('\n').at(-1) ?? '{}') as {
        outbox?: { depth: number; dead: number };
      };
      expect(last.outbox, text).toMatchObject({ depth: 3, dead: 0 });
      expect(text).toContain(code);
      expect(text).toMatch(/clock: .*check this device's clock/);
      expect(arrived(`clock-${tag}`)).toHaveLength(0);
    },
  );
});

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('fluxel-agent-mount-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'probe', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
}

describe.skipIf(!canMountTmpfs())('outbox disk full (a tmpfs on the outbox; needs root)', () => {
  // The bug: one failed write (ENOSPC) marked the outbox log failed for good; the running
  // agent kept claiming files it could not enqueue and could not mark deliveries done, and
  // stayed stuck until restarted by hand.
  it('the outbox log failed for good and the agent stayed stuck until restarted: now it stops claiming, says so and resumes when space returns', async () => {
    let outbox = '';
    const dir = await activated('merchant-disk', (d) => {
      outbox = join(d, 'outbox');
      mkdirSync(outbox, { recursive: true, mode: 0o700 });
      expect(
        spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'fluxel-test', outbox]).status,
      ).toBe(0);
    });
    const filler = join(outbox, '.filler');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'run', '--config', dir],
      { cwd: agentDir, env: testEnv() },
    );
    let said = '';
    child.stdout.on('data', (d) => {
      said += d;
    });
    child.stderr.on('data', (d) => {
      said += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await waitFor(() => said.includes('running: watching'), READY_BOUND_MS, 'the agent to start');
      dropRecords(dir, 20, record('disk-a'), 'disk-a');
      await waitFor(() => arrived('disk-a').length === 20, READY_BOUND_MS, 'the first 20 records');

      // the disk fills up
      const fd = openSync(filler, 'a', 0o600);
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) {
          const { bavail, bsize } = statfsSync(outbox);
          if (bavail * bsize <= 0) break;
          writeSync(fd, chunk, 0, Math.min(chunk.length, bavail * bsize));
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
      dropRecords(dir, 20, record('disk-b'), 'disk-b');
      await waitFor(
        () => /cannot write .*the disk is full \(ENOSPC\) — stopped claiming/.test(said),
        READY_BOUND_MS,
        'the agent to say the disk is full',
      );
      // it stopped claiming: later files stay in the drop folder
      dropRecords(dir, 5, record('disk-c'), 'disk-c');
      await new Promise((r) => setTimeout(r, 3000));
      expect(readdirSync(join(dir, 'outgoing')).filter((f) => f.startsWith('disk-c'))).toHaveLength(
        5,
      );

      // space returns
      rmSync(filler);
      await waitFor(
        () => said.includes('outbox: writes work again; resuming'),
        READY_BOUND_MS,
        'the agent to resume',
      );
      await waitFor(
        () => arrived('disk-b').length >= 20 && arrived('disk-c').length >= 5,
        READY_BOUND_MS,
        'the records dropped while the disk was full',
      );
      for (const tag of ['disk-a', 'disk-b', 'disk-c']) {
        const effects = arrived(tag);
        expect(new Set(effects.map((e) => (e.body as { note: string }).note)).size).toBe(
          effects.length,
        );
        expect(new Set(effects.map((e) => e.idempotencyKey)).size).toBe(effects.length);
      }
      expect(arrived('disk-b')).toHaveLength(20);
      expect(arrived('disk-c')).toHaveLength(5);
    } finally {
      child.kill('SIGTERM');
      await exited;
      spawnSync('umount', ['-l', outbox]);
    }
  });
});
