/**
 * Issue 17: the relay's HTTPS listener and its admin gRPC API offer TLS 1.2 only with ECDHE +
 * AEAD suites (AES-GCM, ChaCha20-Poly1305) — no CBC (LUCKY13), no CCM8 — and no TLS < 1.2;
 * TLS 1.3 stays. Probed with Node's TLS client offering one suite at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.ts';
import { ACCEPTED_TLS12, probe, REFUSED_TLS12, tls11, tls12 } from './tls-probe.ts';

const TOKEN = 'adm_4f9c2e7a1b8d6f3e0c5a9b2d7e1f4a8c';

describe('relay TLS suites: AEAD with forward secrecy only (issue 17)', () => {
  let h: Harness;
  let ca: string;
  let targets: { name: string; port: number; alpn?: string[] }[];

  beforeAll(async () => {
    h = await startHarness({ relay: { admin: { token: TOKEN } } });
    ca = h.relay.tls.ca;
    targets = [
      { name: 'https', port: h.relay.port },
      { name: 'admin gRPC', port: h.relay.adminPort as number, alpn: ['h2'] },
    ];
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses TLS 1.2 clients offering only a CBC, CCM or CCM8 suite (https and admin gRPC)', async () => {
    for (const t of targets)
      for (const cipher of REFUSED_TLS12) {
        const result = await tls12(t.port, ca, cipher, t.alpn ? { ALPNProtocols: t.alpn } : {});
        expect({ target: t.name, cipher, ok: result.ok }).toEqual({
          target: t.name,
          cipher,
          ok: false,
        });
      }
  });

  it('accepts TLS 1.2 with ECDHE + AES-GCM or ChaCha20-Poly1305, and TLS 1.3', async () => {
    for (const t of targets) {
      const alpn = t.alpn ? { ALPNProtocols: t.alpn } : {};
      for (const cipher of ACCEPTED_TLS12)
        expect(await tls12(t.port, ca, cipher, alpn)).toEqual({
          ok: true,
          protocol: 'TLSv1.2',
          cipher,
        });
      expect(await probe(t.port, { ca, minVersion: 'TLSv1.3', ...alpn })).toMatchObject({
        ok: true,
        protocol: 'TLSv1.3',
      });
    }
  });

  it('refuses TLS 1.1', async () => {
    for (const t of targets)
      expect(await tls11(t.port, ca, t.alpn ? { ALPNProtocols: t.alpn } : {})).toMatchObject({
        ok: false,
      });
  });
});
