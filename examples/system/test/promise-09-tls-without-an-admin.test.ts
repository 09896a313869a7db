import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { evaluate } from '@fluxel/acme-lite/node';
import { missingDependency, READY_BOUND_MS } from '@fluxel/internal/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Pebble,
  pebbleAvailable,
  startPebble,
} from '../../../packages/acme-lite/test/pebble-harness.ts';
import { type Booted, boot, waitUntil } from './helpers.ts';

const skip = pebbleAvailable()
  ? false
  : missingDependency('pebble, pebble-challtestsrv and openssl', 'apt-get install pebble openssl');
const DOMAIN = 'relay.example.org';

function issuerOf(port: number, ca: string): Promise<{ issuer: string; authorized: boolean }> {
  return new Promise((done, fail) => {
    const socket = connect({ host: '127.0.0.1', port, servername: DOMAIN, ca }, () => {
      done({
        issuer: String(socket.getPeerCertificate().issuer.CN ?? ''),
        authorized: socket.authorized,
      });
      socket.destroy();
    });
    socket.once('error', fail);
  });
}

describe.skipIf(skip)('promise 9: TLS without an admin', () => {
  let pebble: Pebble;
  let sys: Booted;
  beforeAll(async () => {
    pebble = await startPebble();
  });
  afterAll(async () => {
    await sys?.close();
    await pebble?.stop();
  });

  it('the relay obtains a certificate from ACME (Pebble) by itself, installs it without a restart, and evaluate is green', async () => {
    const caFile = join(pebble.dir, 'listener-ca.pem');
    writeFileSync(caFile, pebble.listenerCa);
    sys = await boot({
      env: {
        relay: {
          RELAY_ACME_DIRECTORY: pebble.directoryUrl,
          RELAY_ACME_DOMAINS: DOMAIN,
          RELAY_ACME_EMAIL: 'ops@example.org',
          RELAY_HTTP01_PORT: String(pebble.httpPort),
          RELAY_ACME_CA: caFile,
        },
      },
    });
    const relay = sys.services.relay;
    const pid = relay?.pid;
    const port = Number(new URL(sys.relayUrl).port);
    await relay?.waitFor(/TLS certificate installed/, READY_BOUND_MS);
    const root = await pebble.root();
    const served = await waitUntil('the ACME certificate on new connections', async () => {
      const r = await issuerOf(port, root).catch(() => undefined);
      return r?.authorized ? r : undefined;
    });
    expect(served.issuer).toMatch(/Pebble/);
    expect(relay?.pid).toBe(pid); // same process: no restart
    expect(relay?.running).toBe(true);
    const result = await evaluate(DOMAIN, { host: '127.0.0.1', port, ca: root });
    expect(result).toMatchObject({ ok: true, trusted: true });
  });
});
