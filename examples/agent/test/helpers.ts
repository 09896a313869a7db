/** Test wiring: the counterpart and the relay in this process over HTTPS, the agent's CLI. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Counterpart,
  createCounterpart,
  generateWebhookSecret,
} from '@fluxel-example/counterpart';
import { counterpartConnector, createRelay, ensureDevTls, type Relay } from '@fluxel-example/relay';
import { main } from '../src/main.ts';

export const API_KEY = 'cp-agent-test-key-4d2b';
export const PASSPHRASE = 'agent test passphrase 1234';
export const agentDir = resolve(import.meta.dirname, '..');

export interface Harness {
  relay: Relay;
  counterpart: Counterpart;
  webhookSecret: string;
  issueKey(tenant?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-agent-relay-'));
  const tls = ensureDevTls(join(dataDir, 'tls'));
  const webhookSecret = generateWebhookSecret();
  const counterpart = await createCounterpart({
    apiKey: API_KEY,
    webhook: { url: 'https://127.0.0.1:9/unset', secret: webhookSecret, ca: tls.ca },
  });
  // 30 s: relay, counterpart and test share one event loop here, and on two busy cores a batch
  // of 100 forwards can keep an answer past 5 s. Since issue 21 a timeout no longer causes a
  // duplicate (the outcome is unknown: the key stays pending, no second forward within the
  // 60 s lease), but the record then waits out the lease, which `run --once` does not: at
  // 300 ms, 400 records arrived once each and 203 were still pending (docs/decisions/0019).
  const connector = counterpartConnector({ baseUrl: counterpart.url, timeoutMs: 30_000 });
  // The tests push hundreds of messages per minute through one license; the relay's rate
  // limits (where it has them) are not what is tested here.
  const unlimited = { rateLimit: false as const };
  const relay = await createRelay({ dataDir, connector, inMemoryDatabase: true, ...unlimited });
  return {
    relay,
    counterpart,
    webhookSecret,
    issueKey: async (tenant = 'merchant-1') =>
      (await relay.authority.issue({ tenant, product: 'wawi-sync', entitlements: ['orders'] })).key,
    async close() {
      await relay.close();
      await connector.close();
      await counterpart.close();
    },
  };
}

export function tempDir(prefix = 'fluxel-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An environment without proxies or a session bus, with the file store's passphrase. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    FLUXEL_AGENT_KEY_PASSPHRASE: PASSPHRASE,
    ...extra,
  };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
  json: Record<string, unknown> & { ok?: boolean; code?: string; message?: string };
}

/** Runs the CLI in this process. */
export async function agent(
  args: string[],
  options: { env?: Record<string, string>; signal?: AbortSignal; now?: () => number } = {},
): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: options.env ?? testEnv(),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  let json: CliResult['json'] = {};
  if (args.includes('--json')) {
    const last = out.trim().split('\n').at(-1);
    json = last ? JSON.parse(last) : {};
  }
  return { code, out, err, json };
}

/** Runs the CLI in a child process (tsx), without blocking this process's event loop. */
export function agentChild(
  args: string[],
  env: Record<string, string>,
  options: { shell?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const command = options.shell
    ? { file: 'dbus-run-session', args: ['--', 'sh', '-c', options.shell] }
    : { file: process.execPath, args: ['--import', 'tsx', 'src/cli.ts', ...args] };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command.file, command.args, { cwd: agentDir, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? READY_BOUND_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, out, err });
    });
  });
}

export function dropRecords(
  configDir: string,
  count: number,
  make: (i: number) => unknown,
  prefix = 'rec',
): void {
  const dir = join(configDir, 'outgoing');
  // As the drop-folder contract says: write under a dot name, then rename into place. Writing
  // the final name directly let a running agent claim a half-written file now and then, which
  // it rightly rejected (flaky "kill -9 in the middle of a drop": 399 of 400 arrived).
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${String(i).padStart(5, '0')}.json`;
    writeFileSync(join(dir, `.${name}`), JSON.stringify(make(i)));
    renameSync(join(dir, `.${name}`), join(dir, name));
  }
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * How long a child process or a condition may take before a test calls it hung (5 minutes,
 * as `READY_BOUND_MS` of `@fluxel/internal/testing`): a bound, not a budget (issue 21).
 */
export const READY_BOUND_MS = 300_000;

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = READY_BOUND_MS,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `activate` against the harness relay (its CA pinned) with the file key store. */
export function activateArgs(h: Harness, key: string, dir: string, ...extra: string[]): string[] {
  return [
    'activate',
    key,
    '--relay',
    h.relay.url,
    '--ca',
    h.relay.tls.caPath,
    '--config',
    dir,
    '--key-store',
    'file',
    ...extra,
  ];
}
