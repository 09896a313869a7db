/**
 * Runs Pebble (the ACME test CA) and pebble-challtestsrv (its DNS) as child processes on free
 * loopback ports, with a TLS certificate for Pebble's listener made here by openssl and
 * trusted through the client's CA option (verification is never turned off).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from '@fluxel/internal/pki';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { Agent, fetch as undiciFetch } from 'undici';

export interface PebbleOptions {
  readonly nonceReject?: number;
  readonly validitySeconds?: number;
  readonly eab?: Readonly<Record<string, string>>;
  /** Pebble reuses valid authorisations this percent of the time (default 0 here). */
  readonly authzReuse?: number;
}

export interface Pebble {
  readonly directoryUrl: string;
  readonly managementUrl: string;
  /** The CA certificate of Pebble's own HTTPS listener (trust this to talk to Pebble). */
  readonly listenerCa: string;
  /** The port Pebble's VA connects to for HTTP-01. */
  readonly httpPort: number;
  readonly dir: string;
  /** Pebble's issuing root (from the management API). */
  root(): Promise<string>;
  stop(): Promise<void>;
}

export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const file = join(dir, name);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

export function pebbleAvailable(): boolean {
  return !!findBinary('pebble') && !!findBinary('pebble-challtestsrv') && !!findBinary('openssl');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A CA and a certificate for `names` signed by it, made with openssl. */
export function makeCa(
  dir: string,
  names: readonly string[] = ['localhost', '127.0.0.1'],
  caName = 'acme-lite test CA',
) {
  return makeTestPki({ dir, names, caName });
}

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  ms = READY_BOUND_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (let delay = 10; Date.now() < deadline; delay = Math.min(200, delay * 2)) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

export async function startPebble(options: PebbleOptions = {}): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'acme-lite-pebble-'));
  const tls = makeCa(dir);
  const [listen, management, httpPort, tlsPort, dnsPort, challMgmt] = (await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  )) as [number, number, number, number, number, number];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: tls.certPath,
      privateKey: tls.keyPath,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: !!options.eab,
      ...(options.eab ? { externalAccountMACKeys: options.eab } : {}),
      ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
    },
  };
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
  const children: ChildProcess[] = [];
  const log: string[] = [];
  const keep = (child: ChildProcess) => {
    child.stdout?.on('data', (d) => log.push(String(d)));
    child.stderr?.on('data', (d) => log.push(String(d)));
    children.push(child);
  };
  keep(
    spawn(
      findBinary('pebble-challtestsrv') as string,
      [
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-dns01',
        `127.0.0.1:${dnsPort}`,
        '-management',
        `127.0.0.1:${challMgmt}`,
        '-defaultIPv4',
        '127.0.0.1',
        '-defaultIPv6',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  keep(
    spawn(
      findBinary('pebble') as string,
      ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PEBBLE_VA_NOSLEEP: '1',
          PEBBLE_WFE_NONCEREJECT: String(options.nonceReject ?? 0),
          PEBBLE_AUTHZREUSE: String(options.authzReuse ?? 0),
        },
      },
    ),
  );
  const dispatcher = new Agent({ connect: { ca: tls.caPem } });
  const directoryUrl = `https://127.0.0.1:${listen}/dir`;
  const managementUrl = `https://127.0.0.1:${management}`;
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) =>
        c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined,
      ),
    );
    await dispatcher.close();
  };
  try {
    await waitFor(
      async () => (await undiciFetch(directoryUrl, { dispatcher })).ok,
      `pebble at ${directoryUrl}\n${log.join('')}`,
    );
    await waitFor(
      async () =>
        (await undiciFetch(`http://127.0.0.1:${challMgmt}/`, {}).then((r) => r.status)) > 0,
      'pebble-challtestsrv',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    directoryUrl,
    managementUrl,
    listenerCa: tls.caPem,
    httpPort,
    dir,
    async root() {
      const res = await undiciFetch(`${managementUrl}/roots/0`, { dispatcher });
      return res.text();
    },
    stop,
  };
}
