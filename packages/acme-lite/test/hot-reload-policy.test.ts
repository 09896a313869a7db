/**
 * `hotReload` keeps the server's own TLS settings: `setSecureContext` replaces the whole
 * context, so before `contextOptions` a server restricted to AEAD suites offered Node's default
 * CBC suites again after its first certificate reload (issue 17).
 */

import { mkdtempSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { FileCertificateStore, hotReload } from '../src/node.ts';
import { makeCa } from './pebble-harness.ts';

const POLICY = {
  minVersion: 'TLSv1.2',
  ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256',
} as const;

/** Whether a TLS 1.2 client offering only `cipher` completes a handshake. */
function handshakes(port: number, cipher: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      maxVersion: 'TLSv1.2',
      ciphers: cipher,
      ca,
      servername: 'example.org',
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('hotReload contextOptions', () => {
  it('a reload keeps the server cipher policy (setSecureContext used to fall back to CBC suites)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acme-lite-policy-'));
    const { certPem, keyPem, caPem } = makeCa(dir, ['example.org']);
    const store = new FileCertificateStore({
      root: join(dir, 'store'),
      directoryUrl: 'https://127.0.0.1:14000/dir',
    });
    await store.save({
      orderUrl: 'https://127.0.0.1:14000/order/1',
      identifiers: ['example.org'],
      certPem,
      chainPem: caPem,
      keyPem,
    });
    const server = createHttpsServer({ cert: certPem, key: keyPem, ...POLICY }, (_q, r) => r.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const cbc = 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA';
    const gcm = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256';
    try {
      expect(await handshakes(port, cbc, caPem)).toBe(false);
      const kept = hotReload(server, store, 'example.org', { contextOptions: POLICY });
      await kept.reload();
      expect(await handshakes(port, cbc, caPem)).toBe(false);
      expect(await handshakes(port, gcm, caPem)).toBe(true);
      kept.stop();
      // Without the option the reload installs Node's defaults: the reason the option exists.
      const plain = hotReload(server, store, 'example.org');
      await plain.reload();
      expect(await handshakes(port, cbc, caPem)).toBe(true);
      plain.stop();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
