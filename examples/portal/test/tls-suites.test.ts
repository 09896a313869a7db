/**
 * Issue 17: the portal's HTTPS listener offers TLS 1.2 only with ECDHE + AEAD suites (the
 * relay's `TLS_SERVER_POLICY`), refuses TLS 1.1, keeps TLS 1.3 — and still does after the
 * certificates page installs a new certificate (`setSecureContext` resets ciphers).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPTED_TLS12, probe, REFUSED_TLS12, tls11, tls12 } from '../../relay/test/tls-probe.ts';
import type { Context } from '../src/server/context.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';

describe('portal TLS suites: AEAD with forward secrecy only (issue 17)', () => {
  let h: PortalHarness;
  let ctx: Context | undefined;

  beforeAll(async () => {
    h = await startPortalHarness({
      extraRoutes: [
        (_app, c) => {
          ctx = c;
        },
      ],
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses TLS 1.2 clients offering only a CBC, CCM or CCM8 suite, and TLS 1.1', async () => {
    const { port, tls } = h.portal;
    for (const cipher of REFUSED_TLS12)
      expect({ cipher, ok: (await tls12(port, tls.ca, cipher)).ok }).toEqual({ cipher, ok: false });
    expect((await tls11(port, tls.ca)).ok).toBe(false);
  });

  it('accepts TLS 1.2 with ECDHE + AES-GCM or ChaCha20-Poly1305, and TLS 1.3', async () => {
    const { port, tls } = h.portal;
    for (const cipher of ACCEPTED_TLS12)
      expect(await tls12(port, tls.ca, cipher)).toEqual({ ok: true, protocol: 'TLSv1.2', cipher });
    expect(await probe(port, { ca: tls.ca, minVersion: 'TLSv1.3' })).toMatchObject({
      ok: true,
      protocol: 'TLSv1.3',
    });
  });

  it('keeps the policy after the certificates page installs a new certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fluxel-portal-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
        .concat(['-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=localhost'])
        .concat(['-addext', 'subjectAltName=DNS:localhost']),
      { cwd: dir, stdio: 'pipe' },
    );
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    ctx?.tls.install(cert, readFileSync(join(dir, 'k.pem'), 'utf8'));
    const { port } = h.portal;
    expect((await tls12(port, cert, 'ECDHE-ECDSA-AES128-GCM-SHA256')).ok).toBe(true);
    expect((await tls12(port, cert, 'ECDHE-ECDSA-AES128-SHA256')).ok).toBe(false);
    expect((await tls12(port, cert, 'ECDHE-ECDSA-AES128-CCM8')).ok).toBe(false);
  });
});
