/**
 * Privacy before hashing: redaction of configured paths, keyed pseudonymisation per tenant,
 * and encryption of PII fields under a per-subject key (crypto-shredding: erase the key and
 * the data is gone while the hash chain, computed over the ciphertext, still verifies).
 */
import { fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding.js';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import { aesGcmDecrypt, aesGcmEncrypt, hmacSha256, randomBytes } from './primitives.js';

/**
 * What a redacted value is replaced with.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createPrivacy, normalizeEvent, REDACTED } from '@fluxel/audit';
 *
 * const privacy = createPrivacy({ redact: ['data.password'] });
 * const event = await privacy(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'auth.login', outcome: 'failure', data: { password: 'hunter2' } }),
 * );
 * assert.equal(event.data?.password, REDACTED);
 * ```
 */
export const REDACTED = '[REDACTED]';

/**
 * A path into an event: dot-separated keys, `*` matching any one key (or array index),
 * e.g. `data.password`, `data.*.token`, `actor.userAgent`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createPrivacy, type FieldPath, normalizeEvent } from '@fluxel/audit';
 *
 * const paths: FieldPath[] = ['data.password', 'data.*.token', 'actor.userAgent'];
 * const event = await createPrivacy({ redact: paths })(
 *   normalizeEvent({
 *     tenant: 'acme',
 *     actor: { type: 'service', id: 'billing', userAgent: 'billing/1.0' },
 *     action: 'api.call',
 *     outcome: 'success',
 *     data: { github: { token: 'ghp_x' }, gitlab: { token: 'glpat_y' } },
 *   }),
 * );
 * assert.deepEqual(event.data, { github: { token: '[REDACTED]' }, gitlab: { token: '[REDACTED]' } });
 * assert.equal(event.actor.userAgent, '[REDACTED]');
 * ```
 */
export type FieldPath = string;

type Visitor = (value: unknown, path: string) => unknown;

function splitPath(path: FieldPath): string[] {
  const parts = path.split('.');
  if (parts.some((p) => p === ''))
    throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `bad field path ${JSON.stringify(path)}`);
  return parts;
}

/** Applies `visit` to every value at `parts` below `node`, replacing it in place. */
function visitPath(
  node: unknown,
  parts: string[],
  index: number,
  trail: string,
  visit: Visitor,
): void {
  if (node === null || typeof node !== 'object') return;
  const key = parts[index] as string;
  const last = index === parts.length - 1;
  const container = node as Record<string, unknown>;
  const keys = key === '*' ? Object.keys(container) : Object.hasOwn(container, key) ? [key] : [];
  for (const k of keys) {
    const here = trail ? `${trail}.${k}` : k;
    if (last) {
      if (container[k] !== undefined) container[k] = visit(container[k], here);
    } else visitPath(container[k], parts, index + 1, here, visit);
  }
}

function cloneEvent(event: AuditEvent): AuditEvent {
  return structuredClone(event);
}

/**
 * Options of {@link createPrivacy}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, createPrivacy, generateSigningKey, MemoryStore, MemorySubjectKeyStore, type PrivacyOptions } from '@fluxel/audit';
 *
 * const options: PrivacyOptions = {
 *   redact: ['data.password'],
 *   pseudonymize: { paths: ['actor.ip'], key: crypto.getRandomValues(new Uint8Array(32)) }, // one secret, a key per tenant
 *   encrypt: { paths: ['data.email'], keys: new MemorySubjectKeyStore() },
 * };
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: createPrivacy(options) });
 * await log.append({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann', ip: '192.0.2.10' },
 *   action: 'auth.login',
 *   outcome: 'failure',
 *   data: { password: 'hunter2', email: 'ann@acme.example' },
 * });
 * await log.close();
 * const stored = store.records[1]!.line; // what is hashed and kept
 * assert.ok(!stored.includes('hunter2') && !stored.includes('192.0.2.10') && !stored.includes('ann@acme.example'));
 * ```
 */
export interface PrivacyOptions {
  /** Paths whose values are replaced by `[REDACTED]` before hashing. */
  readonly redact?: readonly FieldPath[];
  /** Pseudonymisation: string values at `paths` become `ps_<HMAC>` under a key per tenant. */
  readonly pseudonymize?: {
    readonly paths: readonly FieldPath[];
    /** The key of a tenant (≥ 32 bytes), or one secret from which per-tenant keys are derived. */
    readonly key: Uint8Array | ((tenant: string) => Uint8Array);
  };
  /**
   * Encryption of PII fields under a per-subject key: with the built-in AES-256-GCM over a
   * {@link SubjectKeyStore} (`keys`, synchronous), or with your own {@link FieldCipher}
   * (`cipher`, may be asynchronous). Exactly one of the two.
   */
  readonly encrypt?: {
    readonly paths: readonly FieldPath[];
    readonly keys?: SubjectKeyStore;
    readonly cipher?: FieldCipher;
    /** The data subject of an event; default `<tenant>/<actor.id>`. */
    readonly subject?: (event: AuditEvent) => string;
  };
}

/**
 * Transforms an event before it is hashed; returns a new object (a promise when an
 * asynchronous {@link FieldCipher} is used — the log keeps the call order).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, generateSigningKey, MemoryStore, type PrivacyTransform } from '@fluxel/audit';
 *
 * // Your own transform: here, keep only the domain of e-mail addresses.
 * const domainsOnly: PrivacyTransform = (event) => ({
 *   ...event,
 *   actor: { ...event.actor, id: event.actor.id.replace(/^[^@]+@/, '*@') },
 * });
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: domainsOnly });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann@acme.example' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * assert.equal(store.records[1]?.event?.actor.id, '*@acme.example');
 * ```
 */
export type PrivacyTransform = (event: AuditEvent) => AuditEvent | Promise<AuditEvent>;

/**
 * Encrypts PII fields with keys held elsewhere (a KMS, `@fluxel/crypto` subject keys).
 * `encrypt` returns an opaque text; `decrypt` returns the plaintext, or `undefined` when the
 * subject's key was destroyed (crypto-shredded). `aad` binds a ciphertext to its event id
 * and field path; a cipher must authenticate it.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
 * import { AuditLog, createPrivacy, decryptEventWith, type FieldCipher, MemoryStore, generateSigningKey } from '@fluxel/audit';
 *
 * // A stand-in for a KMS: one AES-256-GCM key per subject, held elsewhere.
 * const kms = new Map<string, Buffer>();
 * const cipher: FieldCipher = {
 *   encrypt(subject, plaintext, aad) {
 *     const key = kms.get(subject) ?? randomBytes(32);
 *     kms.set(subject, key);
 *     const iv = randomBytes(12);
 *     const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
 *     const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
 *     return `${subject}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
 *   },
 *   decrypt(text, aad) {
 *     const [subject = '', iv = '', ct = ''] = text.split('.');
 *     const key = kms.get(subject);
 *     if (!key) return undefined; // destroyed: crypto-shredded
 *     const body = Buffer.from(ct, 'base64url');
 *     const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(aad);
 *     d.setAuthTag(body.subarray(-16));
 *     return new Uint8Array(Buffer.concat([d.update(body.subarray(0, -16)), d.final()]));
 *   },
 * };
 *
 * const store = new MemoryStore();
 * const privacy = createPrivacy({ encrypt: { paths: ['data.email'], cipher } });
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@acme.example' } });
 * await log.close();
 * const stored = store.records[1]!.event!;
 * assert.equal((await decryptEventWith(stored, cipher)).data?.email, 'ann@acme.example');
 * ```
 */
export interface FieldCipher {
  encrypt(subject: string, plaintext: Uint8Array, aad: Uint8Array): string | Promise<string>;
  decrypt(
    ciphertext: string,
    aad: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/**
 * A field encrypted by a {@link FieldCipher}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
 * import { AuditLog, createPrivacy, type ExternalEncryptedField, type FieldCipher, MemoryStore, generateSigningKey } from '@fluxel/audit';
 *
 * // A stand-in for a KMS: one AES-256-GCM key per subject, held elsewhere.
 * const kms = new Map<string, Buffer>();
 * const cipher: FieldCipher = {
 *   encrypt(subject, plaintext, aad) {
 *     const key = kms.get(subject) ?? randomBytes(32);
 *     kms.set(subject, key);
 *     const iv = randomBytes(12);
 *     const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
 *     const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
 *     return `${subject}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
 *   },
 *   decrypt(text, aad) {
 *     const [subject = '', iv = '', ct = ''] = text.split('.');
 *     const key = kms.get(subject);
 *     if (!key) return undefined; // destroyed: crypto-shredded
 *     const body = Buffer.from(ct, 'base64url');
 *     const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(aad);
 *     d.setAuthTag(body.subarray(-16));
 *     return new Uint8Array(Buffer.concat([d.update(body.subarray(0, -16)), d.final()]));
 *   },
 * };
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: createPrivacy({ encrypt: { paths: ['data.email'], cipher } }) });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@acme.example' } });
 * await log.close();
 * const field = store.records[1]!.event!.data?.email as ExternalEncryptedField;
 * assert.equal(field.$enc, 'external');
 * assert.ok(!field.ct.includes('ann@acme.example'));
 * ```
 */
export interface ExternalEncryptedField {
  readonly $enc: 'external';
  readonly ct: string;
}

/**
 * Builds the privacy transform the log applies to every event before hashing: redaction
 * first, then pseudonymisation, then encryption. The pseudonym of a value is stable per
 * tenant (so alert rules and queries still group by it) and unlinkable across tenants.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, createPrivacy, decryptEvent, generateSigningKey, MemoryStore, MemorySubjectKeyStore, verifyLines } from '@fluxel/audit';
 *
 * const keys = new MemorySubjectKeyStore();
 * const privacy = createPrivacy({
 *   redact: ['data.password'],
 *   pseudonymize: { paths: ['actor.ip'], key: (tenant) => new TextEncoder().encode(`tenant secret of ${tenant}`.padEnd(32, '.')) },
 *   encrypt: { paths: ['data.email'], keys },
 * });
 * const store = new MemoryStore();
 * const signingKey = generateSigningKey();
 * const log = await AuditLog.open({ store, signingKey, privacy });
 * await log.append({
 *   tenant: 'acme',
 *   actor: { type: 'user', id: 'ann', ip: '192.0.2.10' },
 *   action: 'auth.login',
 *   outcome: 'failure',
 *   data: { password: 'hunter2', email: 'ann@acme.example' },
 * });
 * await log.close();
 * const event = store.records[1]!.event!;
 * assert.equal(event.data?.password, '[REDACTED]');
 * assert.match(event.actor.ip ?? '', /^ps_/);
 * assert.equal(decryptEvent(event, keys).data?.email, 'ann@acme.example');
 * keys.erase('acme/ann'); // crypto-shredding: the chain still verifies
 * assert.equal(decryptEvent(event, keys).data?.email, '[ERASED]');
 * assert.equal(verifyLines(store.lines(), { publicKeys: [signingKey] }).ok, true);
 * ```
 */
export function createPrivacy(options: PrivacyOptions): PrivacyTransform {
  const redact = (options.redact ?? []).map(splitPath);
  const pseudo = options.pseudonymize;
  const pseudoPaths = (pseudo?.paths ?? []).map(splitPath);
  const enc = options.encrypt;
  if (enc && (enc.keys === undefined) === (enc.cipher === undefined))
    throw new AuditError(
      'ERR_AUDIT_INVALID_ARGUMENT',
      'encrypt needs exactly one of keys or cipher',
    );
  const encPaths = (enc?.paths ?? []).map(splitPath);
  const tenantKeys = new Map<string, Uint8Array>();
  const tenantKey = (tenant: string): Uint8Array => {
    if (!pseudo) throw new Error('unreachable');
    let key = tenantKeys.get(tenant);
    if (!key) {
      if (typeof pseudo.key === 'function') key = pseudo.key(tenant);
      else key = hmacSha256(pseudo.key, utf8(`fluxel-audit pseudonym v1\n${tenant}`));
      if (key.length < 32)
        throw new AuditError(
          'ERR_AUDIT_INVALID_KEY',
          'a pseudonymisation key has at least 32 bytes',
        );
      if (tenantKeys.size > 10_000) tenantKeys.clear();
      tenantKeys.set(tenant, key);
    }
    return key;
  };
  if (pseudo && typeof pseudo.key !== 'function' && pseudo.key.length < 32)
    throw new AuditError('ERR_AUDIT_INVALID_KEY', 'a pseudonymisation key has at least 32 bytes');
  return (input) => {
    const event = cloneEvent(input);
    for (const parts of redact) visitPath(event, parts, 0, '', () => REDACTED);
    if (pseudo) {
      const key = tenantKey(event.tenant);
      for (const parts of pseudoPaths)
        visitPath(event, parts, 0, '', (value) =>
          typeof value === 'string' ? pseudonymize(key, value) : value,
        );
    }
    if (enc) {
      const subject = enc.subject ? enc.subject(input) : `${input.tenant}/${input.actor.id}`;
      if (enc.cipher) {
        const cipher = enc.cipher;
        const jobs: Promise<void>[] = [];
        for (const parts of encPaths)
          visitPath(event, parts, 0, '', (value, path) => {
            const slot: { $enc: 'external'; ct: string } = { $enc: 'external', ct: '' };
            const ct = cipher.encrypt(subject, utf8(JSON.stringify(value)), aad(event.id, path));
            jobs.push(
              Promise.resolve(ct).then((text) => {
                slot.ct = text;
              }),
            );
            return slot;
          });
        return Promise.all(jobs).then(() => event);
      }
      const { kid, key } = (enc.keys as SubjectKeyStore).keyFor(subject);
      for (const parts of encPaths)
        visitPath(event, parts, 0, '', (value, path) =>
          encryptValue(key, kid, event.id, path, value),
        );
    }
    return event;
  };
}

/**
 * The pseudonym of a value under a tenant key: `ps_` + base64url of 16 bytes of HMAC-SHA-256.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { pseudonymize } from '@fluxel/audit';
 *
 * const acmeKey = crypto.getRandomValues(new Uint8Array(32));
 * const otherKey = crypto.getRandomValues(new Uint8Array(32));
 * const p = pseudonymize(acmeKey, '192.0.2.10');
 * assert.match(p, /^ps_[\w-]{22}$/);
 * assert.equal(pseudonymize(acmeKey, '192.0.2.10'), p); // stable within a tenant
 * assert.notEqual(pseudonymize(otherKey, '192.0.2.10'), p); // unlinkable across tenants
 * ```
 */
export function pseudonymize(tenantKey: Uint8Array, value: string): string {
  return `ps_${toBase64url(hmacSha256(tenantKey, utf8(value)).subarray(0, 16))}`;
}

/**
 * An encrypted field as stored in an event.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, createPrivacy, type EncryptedField, generateSigningKey, MemoryStore, MemorySubjectKeyStore } from '@fluxel/audit';
 *
 * const store = new MemoryStore();
 * const privacy = createPrivacy({ encrypt: { paths: ['data.email'], keys: new MemorySubjectKeyStore() } });
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@acme.example' } });
 * await log.close();
 * const field = store.records[1]!.event!.data?.email as EncryptedField;
 * assert.equal(field.$enc, 'A256GCM');
 * assert.equal(typeof field.kid, 'string');
 * ```
 */
export interface EncryptedField {
  readonly $enc: 'A256GCM';
  /** Id of the subject key (random, reveals nothing about the subject). */
  readonly kid: string;
  readonly iv: string;
  readonly ct: string;
}

function aad(eventId: string, path: string): Uint8Array {
  return utf8(`fluxel-audit field v1\n${eventId}\n${path}`);
}

function encryptValue(
  key: Uint8Array,
  kid: string,
  eventId: string,
  path: string,
  value: unknown,
): EncryptedField {
  const iv = randomBytes(12);
  const ct = aesGcmEncrypt(key, iv, utf8(JSON.stringify(value)), aad(eventId, path));
  return { $enc: 'A256GCM', kid, iv: toBase64url(iv), ct: toBase64url(ct) };
}

function isEncrypted(value: unknown): value is EncryptedField {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { $enc?: unknown }).$enc === 'A256GCM' &&
    typeof (value as EncryptedField).kid === 'string'
  );
}

/**
 * What a field whose subject key was erased reads as after {@link decryptEvent}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditLog, createPrivacy, decryptEvent, ERASED, generateSigningKey, MemoryStore, MemorySubjectKeyStore } from '@fluxel/audit';
 *
 * const keys = new MemorySubjectKeyStore();
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: createPrivacy({ encrypt: { paths: ['actor.name'], keys } }) });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann', name: 'Ann Example' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * keys.erase('acme/ann');
 * assert.equal(decryptEvent(store.records[1]!.event!, keys).actor.name, ERASED);
 * ```
 */
export const ERASED = '[ERASED]';

/**
 * Returns a copy of the event with every encrypted field decrypted, or replaced by
 * `[ERASED]` when its subject key was deleted.
 *
 * @throws `AuditError` `ERR_AUDIT_DECRYPTION_FAILED` when a ciphertext does not authenticate
 * (tampered, or moved to another event or field).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, AuditLog, createPrivacy, decryptEvent, generateSigningKey, MemoryStore, MemorySubjectKeyStore } from '@fluxel/audit';
 *
 * const keys = new MemorySubjectKeyStore();
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: createPrivacy({ encrypt: { paths: ['data.email'], keys } }) });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@acme.example' } });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@new.example' } });
 * await log.close();
 * const [first, second] = [store.records[1]!.event!, store.records[2]!.event!];
 * assert.equal(decryptEvent(first, keys).data?.email, 'ann@acme.example');
 * // A ciphertext moved to another event does not decrypt.
 * const moved = { ...second, data: { email: first.data?.email } };
 * assert.throws(() => decryptEvent(moved, keys), (e) => AuditError.isInstance(e) && e.code === 'ERR_AUDIT_DECRYPTION_FAILED');
 * ```
 */
export function decryptEvent(event: AuditEvent, keys: SubjectKeyStore): AuditEvent {
  const copy = cloneEvent(event);
  const walk = (node: unknown, trail: string): unknown => {
    if (isEncrypted(node)) {
      const key = keys.keyById(node.kid);
      if (!key) return ERASED;
      const plain = aesGcmDecrypt(
        key,
        fromBase64url(node.iv),
        fromBase64url(node.ct),
        aad(copy.id, trail),
      );
      return JSON.parse(fromUtf8(plain)) as unknown;
    }
    if (node === null || typeof node !== 'object') return node;
    const container = node as Record<string, unknown>;
    for (const k of Object.keys(container))
      container[k] = walk(container[k], trail ? `${trail}.${k}` : k);
    return container;
  };
  return walk(copy, '') as AuditEvent;
}

function isExternal(value: unknown): value is ExternalEncryptedField {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { $enc?: unknown }).$enc === 'external' &&
    typeof (value as ExternalEncryptedField).ct === 'string'
  );
}

/**
 * Like {@link decryptEvent}, for fields encrypted by a {@link FieldCipher}: returns a copy
 * with each field decrypted, or `[ERASED]` where the cipher reports the key destroyed.
 *
 * @throws `AuditError` `ERR_AUDIT_DECRYPTION_FAILED` when a ciphertext does not decrypt.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
 * import { AuditLog, createPrivacy, decryptEventWith, ERASED, type FieldCipher, MemoryStore, generateSigningKey } from '@fluxel/audit';
 *
 * // A stand-in for a KMS: one AES-256-GCM key per subject, held elsewhere.
 * const kms = new Map<string, Buffer>();
 * const cipher: FieldCipher = {
 *   encrypt(subject, plaintext, aad) {
 *     const key = kms.get(subject) ?? randomBytes(32);
 *     kms.set(subject, key);
 *     const iv = randomBytes(12);
 *     const c = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
 *     const ct = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
 *     return `${subject}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
 *   },
 *   decrypt(text, aad) {
 *     const [subject = '', iv = '', ct = ''] = text.split('.');
 *     const key = kms.get(subject);
 *     if (!key) return undefined; // destroyed: crypto-shredded
 *     const body = Buffer.from(ct, 'base64url');
 *     const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(aad);
 *     d.setAuthTag(body.subarray(-16));
 *     return new Uint8Array(Buffer.concat([d.update(body.subarray(0, -16)), d.final()]));
 *   },
 * };
 *
 * const store = new MemoryStore();
 * const log = await AuditLog.open({ store, signingKey: generateSigningKey(), privacy: createPrivacy({ encrypt: { paths: ['actor.name'], cipher } }) });
 * await log.append({ tenant: 'acme', actor: { type: 'user', id: 'ann', name: 'Ann Example' }, action: 'auth.login', outcome: 'success' });
 * await log.close();
 * const stored = store.records[1]!.event!;
 * assert.equal((await decryptEventWith(stored, cipher)).actor.name, 'Ann Example');
 * kms.delete('acme/ann'); // the subject asked to be forgotten
 * assert.equal((await decryptEventWith(stored, cipher)).actor.name, ERASED);
 * ```
 */
export async function decryptEventWith(
  event: AuditEvent,
  cipher: FieldCipher,
): Promise<AuditEvent> {
  const copy = cloneEvent(event);
  const jobs: Promise<void>[] = [];
  const walk = (node: unknown, trail: string, set: (v: unknown) => void): void => {
    if (isExternal(node)) {
      jobs.push(
        (async () => {
          let plain: Uint8Array | undefined;
          try {
            plain = await cipher.decrypt(node.ct, aad(copy.id, trail));
          } catch (cause) {
            throw new AuditError('ERR_AUDIT_DECRYPTION_FAILED', 'decryption failed', { cause });
          }
          set(plain === undefined ? ERASED : (JSON.parse(fromUtf8(plain)) as unknown));
        })(),
      );
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const container = node as Record<string, unknown>;
    for (const k of Object.keys(container))
      walk(container[k], trail ? `${trail}.${k}` : k, (v) => {
        container[k] = v;
      });
  };
  walk(copy, '', () => {});
  await Promise.all(jobs);
  return copy;
}

/**
 * Holds one AES-256 key per data subject. Erasing a subject's key crypto-shreds every
 * field encrypted for it. Implementations must be synchronous (keys are cached); persist
 * them wrapped under a KEK, e.g. with `@fluxel/crypto`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { createPrivacy, normalizeEvent, type SubjectKeyStore } from '@fluxel/audit';
 *
 * // Your own store, e.g. over keys unwrapped at start-up; it must answer synchronously.
 * const byId = new Map<string, Uint8Array>();
 * const bySubject = new Map<string, { kid: string; key: Uint8Array }>();
 * const keys: SubjectKeyStore = {
 *   keyFor(subject) {
 *     let entry = bySubject.get(subject);
 *     if (!entry) {
 *       entry = { kid: crypto.randomUUID(), key: crypto.getRandomValues(new Uint8Array(32)) };
 *       bySubject.set(subject, entry);
 *       byId.set(entry.kid, entry.key);
 *     }
 *     return entry;
 *   },
 *   keyById: (kid) => byId.get(kid),
 *   erase: (subject) => {
 *     const entry = bySubject.get(subject);
 *     if (entry) byId.delete(entry.kid);
 *     return bySubject.delete(subject);
 *   },
 * };
 * const event = await createPrivacy({ encrypt: { paths: ['data.email'], keys } })(
 *   normalizeEvent({ tenant: 'acme', actor: { type: 'user', id: 'ann' }, action: 'user.update', outcome: 'success', data: { email: 'ann@acme.example' } }),
 * );
 * assert.equal((event.data?.email as { $enc: string }).$enc, 'A256GCM');
 * ```
 */
export interface SubjectKeyStore {
  /** The key of a subject, created on first use. Throws `ERR_AUDIT_KEY_ERASED` after erasure. */
  keyFor(subject: string): { readonly kid: string; readonly key: Uint8Array };
  /** The key with this id, or undefined when erased or unknown. */
  keyById(kid: string): Uint8Array | undefined;
  /** Deletes the subject's key: its encrypted fields become unreadable, for good. */
  erase(subject: string): boolean;
}

/**
 * A serialisable snapshot of a {@link MemorySubjectKeyStore}.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemorySubjectKeyStore, type SubjectKeySnapshot } from '@fluxel/audit';
 *
 * let saved: SubjectKeySnapshot | undefined;
 * const keys = new MemorySubjectKeyStore({ onChange: (snapshot) => (saved = snapshot) }); // wrap it under a KEK before storing
 * const { kid } = keys.keyFor('acme/ann');
 * keys.erase('acme/bob');
 * assert.deepEqual(saved?.erased, ['acme/bob']);
 * assert.equal(saved?.subjects['acme/ann']?.kid, kid);
 * ```
 */
export interface SubjectKeySnapshot {
  readonly subjects: Record<string, { kid: string; key: string }>;
  readonly erased: string[];
}

/**
 * An in-memory {@link SubjectKeyStore}. `onChange` receives a snapshot after every change,
 * so the caller can persist it (wrapped under a KEK); `snapshot` restores one. An erased
 * subject stays erased: new events for it are refused with `ERR_AUDIT_KEY_ERASED` rather
 * than silently getting a fresh key, unless `allowNewKeyAfterErase` is set.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { AuditError, MemorySubjectKeyStore } from '@fluxel/audit';
 *
 * const keys = new MemorySubjectKeyStore();
 * const { kid, key } = keys.keyFor('acme/ann');
 * assert.equal(key.length, 32);
 * assert.deepEqual(keys.keyById(kid), key);
 * // Restore from a snapshot (after unwrapping it) in the next process.
 * const restored = new MemorySubjectKeyStore({ snapshot: keys.snapshot() });
 * assert.deepEqual(restored.keyById(kid), key);
 * restored.erase('acme/ann');
 * assert.equal(restored.keyById(kid), undefined);
 * assert.throws(() => restored.keyFor('acme/ann'), (e) => AuditError.isInstance(e) && e.code === 'ERR_AUDIT_KEY_ERASED');
 * ```
 */
export class MemorySubjectKeyStore implements SubjectKeyStore {
  readonly #bySubject = new Map<string, { kid: string; key: Uint8Array }>();
  readonly #byId = new Map<string, Uint8Array>();
  readonly #erased = new Set<string>();
  readonly #options: {
    snapshot?: SubjectKeySnapshot;
    onChange?: (snapshot: SubjectKeySnapshot) => void;
    allowNewKeyAfterErase?: boolean;
  };

  constructor(
    options: {
      snapshot?: SubjectKeySnapshot;
      onChange?: (snapshot: SubjectKeySnapshot) => void;
      allowNewKeyAfterErase?: boolean;
    } = {},
  ) {
    this.#options = options;
    for (const [subject, { kid, key }] of Object.entries(options.snapshot?.subjects ?? {})) {
      const raw = fromBase64url(key);
      this.#bySubject.set(subject, { kid, key: raw });
      this.#byId.set(kid, raw);
    }
    for (const s of options.snapshot?.erased ?? []) this.#erased.add(s);
  }

  keyFor(subject: string): { readonly kid: string; readonly key: Uint8Array } {
    const found = this.#bySubject.get(subject);
    if (found) return found;
    if (this.#erased.has(subject) && !this.#options.allowNewKeyAfterErase)
      throw new AuditError('ERR_AUDIT_KEY_ERASED', 'the data subject was erased');
    const entry = { kid: toBase64url(randomBytes(12)), key: randomBytes(32) };
    this.#bySubject.set(subject, entry);
    this.#byId.set(entry.kid, entry.key);
    this.#changed();
    return entry;
  }

  keyById(kid: string): Uint8Array | undefined {
    return this.#byId.get(kid);
  }

  erase(subject: string): boolean {
    const found = this.#bySubject.get(subject);
    this.#erased.add(subject);
    if (!found) {
      this.#changed();
      return false;
    }
    found.key.fill(0);
    this.#bySubject.delete(subject);
    this.#byId.delete(found.kid);
    this.#changed();
    return true;
  }

  /** A serialisable copy of the keys (secret: wrap it before storing). */
  snapshot(): SubjectKeySnapshot {
    const subjects: Record<string, { kid: string; key: string }> = {};
    for (const [s, { kid, key }] of this.#bySubject) subjects[s] = { kid, key: toBase64url(key) };
    return { subjects, erased: [...this.#erased] };
  }

  #changed(): void {
    this.#options.onChange?.(this.snapshot());
  }
}
