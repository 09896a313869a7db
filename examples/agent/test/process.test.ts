/**
 * The agent as a real process (`node --import tsx src/cli.ts`): the OS keychain on a real
 * Secret Service (gnome-keyring under dbus-run-session), the typed error without one, and a
 * kill -9 in the middle of a drop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  listDir,
  READY_BOUND_MS,
  startHarness,
  tempDir,
  testEnv,
  waitFor,
} from './helpers.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}
const secretService = has('dbus-run-session') && has('gnome-keyring-daemon') && has('secret-tool');

const q = (s: string) => JSON.stringify(s);
const cli = (args: string[]) =>
  `${q(process.execPath)} --import tsx src/cli.ts ${args.map(q).join(' ')}`;

describe.skipIf(!secretService)('OS keychain on a real Secret Service (gnome-keyring)', () => {
  it('activation keeps the device key in the Secret Service (seen by secret-tool); deactivate removes it', async () => {
    const home = tempDir('fluxel-agent-home-');
    const config = join(home, 'agent');
    const key = await h.issueKey('merchant-keychain');
    const count = `secret-tool search --all service fluxel-agent 2>/dev/null | grep -c '^secret' || true`;
    const script = [
      `printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1`,
      cli([
        'activate',
        key,
        '--relay',
        h.relay.url,
        '--ca',
        h.relay.tls.caPath,
        '--config',
        config,
        '--json',
      ]),
      cli(['status', '--config', config, '--json']),
      count,
      cli(['deactivate', '--config', config, '--json']),
      count,
    ].join('; ');
    const res = await agentChild(
      [],
      {
        PATH: process.env.PATH ?? '',
        HOME: home,
        XDG_DATA_HOME: join(home, 'data'),
        XDG_RUNTIME_DIR: home,
      },
      { shell: script },
    );
    const lines = res.out.trim().split('\n');
    expect(lines, res.err).toHaveLength(5);
    const activated = JSON.parse(lines[0] as string);
    expect(activated).toMatchObject({ ok: true, keyStore: { kind: 'keychain' } });
    expect(activated.keyStore.location).toMatch(/Secret Service/);
    const status = JSON.parse(lines[1] as string);
    expect(status).toMatchObject({
      healthy: true,
      license: { status: 'active', deviceMatches: true },
      device: { keyStore: { kind: 'keychain' } },
    });
    expect(lines[2]).toBe('1'); // seen independently with secret-tool
    expect(JSON.parse(lines[3] as string)).toMatchObject({ ok: true, keyRemoved: true });
    expect(lines[4]).toBe('0');
    expect(existsSync(join(config, 'config.json'))).toBe(false);
    expect(existsSync(join(config, 'keys'))).toBe(false);
  });

  it('without a Secret Service: the typed error says how to choose the file store; nothing is written', async () => {
    const home = tempDir('fluxel-agent-home-');
    const config = join(home, 'agent');
    const key = await h.issueKey('merchant-nokeychain');
    const res = await agentChild(
      [
        'activate',
        key,
        '--relay',
        h.relay.url,
        '--ca',
        h.relay.tls.caPath,
        '--config',
        config,
        '--json',
      ],
      {
        PATH: process.env.PATH ?? '',
        HOME: home,
        DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
      },
    );
    expect(res.code).toBe(1);
    const out = JSON.parse(res.out.trim());
    expect(out).toMatchObject({ ok: false, code: 'ERR_KEYSTORE_UNAVAILABLE' });
    expect(out.message).toMatch(/--key-store file/);
    expect(out.message).toMatch(/FLUXEL_AGENT_KEY_PASSPHRASE/);
    expect(existsSync(join(config, 'config.json'))).toBe(false);
    expect(listDir(join(config, 'keys'))).toEqual([]);
    // the key was never sent: it still activates elsewhere
    const other = tempDir('fluxel-agent-');
    expect((await agent(activateArgs(h, key, other))).code).toBe(0);
  });
});

describe('kill -9 in the middle of a drop', () => {
  it('after restart every record arrives exactly once', async () => {
    const dir = tempDir();
    const key = await h.issueKey('merchant-crash');
    expect((await agent(activateArgs(h, key, dir))).code).toBe(0);
    expect(
      (
        await agent([
          'credentials',
          'put',
          'shop-1',
          '--field',
          `apiKey=${API_KEY}`,
          '--config',
          dir,
        ])
      ).code,
    ).toBe(0);

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'run', '--config', dir],
      { cwd: agentDir, env: testEnv(), stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    await waitFor(() => existsSync(join(dir, 'state.json')), READY_BOUND_MS, 'the agent to start');
    const N = 400;
    const note = (i: number) => `crash-${i}`;
    dropRecords(
      dir,
      N,
      (i) => ({
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: `C-${i}`, status: 'packed', note: note(i) },
      }),
      'crash',
    );
    const arrived = () =>
      h.counterpart.effects.filter((e) =>
        String((e.body as { note?: string }).note).startsWith('crash-'),
      );
    await waitFor(() => arrived().length >= 40, READY_BOUND_MS, 'some deliveries');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = arrived().length;
    expect(before).toBeLessThan(N); // it really was in the middle

    const res = await agent(['run', '--once', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({ outbox: { depth: 0, dead: 0 } });
    const effects = arrived();
    const notes = effects.map((e) => (e.body as { note: string }).note);
    expect(new Set(notes).size).toBe(N);
    expect(effects).toHaveLength(N); // none twice
    expect(new Set(effects.map((e) => e.idempotencyKey)).size).toBe(N);
    expect(readdirSync(join(dir, 'outgoing'))).toEqual(['.claimed']);
    expect(readdirSync(join(dir, 'outgoing', '.claimed'))).toEqual([]);
    expect(statSync(join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toContain('"running":false');
  });
});

describe('signals', () => {
  it('SIGTERM stops the service gracefully (exit 0, outbox closed, state says stopped)', async () => {
    const dir = tempDir();
    const key = await h.issueKey('merchant-sigterm');
    expect((await agent(activateArgs(h, key, dir))).code).toBe(0);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'run', '--config', dir],
      { cwd: agentDir, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await waitFor(() => out.includes('running:'), READY_BOUND_MS, 'the agent to start');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopping…[\s\S]*stopped/);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toContain('"running":false');
    expect(listDir(join(dir, 'outbox')).some((f) => f.includes('lock'))).toBe(false);
  });
});
