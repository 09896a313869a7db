import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDevTls } from '../src/tls.ts';

describe('dev TLS', () => {
  it('makes a CA and a 127.0.0.1 server certificate once, then reuses them', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fluxel-tls-')), 'tls');
    const first = ensureDevTls(dir);
    const ca = new X509Certificate(first.ca);
    const server = new X509Certificate(first.cert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    const again = ensureDevTls(dir);
    expect(again.ca).toBe(first.ca);
    expect(again.key).toBe(first.key);
    expect(again.caPath).toBe(join(dir, 'ca.pem'));
  });
});
