/**
 * Issue 17: a certificate hot reload (acme-lite's `hotReload`, the portal's certificates page)
 * calls `setSecureContext({ cert, key })`, which resets ciphers and minimum version to Node's
 * defaults; `keepTlsPolicy` puts the policy back into every such call.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepTlsPolicy, TLS_SERVER_POLICY } from '@fluxel-example/kit/tls';
import { describe, expect, it } from 'vitest';
import { tls12 } from './tls-probe.ts';

describe('TLS policy across certificate reloads (issue 17)', () => {
  it('keeps the policy when a certificate is hot-reloaded (setSecureContext resets ciphers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-tls-reload-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
        .concat(['-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=localhost'])
        .concat(['-addext', 'subjectAltName=DNS:localhost']),
      { cwd: dir, stdio: 'pipe' },
    );
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    const server = keepTlsPolicy(createServer({ cert, key, ...TLS_SERVER_POLICY }));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    try {
      // What acme-lite's hotReload and the certificates page do: cert and key only.
      server.setSecureContext({ cert, key });
      expect((await tls12(port, cert, 'ECDHE-ECDSA-AES128-SHA256')).ok).toBe(false);
      expect((await tls12(port, cert, 'ECDHE-ECDSA-AES128-GCM-SHA256')).ok).toBe(true);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
