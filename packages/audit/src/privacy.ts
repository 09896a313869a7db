/**
 * Privacy before hashing: redaction of configured paths, keyed pseudonymisation per tenant,
 * and encryption of PII fields under a per-subject key (crypto-shredding: erase the key and
 * the data is gone while the hash chain, computed over the ciphertext, still verifies).
 */
import { fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding.js';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import { aesGcmDecrypt, aesGcmEncrypt, hmacSha256, randomBytes } from './primitives.js';

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * A path into an event: dot-separated keys, `*` matching any one key (or array index),
 * e.g. `data.password`, `data.*.token`, `actor.userAgent`.
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

/** Options of {@link createPrivacy}. */
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
 */
export type PrivacyTransform = (event: AuditEvent) => AuditEvent | Promise<AuditEvent>;

/**
 * Encrypts PII fields with keys held elsewhere (a KMS, `@fluxel/crypto` subject keys).
 * `encrypt` returns an opaque text; `decrypt` returns the plaintext, or `undefined` when the
 * subject's key was destroyed (crypto-shredded). `aad` binds a ciphertext to its event id
 * and field path; a cipher must authenticate it.
 */
export interface FieldCipher {
  encrypt(subject: string, plaintext: Uint8Array, aad: Uint8Array): string | Promise<string>;
  decrypt(
    ciphertext: string,
    aad: Uint8Array,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** A field encrypted by a {@link FieldCipher}. */
export interface ExternalEncryptedField {
  readonly $enc: 'external';
  readonly ct: string;
}

/**
 * Builds the privacy transform the log applies to every event before hashing: redaction
 * first, then pseudonymisation, then encryption. The pseudonym of a value is stable per
 * tenant (so alert rules and queries still group by it) and unlinkable across tenants.
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

/** The pseudonym of a value under a tenant key: `ps_` + base64url of 16 bytes of HMAC-SHA-256. */
export function pseudonymize(tenantKey: Uint8Array, value: string): string {
  return `ps_${toBase64url(hmacSha256(tenantKey, utf8(value)).subarray(0, 16))}`;
}

/** An encrypted field as stored in an event. */
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

/** What a field whose subject key was erased reads as after {@link decryptEvent}. */
export const ERASED = '[ERASED]';

/**
 * Returns a copy of the event with every encrypted field decrypted, or replaced by
 * `[ERASED]` when its subject key was deleted.
 *
 * @throws `AuditError` `ERR_AUDIT_DECRYPTION_FAILED` when a ciphertext does not authenticate
 * (tampered, or moved to another event or field).
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
 */
export interface SubjectKeyStore {
  /** The key of a subject, created on first use. Throws `ERR_AUDIT_KEY_ERASED` after erasure. */
  keyFor(subject: string): { readonly kid: string; readonly key: Uint8Array };
  /** The key with this id, or undefined when erased or unknown. */
  keyById(kid: string): Uint8Array | undefined;
  /** Deletes the subject's key: its encrypted fields become unreadable, for good. */
  erase(subject: string): boolean;
}

/** A serialisable snapshot of a {@link MemorySubjectKeyStore}. */
export interface SubjectKeySnapshot {
  readonly subjects: Record<string, { kid: string; key: string }>;
  readonly erased: string[];
}

/**
 * An in-memory {@link SubjectKeyStore}. `onChange` receives a snapshot after every change,
 * so the caller can persist it (wrapped under a KEK); `snapshot` restores one. An erased
 * subject stays erased: new events for it are refused with `ERR_AUDIT_KEY_ERASED` rather
 * than silently getting a fresh key, unless `allowNewKeyAfterErase` is set.
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
