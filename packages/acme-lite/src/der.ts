/**
 * A minimal DER (X.690) encoder and reader: exactly what a CSR and reading a certificate's
 * validity, serial, names and key identifiers need. Nothing here is general-purpose ASN.1.
 */
import { AcmeError } from './errors.js';

/** One DER element as read: tag byte, contents, and the full encoding. */
export interface DerNode {
  readonly tag: number;
  readonly value: Uint8Array;
  readonly raw: Uint8Array;
}

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Encodes one element from its tag and contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const size = contents.reduce((n, c) => n + c.length, 0);
  const head = lengthBytes(size);
  const out = new Uint8Array(1 + head.length + size);
  out[0] = tag;
  out.set(head, 1);
  let offset = 1 + head.length;
  for (const c of contents) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items);
export const set = (...items: Uint8Array[]): Uint8Array => tlv(0x31, ...items);
export const octets = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
export const utf8String = (text: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(text));
export const bitString = (bytes: Uint8Array): Uint8Array => tlv(0x03, new Uint8Array([0]), bytes);
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);

/** An unsigned big-endian integer (a leading zero is added when the top bit is set). */
export function uint(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const pad = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return tlv(0x02, ...(pad ? [new Uint8Array([0])] : []), trimmed);
}

/** Encodes a dotted object identifier. */
export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [(parts[0] as number) * 40 + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128))
      chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/** Decodes the contents of an OBJECT IDENTIFIER. */
export function oidText(value: Uint8Array): string {
  const first = value[0] ?? 0;
  const parts = [
    Math.min(2, Math.floor(first / 40)),
    first - Math.min(2, Math.floor(first / 40)) * 40,
  ];
  let n = 0;
  for (const byte of value.subarray(1)) {
    n = n * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function bad(): never {
  throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'malformed DER');
}

/** Reads the element at `offset`; returns it and the offset after it. */
export function readNode(bytes: Uint8Array, offset = 0): { node: DerNode; next: number } {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  if (tag === undefined || length === undefined) bad();
  let p = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) bad();
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[p++] ?? bad());
  }
  const end = p + length;
  if (end > bytes.length) bad();
  return {
    node: { tag, value: bytes.subarray(p, end), raw: bytes.subarray(offset, end) },
    next: end,
  };
}

/** The children of a constructed element. */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let offset = 0; offset < node.value.length; ) {
    const { node: child, next } = readNode(node.value, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

/** Parses a UTCTime or GeneralizedTime. */
export function derTime(node: DerNode): Date {
  const text = new TextDecoder().decode(node.value);
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) bad();
  let year = Number(match[1]);
  if (node.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(
    Date.UTC(
      year,
      Number(match[2]) - 1,
      Number(match[3]),
      Number(match[4]),
      Number(match[5]),
      Number(match[6]),
    ),
  );
}

/** The bytes of every PEM block labelled `label`. */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const out: Uint8Array[] = [];
  const name = label.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  // eslint-disable-next-line security/detect-non-literal-regexp -- the label is escaped above
  const re = new RegExp(`-----BEGIN ${name}-----([\\s\\S]*?)-----END ${name}-----`, 'g');
  for (const match of pem.matchAll(re)) {
    const binary = atob((match[1] ?? '').replace(/\s+/g, ''));
    out.push(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  return out;
}

/** PEM of DER bytes. */
export function toPem(der: Uint8Array, label: string): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
