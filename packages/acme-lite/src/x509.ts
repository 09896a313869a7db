/**
 * Certificate keys, CSRs (PKCS #10 with a subjectAltName extension request) and the few
 * certificate fields ACME needs (validity, serial, names, authority key id for ARI), on Web
 * Crypto and a small DER codec. IP identifiers (RFC 8738) go into iPAddress SANs.
 */
import { b64u } from '../../internal/src/base64url.js';
import {
  bitString,
  children,
  type DerNode,
  derTime,
  explicit,
  octets,
  oid,
  oidText,
  pemBlocks,
  readNode,
  seq,
  set,
  tlv,
  toPem,
  uint,
  utf8String,
} from './der.js';
import { AcmeError } from './errors.js';

/**
 * The kind of certificate key: ECDSA P-256 (default) or RSA with at least 2048 bits.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CertKeyType, generateCertKey } from '@fluxel/acme-lite';
 *
 * const kind: CertKeyType = { type: 'rsa', bits: 2048 }; // for old clients; ECDSA is the default
 * const key = await generateCertKey(kind);
 * assert.equal(key.privateKey.algorithm.name, 'RSASSA-PKCS1-v1_5');
 * ```
 */
export type CertKeyType =
  | { readonly type: 'ec' }
  | { readonly type: 'rsa'; readonly bits?: number };

/**
 * A certificate key pair; the private key is extractable so the caller's store can keep it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CertKey, createCsr, generateCertKey } from '@fluxel/acme-lite';
 *
 * const key: CertKey = await generateCertKey();
 * assert.equal(key.privateKey.extractable, true); // so the store can keep it
 * assert.equal((await createCsr(['shop.example.org'], key))[0], 0x30);
 * ```
 */
export interface CertKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/**
 * Generates a certificate key (ECDSA P-256 unless RSA is asked for).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { generateCertKey } from '@fluxel/acme-lite';
 *
 * const key = await generateCertKey();
 * assert.deepEqual(key.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
 * ```
 */
export async function generateCertKey(kind: CertKeyType = { type: 'ec' }): Promise<CertKey> {
  if (kind.type === 'rsa') {
    const bits = kind.bits ?? 2048;
    if (bits < 2048)
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        'RSA certificate keys need 2048 bits or more',
      );
    return (await subtle().generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: bits,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
  }
  return (await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

/**
 * The PKCS #8 PEM of a certificate's private key (what node:tls takes as `key`).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { exportKeyPem, generateCertKey } from '@fluxel/acme-lite';
 *
 * const pem = await exportKeyPem((await generateCertKey()).privateKey);
 * assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/); // key.pem of the store
 * ```
 */
export async function exportKeyPem(key: CryptoKey): Promise<string> {
  return toPem(new Uint8Array(await subtle().exportKey('pkcs8', key)), 'PRIVATE KEY');
}

/** Parses an IPv4 or IPv6 literal into its bytes; `undefined` when it is not one. */
export function ipBytes(text: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? new Uint8Array(parts) : undefined;
  }
  if (!text.includes(':') || !/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const [head = '', tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const groups = [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/**
 * Builds a DER CSR for the identifiers (DNS names and IP addresses), signed by `key`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createCsr, generateCertKey } from '@fluxel/acme-lite';
 *
 * // The CSR (DER) that AcmeClient.finalize() sends: a DNS name and an IP address.
 * const csr = await createCsr(['shop.example.org', '192.0.2.10'], await generateCertKey());
 * assert.equal(csr[0], 0x30); // a DER SEQUENCE
 * assert.ok(Buffer.from(csr).includes(Buffer.from('shop.example.org')));
 * ```
 */
export async function createCsr(identifiers: readonly string[], key: CertKey): Promise<Uint8Array> {
  if (identifiers.length === 0)
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'a CSR needs at least one identifier');
  const names = identifiers.map((id) => {
    const ip = ipBytes(id);
    return ip ? tlv(0x87, ip) : tlv(0x82, new TextEncoder().encode(id));
  });
  const cn = identifiers.find((id) => !ipBytes(id) && id.length <= 64);
  const subject = cn ? seq(set(seq(oid('2.5.4.3'), utf8String(cn)))) : seq();
  const spki = new Uint8Array(await subtle().exportKey('spki', key.publicKey));
  const extensions = seq(seq(oid('2.5.29.17'), octets(seq(...names))));
  const attributes = explicit(0, seq(oid('1.2.840.113549.1.9.14'), set(extensions)));
  const info = seq(uint(new Uint8Array([0])), subject, spki, attributes);
  const isEc = key.privateKey.algorithm.name === 'ECDSA';
  const signature = new Uint8Array(
    await subtle().sign(
      isEc ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' },
      key.privateKey,
      info as Uint8Array<ArrayBuffer>,
    ),
  );
  const algorithm = isEc
    ? seq(oid('1.2.840.10045.4.3.2'))
    : seq(oid('1.2.840.113549.1.1.11'), new Uint8Array([5, 0]));
  const sigValue = isEc
    ? seq(uint(signature.subarray(0, 32)), uint(signature.subarray(32)))
    : signature;
  return seq(info, algorithm, bitString(sigValue));
}

/**
 * The fields of a certificate that ACME and its users care about.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { type CertificateInfo, parseCertificatePem } from '@fluxel/acme-lite';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const info: CertificateInfo = parseCertificatePem(certPem);
 * const daysLeft = Math.floor((info.notAfter.getTime() - Date.now()) / 86_400_000);
 * assert.ok(daysLeft > 0);
 * assert.deepEqual(info.sans, ['localhost']);
 * ```
 */
export interface CertificateInfo {
  /** Serial number, lower-case hex without leading zeros. */
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  /** DNS names and IP addresses of the subjectAltName extension. */
  readonly sans: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The RFC 9773 certificate identifier (`base64url(AKI keyIdentifier).base64url(serial)`), when the certificate has an AKI. */
  readonly ariId?: string;
}

const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

function nameText(node: DerNode): string {
  const parts: string[] = [];
  for (const rdn of children(node)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) continue;
      const key = oidText(type.value);
      parts.push(`${NAME_OIDS[key] ?? key}=${new TextDecoder().decode(value.value)}`);
    }
  }
  return parts.join(', ');
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads one DER certificate.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { parseCertificate } from '@fluxel/acme-lite';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const der = new Uint8Array(Buffer.from(certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
 * const info = parseCertificate(der);
 * assert.equal(info.serial, '1d0c5e0f3a7b');
 * assert.equal(info.notBefore.toISOString(), '2026-01-01T00:00:00.000Z');
 * ```
 */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  const cert = readNode(der).node;
  const tbs = children(cert)[0];
  if (!tbs) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'not a certificate');
  const fields = children(tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [serialNode, , issuer, validity, subject] = fields.slice(offset);
  if (!serialNode || !issuer || !validity || !subject)
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'not a certificate');
  const [notBefore, notAfter] = children(validity);
  if (!notBefore || !notAfter)
    throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'not a certificate');
  const sans: string[] = [];
  let aki: Uint8Array | undefined;
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    const [list] = children(extensions);
    for (const ext of list ? children(list) : []) {
      const parts = children(ext);
      const id = parts[0] ? oidText(parts[0].value) : '';
      const value = parts[parts.length - 1];
      if (!value) continue;
      if (id === '2.5.29.17') {
        for (const name of children(readNode(value.value).node)) {
          if (name.tag === 0x82) sans.push(new TextDecoder().decode(name.value));
          else if (name.tag === 0x87) sans.push(ipText(name.value));
        }
      } else if (id === '2.5.29.35') {
        aki = children(readNode(value.value).node).find((n) => n.tag === 0x80)?.value;
      }
    }
  }
  const serialHex = hex(serialNode.value).replace(/^0+(?=.)/, '');
  return {
    serial: serialHex,
    subject: nameText(subject),
    issuer: nameText(issuer),
    sans,
    notBefore: derTime(notBefore),
    notAfter: derTime(notAfter),
    ...(aki ? { ariId: `${b64u(aki)}.${b64u(serialNode.value)}` } : {}),
  };
}

/**
 * Reads the first certificate of a PEM chain.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { parseCertificatePem } from '@fluxel/acme-lite';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * const info = parseCertificatePem(certPem);
 * assert.equal(info.subject, 'CN=localhost');
 * assert.equal(info.issuer, 'CN=localhost'); // self-signed
 * assert.ok(info.ariId); // RFC 9773 certificate identifier (AKI.serial)
 * ```
 */
export function parseCertificatePem(pem: string): CertificateInfo {
  const [first] = pemBlocks(pem);
  if (!first) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'no certificate in the PEM text');
  return parseCertificate(first);
}

/**
 * Splits a PEM chain into the leaf and the rest.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { splitChain } from '@fluxel/acme-lite';
 *
 * const certPem = [
 *   '-----BEGIN CERTIFICATE-----',
 *   'MIIBhjCCASugAwIBAgIGHQxeDzp7MAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxv',
 *   'Y2FsaG9zdDAeFw0yNjAxMDEwMDAwMDBaFw00NjAxMDEwMDAwMDBaMBQxEjAQBgNV',
 *   'BAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLVq8/PSGA1R',
 *   'ogKapkchGNFzlyKygncyRRq0CKLkjqK3yAQUIvUqg6xvFCATh1PaM0K2NCm7WVdW',
 *   '+c9Hun9kXQ6jaTBnMBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTAD',
 *   'AQH/MB0GA1UdDgQWBBQCV4PxbW2wgdQCeoPwIucNj6Sv4zAfBgNVHSMEGDAWgBQC',
 *   'V4PxbW2wgdQCeoPwIucNj6Sv4zAKBggqhkjOPQQDAgNJADBGAiEAgSC9F25z50fI',
 *   'A+sMkfxj5tTJZGnutaEDCFU/C2/UApECIQCedkLa+6/K5u+pMoFEx0FLOlwMDtzM',
 *   'C/vULeWAAP0c8g==',
 *   '-----END CERTIFICATE-----',
 * ].join('\n');
 * // What the CA's certificate URL returns: the leaf, then the intermediates.
 * const { cert, chain } = splitChain(`${certPem}\n${certPem}\n`);
 * assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
 * assert.equal(chain.split('BEGIN CERTIFICATE').length - 1, 1);
 * ```
 */
export function splitChain(pem: string): { cert: string; chain: string } {
  const blocks = pemBlocks(pem).map((der) => toPem(der, 'CERTIFICATE'));
  if (blocks.length === 0)
    throw new AcmeError('ERR_ACME_PROBLEM', 'the CA returned no certificate in the chain');
  return { cert: blocks[0] as string, chain: blocks.slice(1).join('') };
}
