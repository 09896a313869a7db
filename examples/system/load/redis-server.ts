/**
 * The suite's own Redis (the machine's is shared with other tests): `redis-server` on a free
 * loopback port, without persistence, so an outage is a SIGKILL of our pid and a restart on
 * the same port (the relays reconnect; what Redis held is gone, as after a real crash).
 */
import { join } from 'node:path';
import { type Child, spawnProgram, stop } from './procs.ts';
import { freePort } from './tcp-proxy.ts';

export interface OwnRedis {
  readonly url: string;
  readonly child: Child;
  /** SIGKILL; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<Child>;
  stop(): Promise<void>;
}

export async function startOwnRedis(
  logs: string,
  onStart: (child: Child) => void,
): Promise<OwnRedis> {
  const port = await freePort();
  let starts = 0;
  const start = async (): Promise<Child> => {
    const child = spawnProgram(
      starts === 0 ? 'redis' : `redis#${starts}`,
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        cwd: logs,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        log: join(logs, 'redis.log'),
      },
    );
    starts++;
    await child.waitFor(/Ready to accept connections/, 30_000);
    onStart(child);
    return child;
  };
  let child = await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return child;
    },
    async kill() {
      child.proc.kill('SIGKILL');
      await child.exited;
    },
    async restart() {
      child = await start();
      return child;
    },
    async stop() {
      await stop(child, 5000);
    },
  };
}
