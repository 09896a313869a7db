import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createCsr,
  exportKeyPem,
  generateAccountKey,
  generateCertKey,
  importKeyPem,
  jwkThumbprint,
  parseCertificatePem,
  signJws,
  splitChain,
  toIdentifier,
} from '../src/index.ts';
import { ipBytes } from '../src/x509.ts';
import { makeCa, pebbleAvailable } from './pebble-harness.ts';

const hasOpenssl =
  pebbleAvailable() ||
  (() => {
    try {
      execFileSync('openssl', ['version']);
      return true;
    } catch {
      return false;
    }
  })();

function toPem(der: Uint8Array, label: string) {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

describe('CSR', () => {
  it.skipIf(!hasOpenssl)(
    'openssl verifies our EC and RSA CSRs and reads the SANs (DNS and IP)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'acme-lite-csr-'));
      for (const kind of [{ type: 'ec' as const }, { type: 'rsa' as const, bits: 2048 }]) {
        const key = await generateCertKey(kind);
        const csr = await createCsr(
          ['example.org', 'www.example.org', '192.0.2.7', '2001:db8::1'],
          key,
        );
        writeFileSync(join(dir, 'csr.pem'), toPem(csr, 'CERTIFICATE REQUEST'));
        const text = execFileSync(
          'openssl',
          ['req', '-in', join(dir, 'csr.pem'), '-noout', '-verify', '-text'],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
        expect(text).toMatch(/CN ?= ?example\.org/);
        expect(text).toContain(
          'DNS:example.org, DNS:www.example.org, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1',
        );
        expect(text).toContain(kind.type === 'ec' ? 'prime256v1' : 'Public-Key: (2048 bit)');
      }
    },
  );

  it('refuses small RSA keys and empty identifier lists', async () => {
    await expect(generateCertKey({ type: 'rsa', bits: 1024 })).rejects.toMatchObject({
      code: 'ERR_ACME_INVALID_ARGUMENT',
    });
    await expect(createCsr([], await generateCertKey())).rejects.toMatchObject({
      code: 'ERR_ACME_INVALID_ARGUMENT',
    });
  });

  it('exports the key as PKCS #8 that imports back for signing', async () => {
    const key = await generateCertKey();
    const pem = await exportKeyPem(key.privateKey);
    const imported = await importKeyPem(pem);
    expect(imported.alg).toBe('ES256');
    await expect(importKeyPem('nope')).rejects.toMatchObject({ code: 'ERR_ACME_INVALID_ARGUMENT' });
  });
});

describe('identifiers', () => {
  it('maps IPs to ip identifiers (RFC 8738) and validates names', () => {
    expect(toIdentifier('Example.ORG')).toEqual({ type: 'dns', value: 'example.org' });
    expect(toIdentifier('192.0.2.1')).toEqual({ type: 'ip', value: '192.0.2.1' });
    expect(toIdentifier('2001:db8::1')).toEqual({ type: 'ip', value: '2001:db8::1' });
    for (const bad of ['', 'exa mple.org', '-x.org', 'a/b', '../x'])
      expect(() => toIdentifier(bad)).toThrow();
    expect([...(ipBytes('::1') ?? [])]).toEqual([...Array(15).fill(0), 1]);
    expect(ipBytes('256.1.1.1')).toBeUndefined();
    expect(ipBytes('1::2::3')).toBeUndefined();
  });
});

describe('certificate parsing', () => {
  it.skipIf(!hasOpenssl)('agrees with node:crypto X509Certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acme-lite-x509-'));
    const { certPem, caPem } = makeCa(dir, ['example.org', '127.0.0.1']);
    const ours = parseCertificatePem(certPem + caPem);
    const node = new X509Certificate(certPem);
    expect(ours.serial).toBe(node.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(ours.notAfter.getTime()).toBe(Date.parse(node.validTo));
    expect(ours.notBefore.getTime()).toBe(Date.parse(node.validFrom));
    expect(ours.sans).toEqual(['example.org', '127.0.0.1']);
    expect(ours.subject).toBe('CN=example.org');
    expect(ours.issuer).toBe('CN=acme-lite test CA');
    // ARI id = base64url(AKI keyIdentifier) "." base64url(serial DER bytes)
    const akiHex = execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], {
      input: certPem,
      encoding: 'utf8',
    })
      .replace(/^[\s\S]*?\n\s*(?:keyid:)?([0-9A-F:]+)\s*$/i, '$1')
      .replace(/:/g, '');
    const serialBytes = Buffer.from(
      node.serialNumber.length % 2 ? `0${node.serialNumber}` : node.serialNumber,
      'hex',
    );
    const serialDer =
      (serialBytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), serialBytes]) : serialBytes;
    expect(ours.ariId).toBe(
      `${Buffer.from(akiHex, 'hex').toString('base64url')}.${serialDer.toString('base64url')}`,
    );
    expect(splitChain(certPem + caPem).chain).toContain('BEGIN CERTIFICATE');
    expect(() => splitChain('nothing')).toThrow();
  });
});

describe('JWS', () => {
  it('computes the RFC 7638 §3.1 thumbprint', async () => {
    const jwk = {
      kty: 'RSA' as const,
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    };
    expect(await jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('signs ES256 JWS that verifies with Web Crypto (P1363 signature, 64 bytes)', async () => {
    const { key } = await generateAccountKey();
    const jws = await signJws(key, { nonce: 'n', url: 'https://ca/x' }, { hello: 1 });
    expect(JSON.parse(Buffer.from(jws.protected, 'base64url').toString())).toEqual({
      alg: 'ES256',
      nonce: 'n',
      url: 'https://ca/x',
    });
    const verifyKey = await crypto.subtle.importKey(
      'jwk',
      key.publicJwk as JsonWebKey,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const sig = Buffer.from(jws.signature, 'base64url');
    expect(sig.length).toBe(64);
    expect(
      await crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        verifyKey,
        sig,
        new TextEncoder().encode(`${jws.protected}.${jws.payload}`),
      ),
    ).toBe(true);
    expect((await signJws(key, {}, undefined)).payload).toBe('');
  });
});
