/**
 * Agent benchmark: sustained delivery of a drop folder through the relay to the counterpart on
 * loopback (messages/s, agent CPU and relay+counterpart CPU per message; after a warm-up folder,
 * whose own rate — the first delivery after start — is reported as `coldRecordsPerSec`; the
 * relay on PostgreSQL when one is reachable, as in production), against a plain
 * relay-client `send` loop with the same device (the limit: no drop folder, no durable outbox),
 * and the idle RSS of a running agent process. One JSON line per result (benchmarks/ format).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient } from '@fluxel/relay-client/node';
import { emit } from '../../../benchmarks/src/harness.ts';
import { main } from '../src/main.ts';

const agentDir = resolve(import.meta.dirname, '..');
const MESSAGES = Number(process.env.AGENT_BENCH_MESSAGES ?? 4000);
/** Records delivered first, unmeasured (JIT, connections, caches). */
const WARMUP = Number(process.env.AGENT_BENCH_WARMUP ?? 1000);
/** Records per request (`run --batch`): 100 (the default) or 1 (one request per record). */
const BATCH = process.env.AGENT_BENCH_BATCH ?? '100';
const passphrase = 'agent bench passphrase 1234';
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  FLUXEL_AGENT_KEY_PASSPHRASE: passphrase,
};

const child = spawn(process.execPath, ['--import', 'tsx', join(agentDir, 'bench/relay-child.ts')], {
  cwd: agentDir,
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const next = async () => JSON.parse(((await lines.next()).value as string) ?? '{}');
const setup = (await next()) as {
  url: string;
  caPath: string;
  keys: string[];
  apiKey: string;
  webhookSecret: string;
  database: string;
};
const relayCpu = async () => {
  child.stdin.write('mark\n');
  return (await next()) as { cpuMs: number; effects: number };
};

const io = { stdout: () => undefined, stderr: () => undefined, env };
const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  main(args, { ...io, env: { ...env, ...extraEnv } });

// --- the agent: activate, credentials, drop MESSAGES files, deliver them (run --once) -----
const config = mkdtempSync(join(tmpdir(), 'fluxel-agent-bench-'));
if (
  (await cli([
    'activate',
    setup.keys[0] as string,
    '--relay',
    setup.url,
    '--ca',
    setup.caPath,
    '--config',
    config,
    '--key-store',
    'file',
  ])) !== 0
) {
  throw new Error('activation failed');
}
await cli(['credentials', 'put', 'shop-1', '--field-env', 'apiKey=CP_KEY', '--config', config], {
  CP_KEY: setup.apiKey,
});
const drop = (prefix: string, count: number) => {
  for (let i = 0; i < count; i++) {
    writeFileSync(
      join(config, 'outgoing', `${prefix}-${i}.json`),
      JSON.stringify({
        connection: 'shop-1',
        operation: 'order.status',
        payload: { order: `${prefix}-${i}`, status: 'shipped' },
      }),
    );
  }
};
// Warm-up: a first folder through the same agent and relay (JIT, connections, caches), so the
// figure is sustained delivery, not start-up.
drop('warm', WARMUP);
const tw = performance.now();
if ((await cli(['run', '--once', '--batch', BATCH, '--config', config])) !== 0)
  throw new Error('warm-up run --once failed');
const coldRate = WARMUP / ((performance.now() - tw) / 1000);
drop('rec', MESSAGES);
const relayBefore = await relayCpu();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
if ((await cli(['run', '--once', '--batch', BATCH, '--config', config])) !== 0)
  throw new Error('run --once failed');
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const relayAfter = await relayCpu();
if (relayAfter.effects - relayBefore.effects !== MESSAGES) {
  throw new Error(
    `expected ${MESSAGES} deliveries, the counterpart saw ${relayAfter.effects - relayBefore.effects}`,
  );
}
const agentRate = MESSAGES / seconds;
const agentCpuMs = (cpu.user + cpu.system) / 1000;
const relayCpuMs = relayAfter.cpuMs - relayBefore.cpuMs;

// --- the limit: a plain client send loop, 8 in flight, same number of messages -----------
const device = createDpopSigner((await generateKeyPair()).privateJwk);
const client = createRelayClient({
  baseUrl: setup.url,
  ca: readFileSync(setup.caPath, 'utf8'),
  proxy: false,
  device,
});
await client.activate({ body: { licenseKey: setup.keys[1] as string } });
await client.putCredentials({
  connection: 'shop-1',
  body: { kind: 'api-key', fields: { apiKey: setup.apiKey } },
});
let sent = 0;
const t1 = performance.now();
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (sent < MESSAGES) {
      const i = sent++;
      await client.send({
        connection: 'shop-1',
        idempotencyKey: crypto.randomUUID(),
        body: { operation: 'order.status', payload: { order: `B-${i}`, status: 'shipped' } },
      });
    }
  }),
);
const rawRate = MESSAGES / ((performance.now() - t1) / 1000);
await client.close();

// --- idle RSS of a running agent (the CLI's `run` service in its own process) -----------
const idle = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', config], {
  cwd: agentDir,
  env,
  stdio: 'ignore',
});
await new Promise((r) => setTimeout(r, 4000));
const status = readFileSync(`/proc/${idle.pid}/status`, 'utf8');
const idleRssMB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
idle.kill('SIGTERM');
await once(idle, 'exit');

emit(
  'agent/drop-folder-delivery',
  agentRate,
  'relay-client send loop, 8 in flight (no drop folder, no outbox)',
  rawRate,
  'ops/s',
  {
    messages: MESSAGES,
    warmup: WARMUP,
    /** The warm-up folder's rate: the first delivery after start (JIT, connections). */
    coldRecordsPerSec: Math.round(coldRate),
    seconds: Number(seconds.toFixed(2)),
    batch: Number(BATCH),
    agentCpuMsPerMessage: Number((agentCpuMs / MESSAGES).toFixed(3)),
    relayAndCounterpartCpuMsPerMessage: Number((relayCpuMs / MESSAGES).toFixed(3)),
    idleRssMB: Number(idleRssMB.toFixed(1)),
    database: setup.database,
  },
);
child.stdin.write('stop\n');
await once(child, 'exit');
