/**
 * The license authority (server side, storage-agnostic): issue licenses, activate each
 * exactly once, verify every later request (access token + DPoP proof + license state),
 * refresh tokens, lock, unlock, rebind, get and list.
 *
 * Activation is the only moment a license key is used. It binds the license to the device
 * key that signed the activation request and spends the key for good: every further
 * activation with it by any other device fails, with one uniform error that does not reveal
 * whether the key exists; the precise reason goes to the audit event only. The bound device
 * itself may repeat its activation (a lost response) and gets fresh tokens.
 */
import { b64u, utf8 } from '../../../internal/src/base64url.js';
import { uuidv7 } from '../../../internal/src/uuid.js';
import { hmacSha256 } from '../hash.js';
import type { SignatureBackend, VerifierFactory } from '../sig.js';
import type { Jwks, LicenseTokenClaims } from './claims.js';
import type { DeviceDescription } from './device-description.js';
import { dpopChallengeError } from './dpop-challenge.js';
import {
  createDpopVerifier,
  type DpopVerifier,
  type DpopVerifyInput,
  type VerifiedProof,
} from './dpop-verify.js';
import { LicenseError, type LicenseErrorCode } from './errors.js';
import { type HeadersLike, headerValue } from './http.js';
import { generateLicenseKey, parseLicenseKey } from './key.js';
import type { NonceSource } from './nonce.js';
import type { ReplayStore } from './replay.js';
import type { LicenseRecord, LicenseState, LicenseStore } from './store.js';
import {
  createTokenIssuer,
  type TokenIssuer,
  type TokenSigningKey,
  type TokenSubject,
} from './token-issuer.js';
import { createTokenVerifier, type TokenVerifier } from './token-verify.js';

/**
 * An HTTP request as the authority needs to see it.
 *
 * @example
 * ```ts
 * import {
 *   createDpopSigner,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 *   type AuthorityRequest,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const { license, key } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const activateUrl = 'https://relay.example/v1/activate';
 * const tokens = await authority.activate({
 *   licenseKey: key,
 *   request: {
 *     method: 'POST',
 *     url: activateUrl,
 *     headers: { dpop: await device.proof({ method: 'POST', url: activateUrl }) },
 *   },
 * });
 * const url = 'https://relay.example/v1/mailbox';
 * const request: AuthorityRequest = {
 *   method: 'GET',
 *   url,
 *   headers: {
 *     authorization: `DPoP ${tokens.accessToken}`,
 *     dpop: await device.proof({ method: 'GET', url, accessToken: tokens.accessToken }),
 *   },
 *   clientIp: '203.0.113.7',
 * };
 * console.log((await authority.verifyRequest(request)).license.id === license.id); // true
 * ```
 */
export interface AuthorityRequest {
  readonly method: string;
  /** Full URL as received (scheme and host included), e.g. from the proxy-aware server. */
  readonly url: string;
  readonly headers: HeadersLike;
  /** The exact body bytes, if any. */
  readonly body?: Uint8Array | undefined;
  /** The client's IP as the server sees it (behind a proxy: the forwarded one it trusts). */
  readonly clientIp?: string | undefined;
}

/**
 * What happened, for the audit log. Never carries a key, code, token or proof.
 *
 * @example
 * ```ts
 * import {
 *   type AuthorityEvent,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const events: AuthorityEvent[] = [];
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 *   onEvent: (event) => void events.push(event), // e.g. to @fluxel/audit
 * });
 * await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync', actor: 'admin@example' });
 * console.log(events[0]?.action, events[0]?.outcome); // 'license.issue' 'success'
 * ```
 */
export interface AuthorityEvent {
  readonly action:
    | 'license.issue'
    | 'license.activate'
    | 'license.refresh'
    | 'license.lock'
    | 'license.unlock'
    | 'license.rebind'
    | 'license.request';
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly at: number;
  readonly licenseId?: string;
  readonly tenant?: string;
  /** The device key thumbprint involved. */
  readonly jkt?: string;
  /** Who asked (admin actions). */
  readonly actor?: string;
  /** Machine-readable reason of a failure, e.g. `already_activated`. */
  readonly reason?: string;
}

/**
 * The public view of a license.
 *
 * @example
 * ```ts
 * import { generateKeyPair, LicenseAuthority, type LicenseInfo, MemoryLicenseStore, MemoryReplayStore } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const { license } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const info: LicenseInfo = await authority.get(license.id);
 * console.log(info.status, info.device); // 'issued' null
 * ```
 */
export interface LicenseInfo {
  readonly id: string;
  readonly tenant: string;
  readonly product: string;
  readonly entitlements: readonly string[];
  readonly status: LicenseState | 'locked';
  readonly lockedReason: string | null;
  /** The bound device: its key thumbprint and what it said about itself (when it did). */
  readonly device: {
    readonly jkt: string;
    readonly hostName?: string;
    readonly agentVersion?: string;
  } | null;
  readonly createdAt: Date;
  readonly activatedAt: Date | null;
  readonly expiresAt: Date | null;
  /** The last verified request of the device (activation, refresh, else at most once a minute). */
  readonly lastSeenAt: Date | null;
  /** The client IP of that request, when known (personal data: show it only to the owner). */
  readonly lastIp?: string | null;
}

/**
 * Tokens returned by activation and refresh.
 *
 * @example
 * ```ts
 * import {
 *   createDpopSigner,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 *   type LicenseTokens,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const { license, key } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const activateUrl = 'https://relay.example/v1/activate';
 * const tokens: LicenseTokens = await authority.activate({
 *   licenseKey: key,
 *   request: {
 *     method: 'POST',
 *     url: activateUrl,
 *     headers: { dpop: await device.proof({ method: 'POST', url: activateUrl }) },
 *   },
 * });
 * console.log(license.id === tokens.licenseId, tokens.accessTokenExpiresAt < tokens.licenseTokenExpiresAt);
 * ```
 */
export interface LicenseTokens {
  readonly licenseId: string;
  /** Present with `Authorization: DPoP <token>` on every request. */
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  /** Keep for offline checks of expiry and entitlements. */
  readonly licenseToken: string;
  readonly licenseTokenExpiresAt: Date;
}

/**
 * A request that passed verification.
 *
 * @example
 * ```ts
 * import {
 *   createDpopSigner,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 *   type VerifiedRequest,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const { license, key } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const activateUrl = 'https://relay.example/v1/activate';
 * const tokens = await authority.activate({
 *   licenseKey: key,
 *   request: {
 *     method: 'POST',
 *     url: activateUrl,
 *     headers: { dpop: await device.proof({ method: 'POST', url: activateUrl }) },
 *   },
 * });
 * const url = 'https://relay.example/v1/mailbox';
 * const verified: VerifiedRequest = await authority.verifyRequest({
 *   method: 'GET',
 *   url,
 *   headers: {
 *     authorization: `DPoP ${tokens.accessToken}`,
 *     dpop: await device.proof({ method: 'GET', url, accessToken: tokens.accessToken }),
 *   },
 * });
 * console.log(verified.license.id === license.id, verified.claims.ent, verified.proof.jkt);
 * ```
 */
export interface VerifiedRequest {
  readonly license: LicenseInfo;
  readonly claims: LicenseTokenClaims;
  readonly proof: VerifiedProof;
}

/**
 * Options of `LicenseAuthority`.
 *
 * @example
 * ```ts
 * import {
 *   createNonceSource,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   type LicenseAuthorityOptions,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const options: LicenseAuthorityOptions = {
 *   store: new MemoryLicenseStore(), // SqlLicenseStore from ./sql in production
 *   pepper: crypto.getRandomValues(new Uint8Array(32)), // a secret from your KMS/config
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 *   nonces: createNonceSource({ secret: crypto.getRandomValues(new Uint8Array(32)) }),
 *   keyPrefix: 'WAWI',
 *   accessTokenTtlSeconds: 600,
 * };
 * const authority = new LicenseAuthority(options);
 * const { license } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * console.log(license.status); // 'issued' (the key goes to its owner, never to a log)
 * ```
 */
export interface LicenseAuthorityOptions {
  readonly store: LicenseStore;
  /** Secret (≥ 32 bytes) under which license keys and rebind codes are hashed. */
  readonly pepper: Uint8Array;
  /** `iss` of tokens, e.g. the relay's base URL. */
  readonly issuer: string;
  /** Token signing keys; the first signs. */
  readonly signingKeys: readonly TokenSigningKey[];
  /** Where DPoP proof ids are remembered (memory, or Redis across instances). */
  readonly replay: ReplayStore;
  /** Server nonces; when set, every proof must carry one. */
  readonly nonces?: NonceSource;
  /** License key product prefix. Default `FLX`. */
  readonly keyPrefix?: string;
  /** Access token lifetime. Default 900 s. */
  readonly accessTokenTtlSeconds?: number;
  /** License token lifetime (offline validity). Default 30 days. */
  readonly licenseTokenTtlSeconds?: number;
  /** Rebind code lifetime. Default 7 days. */
  readonly rebindTtlSeconds?: number;
  /** Receives an event for everything that happens (audit). Awaited. */
  readonly onEvent?: (event: AuthorityEvent) => void | Promise<void>;
  readonly backend?: SignatureBackend;
  /**
   * Where the signatures of DPoP proofs are checked, when not in this thread: e.g.
   * `createVerifyPool()` of `@fluxel/license/node` (worker threads). Replay cache and nonces
   * stay here, so a proof is accepted at most once whichever thread checked it. (An access
   * token's signature is checked once per token and cached, so it stays in this thread.)
   */
  readonly verifier?: VerifierFactory;
  /**
   * How often a device's requests are recorded as "last seen" (`lastSeenAt`, `lastIp`): at most
   * once per this many ms per license, in one conditional write. Default 60 000.
   */
  readonly seenIntervalMs?: number;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * Input of `LicenseAuthority.issue`.
 *
 * @example
 * ```ts
 * import {
 *   generateKeyPair,
 *   type IssueLicenseInput,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const input: IssueLicenseInput = {
 *   tenant: 'merchant-42',
 *   product: 'wawi-sync',
 *   entitlements: ['orders', 'invoices'],
 *   expiresAt: new Date(Date.now() + 365 * 86_400_000),
 *   actor: 'admin@example',
 * };
 * const { key } = await authority.issue(input); // show the key once; it is not stored
 * console.log(key.length > 0); // hand the key to the customer; never log it
 * ```
 */
export interface IssueLicenseInput {
  readonly tenant: string;
  readonly product: string;
  readonly entitlements?: readonly string[];
  /** When the license ends; none when omitted. */
  readonly expiresAt?: Date | null;
  readonly actor?: string;
}

/**
 * Filter of `LicenseAuthority.list`.
 *
 * @example
 * ```ts
 * import {
 *   generateKeyPair,
 *   LicenseAuthority,
 *   type ListLicensesInput,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const input: ListLicensesInput = { tenant: 'merchant-42', status: 'issued', limit: 20 };
 * const { licenses, nextCursor } = await authority.list(input);
 * console.log(licenses.length, nextCursor); // 1 null
 * ```
 */
export interface ListLicensesInput {
  readonly tenant?: string;
  readonly status?: LicenseInfo['status'];
  /** 1–1000, default 100. */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

const ACTIVATION_FAILED =
  'Activation failed. The license key is unknown, already activated, locked or expired. ' +
  'If this machine replaces an activated one, ask your administrator for a rebind code.';

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._:@/-]{0,127}$/u;

/**
 * The license authority.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import {
 *   createDpopSigner,
 *   generateKeyPair,
 *   LicenseAuthority,
 *   MemoryLicenseStore,
 *   MemoryReplayStore,
 * } from '@fluxel/license/server';
 *
 * const authority = new LicenseAuthority({
 *   store: new MemoryLicenseStore(),
 *   pepper: crypto.getRandomValues(new Uint8Array(32)),
 *   issuer: 'https://relay.example',
 *   signingKeys: [{ kid: '2026-11', privateJwk: (await generateKeyPair('EdDSA')).privateJwk }],
 *   replay: new MemoryReplayStore(),
 * });
 * const { license, key } = await authority.issue({ tenant: 'merchant-42', product: 'wawi-sync' });
 * const device = createDpopSigner((await generateKeyPair()).privateJwk);
 * const activateUrl = 'https://relay.example/v1/activate';
 * const tokens = await authority.activate({
 *   licenseKey: key,
 *   request: {
 *     method: 'POST',
 *     url: activateUrl,
 *     headers: { dpop: await device.proof({ method: 'POST', url: activateUrl }) },
 *   },
 * });
 * // admin actions take effect on the very next request
 * await authority.lock(license.id, { reason: 'unpaid' });
 * const url = 'https://relay.example/v1/mailbox';
 * const request = async () => ({
 *   method: 'GET',
 *   url,
 *   headers: {
 *     authorization: `DPoP ${tokens.accessToken}`,
 *     dpop: await device.proof({ method: 'GET', url, accessToken: tokens.accessToken }),
 *   },
 * });
 * await assert.rejects(authority.verifyRequest(await request()), { code: 'ERR_LICENSE_LOCKED' });
 * await authority.unlock(license.id);
 * await authority.verifyRequest(await request());
 * // a lost machine: unbind it, the new one activates with the one-time code
 * const { rebindCode } = await authority.rebind(license.id);
 * assert.match(rebindCode, /^FLXRB-/);
 * ```
 */
export class LicenseAuthority {
  readonly #store: LicenseStore;
  readonly #pepper: Uint8Array;
  readonly #issuer: TokenIssuer;
  readonly #tokens: TokenVerifier;
  readonly #proofs: DpopVerifier;
  readonly #prefix: string;
  readonly #rebindPrefix: string;
  readonly #accessTtl: number;
  readonly #licenseTtl: number;
  readonly #rebindTtl: number;
  readonly #onEvent: LicenseAuthorityOptions['onEvent'];
  readonly #seenIntervalMs: number;
  /** When this instance last wrote (or is writing) a license's "last seen". */
  readonly #seenWrites = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: LicenseAuthorityOptions) {
    if (typeof options !== 'object' || options === null)
      invalidArgument('LicenseAuthority takes { store, pepper, issuer, signingKeys, replay, ... }');
    if (typeof options.store?.get !== 'function' || typeof options.store.insert !== 'function')
      invalidArgument('store is required: a LicenseStore (MemoryLicenseStore, SqlLicenseStore)');
    // Without a replay cache a captured proof could be replayed: never a silent default.
    if (typeof options.replay?.remember !== 'function')
      invalidArgument(
        'replay is required: a ReplayStore for DPoP proof ids (new MemoryReplayStore(), or redisReplayStore(client) with several instances)',
      );
    if (
      options.nonces !== undefined &&
      (typeof options.nonces?.current !== 'function' ||
        typeof options.nonces.isValid !== 'function')
    )
      invalidArgument('nonces must be a NonceSource (createNonceSource({ secret }))');
    if (!(options.pepper instanceof Uint8Array) || options.pepper.length < 32) {
      throw new LicenseError(
        'ERR_LICENSE_INVALID_ARGUMENT',
        'the pepper must be at least 32 random bytes',
      );
    }
    this.#store = options.store;
    this.#pepper = options.pepper;
    this.#now = options.now ?? Date.now;
    const clock = { now: this.#now, ...(options.backend ? { backend: options.backend } : {}) };
    this.#issuer = createTokenIssuer({
      issuer: options.issuer,
      keys: options.signingKeys,
      ...clock,
    });
    this.#tokens = createTokenVerifier({
      issuer: options.issuer,
      jwks: this.#issuer.jwks(),
      ...clock,
    });
    this.#proofs = createDpopVerifier({
      replay: options.replay,
      ...(options.nonces ? { nonces: options.nonces } : {}),
      ...clock,
      ...(options.verifier ? { backend: options.verifier } : {}),
    });
    this.#prefix = options.keyPrefix ?? 'FLX';
    this.#rebindPrefix = `${this.#prefix}RB`.slice(0, 8);
    parseLicenseKey(generateLicenseKey({ prefix: this.#rebindPrefix }));
    this.#accessTtl = options.accessTokenTtlSeconds ?? 900;
    this.#licenseTtl = options.licenseTokenTtlSeconds ?? 30 * 86_400;
    this.#rebindTtl = options.rebindTtlSeconds ?? 7 * 86_400;
    this.#onEvent = options.onEvent;
    this.#seenIntervalMs = options.seenIntervalMs ?? 60_000;
  }

  /** The authority's public token keys (publish at a JWKS endpoint; agents keep a copy). */
  jwks(): Jwks {
    return this.#issuer.jwks();
  }

  /** The nonce to send in `DPoP-Nonce` on responses, when nonces are on. */
  nonce(): string | undefined {
    return this.#proofs.nonce();
  }

  /**
   * The `WWW-Authenticate` value for a 401 (RFC 9449 §7.1): the `DPoP` scheme, the error code
   * that fits `error` (a refusal of this authority: `use_dpop_nonce`, `invalid_dpop_proof`,
   * `invalid_token`; none for anything else) and `algs`, the proof algorithms accepted.
   */
  challenge(error?: unknown): string {
    return this.#proofs.challenge({ error: dpopChallengeError(error) });
  }

  /** Issues a license. The returned key is shown once; only its keyed hash is stored. */
  async issue(input: IssueLicenseInput): Promise<{ license: LicenseInfo; key: string }> {
    const tenant = checkName(input.tenant, 'tenant');
    const product = checkName(input.product, 'product');
    const entitlements = [
      ...new Set((input.entitlements ?? []).map((e) => checkName(e, 'entitlement'))),
    ];
    if (entitlements.length > 64) invalidArgument('at most 64 entitlements');
    const expiresAt = input.expiresAt == null ? null : input.expiresAt.getTime();
    if (expiresAt !== null && !(expiresAt > this.#now()))
      invalidArgument('expiresAt must be in the future');
    const key = generateLicenseKey({ prefix: this.#prefix });
    const now = this.#now();
    const record: LicenseRecord = {
      id: uuidv7(now),
      tenant,
      product,
      entitlements,
      keyHash: this.#hash(key),
      state: 'issued',
      locked: false,
      lockedReason: null,
      deviceJkt: null,
      deviceJwk: null,
      rebindHash: null,
      rebindExpiresAt: null,
      createdAt: now,
      activatedAt: null,
      expiresAt,
      lastSeenAt: null,
      updatedAt: now,
      version: 1,
    };
    await this.#store.insert(record);
    await this.#event({
      action: 'license.issue',
      outcome: 'success',
      ...who(record),
      ...actor(input.actor),
    });
    return { license: toInfo(record), key };
  }

  /**
   * Activates a license with its key (or a rebind code) for the device whose key signed the
   * request's DPoP proof. Exactly one activation per key ever succeeds.
   */
  async activate(input: { licenseKey: string; request: AuthorityRequest }): Promise<LicenseTokens> {
    const proof = await this.#proofs.verify(proofInput(input.request));
    let parsed: ReturnType<typeof parseLicenseKey>;
    try {
      parsed = parseLicenseKey(input.licenseKey);
    } catch (error) {
      await this.#event({
        action: 'license.activate',
        outcome: 'failure',
        jkt: proof.jkt,
        reason: 'malformed_key',
      });
      throw error;
    }
    const now = this.#now();
    const viaRebind = parsed.prefix === this.#rebindPrefix;
    if (!viaRebind && parsed.prefix !== this.#prefix) {
      return this.#activationFailed(proof.jkt, 'other_product');
    }
    const hash = this.#hash(parsed.canonical);
    const record = viaRebind
      ? await this.#store.findByRebindHash(hash)
      : await this.#store.findByKeyHash(hash);
    if (!record) return this.#activationFailed(proof.jkt, 'unknown_key');
    const reason = record.locked
      ? 'locked'
      : record.expiresAt !== null && record.expiresAt <= now
        ? 'expired'
        : viaRebind
          ? record.state !== 'rebinding' || (record.rebindExpiresAt ?? 0) <= now
            ? 'rebind_code_invalid'
            : undefined
          : record.state !== 'issued'
            ? 'already_activated'
            : undefined;
    if (
      reason === 'already_activated' &&
      record.state === 'active' &&
      record.deviceJkt === proof.jkt
    ) {
      // The bound device repeating its activation (its first answer was lost): the key
      // proves nothing new, the device key does. Fresh tokens, nothing changes.
      await this.#event({
        action: 'license.activate',
        outcome: 'success',
        ...who(record),
        jkt: proof.jkt,
        reason: 'repeat_same_device',
      });
      return this.#tokensFor(record);
    }
    if (reason) return this.#activationFailed(proof.jkt, reason, record);
    let updated: LicenseRecord | undefined;
    try {
      updated = await this.#store.update(record.id, record.version, {
        state: 'active',
        deviceJkt: proof.jkt,
        deviceJwk: proof.jwk,
        rebindHash: null,
        rebindExpiresAt: null,
        activatedAt: now,
        lastSeenAt: now,
        lastIp: input.request.clientIp ?? null,
        // A new device: what the previous one said no longer applies.
        deviceHostName: proof.device?.hostName ?? null,
        deviceAgentVersion: proof.device?.agentVersion ?? null,
        updatedAt: now,
      });
    } catch (error) {
      if (LicenseError.isInstance(error) && error.code === 'ERR_LICENSE_CONFLICT') {
        return this.#activationFailed(proof.jkt, 'device_bound_elsewhere', record);
      }
      throw error;
    }
    if (!updated) return this.#activationFailed(proof.jkt, 'concurrent_activation', record);
    await this.#event({
      action: 'license.activate',
      outcome: 'success',
      ...who(updated),
      jkt: proof.jkt,
      ...(viaRebind ? { reason: 'rebind' } : {}),
    });
    return this.#tokensFor(updated);
  }

  /**
   * Issues fresh tokens to the bound device. The request needs only a DPoP proof by the
   * device key (an expired access token is no obstacle: the key is the credential).
   */
  async refresh(request: AuthorityRequest): Promise<LicenseTokens> {
    const proof = await this.#proofs.verify(proofInput(request));
    const record = await this.#store.findByDevice(proof.jkt);
    const code = this.#refusal(record, proof.jkt);
    if (code || !record) {
      await this.#event({
        action: 'license.refresh',
        outcome: 'denied',
        jkt: proof.jkt,
        reason: code ?? 'no_license',
        ...(record ? who(record) : {}),
      });
      throw refusalError(code ?? 'ERR_LICENSE_NOT_ACTIVE');
    }
    const now = this.#now();
    const touched =
      (await this.#store.update(record.id, record.version, {
        lastSeenAt: now,
        lastIp: request.clientIp ?? null,
        ...describedBy(proof.device),
        updatedAt: now,
      })) ?? record;
    await this.#event({
      action: 'license.refresh',
      outcome: 'success',
      ...who(record),
      jkt: proof.jkt,
    });
    return this.#tokensFor(touched);
  }

  /**
   * Verifies a request of an activated device: `Authorization: DPoP <access token>`, the
   * `DPoP` proof (bound to that token, this method and URL, and the body), and that the
   * license is still active, unlocked, unexpired and bound to this very key.
   */
  async verifyRequest(request: AuthorityRequest): Promise<VerifiedRequest> {
    let jkt: string | undefined;
    let licenseId: string | undefined;
    try {
      const authorization = headerValue(request.headers, 'authorization');
      const token = dpopCredentials(authorization.value);
      if (!token || authorization.multiple) {
        throw new LicenseError(
          'ERR_LICENSE_INVALID_TOKEN',
          'the request needs "Authorization: DPoP <access token>"',
        );
      }
      const claims = await this.#tokens.verifyAccessToken(token);
      licenseId = claims.sub;
      const proof = await this.#proofs.verify(proofInput(request, token));
      jkt = proof.jkt;
      if (claims.cnf.jkt !== proof.jkt) {
        throw new LicenseError(
          'ERR_LICENSE_TOKEN_BINDING',
          'the access token belongs to another device ("cnf.jkt" claim)',
          { claim: 'cnf.jkt' },
        );
      }
      const record = await this.#store.get(claims.sub);
      const code = this.#refusal(record, proof.jkt);
      if (code || !record) throw refusalError(code ?? 'ERR_LICENSE_NOT_FOUND');
      this.#seen(record, request.clientIp);
      return { license: toInfo(record), claims, proof };
    } catch (error) {
      const reason = LicenseError.isInstance(error) ? error.code : 'ERR_LICENSE_STORAGE';
      await this.#event({
        action: 'license.request',
        outcome: 'denied',
        reason,
        ...(licenseId ? { licenseId } : {}),
        ...(jkt ? { jkt } : {}),
      });
      throw error;
    }
  }

  /** Locks (revokes) a license; its next request is refused. */
  async lock(id: string, options: { reason?: string; actor?: string } = {}): Promise<LicenseInfo> {
    const reason = options.reason === undefined ? null : checkText(options.reason, 'reason');
    const updated = await this.#change(id, (r) =>
      r.locked ? undefined : { locked: true, lockedReason: reason },
    );
    await this.#event({
      action: 'license.lock',
      outcome: 'success',
      ...who(updated),
      ...actor(options.actor),
      ...(reason ? { reason } : {}),
    });
    return toInfo(updated);
  }

  /** Unlocks a license. */
  async unlock(id: string, options: { actor?: string } = {}): Promise<LicenseInfo> {
    const updated = await this.#change(id, (r) =>
      r.locked ? { locked: false, lockedReason: null } : undefined,
    );
    await this.#event({
      action: 'license.unlock',
      outcome: 'success',
      ...who(updated),
      ...actor(options.actor),
    });
    return toInfo(updated);
  }

  /**
   * Unbinds the current device (lost or replaced machine) and returns a one-time rebind code
   * with which the new device activates. The original key stays spent.
   */
  async rebind(
    id: string,
    options: { actor?: string } = {},
  ): Promise<{ license: LicenseInfo; rebindCode: string; expiresAt: Date }> {
    const code = generateLicenseKey({ prefix: this.#rebindPrefix });
    const expiresAt = this.#now() + this.#rebindTtl * 1000;
    const updated = await this.#change(id, (r) => {
      if (r.state === 'issued') {
        throw new LicenseError(
          'ERR_LICENSE_NOT_ACTIVE',
          'the license was never activated; activate it with its key',
        );
      }
      return {
        state: 'rebinding',
        deviceJkt: null,
        deviceJwk: null,
        rebindHash: this.#hash(code),
        rebindExpiresAt: expiresAt,
        deviceHostName: null,
        deviceAgentVersion: null,
      };
    });
    await this.#event({
      action: 'license.rebind',
      outcome: 'success',
      ...who(updated),
      ...actor(options.actor),
    });
    return { license: toInfo(updated), rebindCode: code, expiresAt: new Date(expiresAt) };
  }

  /** One license; `ERR_LICENSE_NOT_FOUND` when there is none. */
  async get(id: string): Promise<LicenseInfo> {
    const record =
      typeof id === 'string' && id.length <= 64 ? await this.#store.get(id) : undefined;
    if (!record) throw new LicenseError('ERR_LICENSE_NOT_FOUND', 'no such license');
    return toInfo(record);
  }

  /** A page of licenses, in creation order. */
  async list(
    input: ListLicensesInput = {},
  ): Promise<{ licenses: LicenseInfo[]; nextCursor: string | null }> {
    const limit = input.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      invalidArgument('limit must be 1 to 1000');
    const status = input.status;
    const records = await this.#store.list({
      limit,
      ...(input.tenant !== undefined ? { tenant: checkName(input.tenant, 'tenant') } : {}),
      ...(status === 'locked'
        ? { locked: true }
        : status !== undefined
          ? { state: status, locked: false }
          : {}),
      ...(input.cursor !== undefined ? { after: input.cursor } : {}),
    });
    const last = records.at(-1);
    return {
      licenses: records.map(toInfo),
      nextCursor: records.length === limit && last ? last.id : null,
    };
  }

  /**
   * "Last seen" for a verified request: skipped while the record (as read for this request)
   * was seen within the interval; else one conditional write, which of a burst of requests
   * only the first makes (the store re-checks the condition on the row, no read-then-write).
   * The write is not awaited: awaiting it in the request's path (each write also drops the
   * relay's cached row) let kill -9 tests under load deliver sends twice; the cause is not yet
   * understood, see the closing note of this change.
   */
  #seen(record: LicenseRecord, ip: string | undefined): void {
    const now = this.#now();
    const staleAt = now - this.#seenIntervalMs;
    if (!this.#store.touch || (record.lastSeenAt !== null && record.lastSeenAt > staleAt)) return;
    // One write per license and interval from this instance, decided before the first await:
    // a burst of requests that all read the stale record would otherwise queue one UPDATE
    // each on the same row (the store's condition keeps them harmless, not cheap).
    const mine = this.#seenWrites.get(record.id);
    if (mine !== undefined && mine > staleAt) return;
    this.#seenWrites.set(record.id, now);
    if (this.#seenWrites.size > 10_000)
      for (const [id, at] of this.#seenWrites) if (at <= staleAt) this.#seenWrites.delete(id);
    // Off the request's path: "last seen" is best effort and must not hold up (or fail) the
    // request it describes.
    this.#store.touch(record.id, { at: now, ip: ip ?? null, staleAt }).catch(() => {
      this.#seenWrites.delete(record.id);
    });
  }

  #hash(canonicalKey: string): string {
    return b64u(hmacSha256(this.#pepper, utf8(canonicalKey)));
  }

  async #activationFailed(jkt: string, reason: string, record?: LicenseRecord): Promise<never> {
    await this.#event({
      action: 'license.activate',
      outcome: 'denied',
      jkt,
      reason,
      ...(record ? who(record) : {}),
    });
    throw new LicenseError('ERR_LICENSE_ACTIVATION_FAILED', ACTIVATION_FAILED);
  }

  #refusal(record: LicenseRecord | undefined, jkt: string): LicenseErrorCode | undefined {
    if (!record) return 'ERR_LICENSE_NOT_FOUND';
    if (record.locked) return 'ERR_LICENSE_LOCKED';
    if (record.expiresAt !== null && record.expiresAt <= this.#now()) return 'ERR_LICENSE_EXPIRED';
    if (record.state !== 'active') return 'ERR_LICENSE_NOT_ACTIVE';
    if (record.deviceJkt !== jkt) return 'ERR_LICENSE_TOKEN_BINDING';
    return undefined;
  }

  async #change(
    id: string,
    patchFor: (r: LicenseRecord) => Partial<LicenseRecord> | undefined,
  ): Promise<LicenseRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record =
        typeof id === 'string' && id.length <= 64 ? await this.#store.get(id) : undefined;
      if (!record) throw new LicenseError('ERR_LICENSE_NOT_FOUND', 'no such license');
      const patch = patchFor(record);
      if (!patch) return record;
      const updated = await this.#store.update(id, record.version, {
        ...patch,
        updatedAt: this.#now(),
      });
      if (updated) return updated;
    }
    throw new LicenseError(
      'ERR_LICENSE_CONFLICT',
      'the license is being changed concurrently; try again',
    );
  }

  async #tokensFor(record: LicenseRecord): Promise<LicenseTokens> {
    const subject: TokenSubject = {
      sub: record.id,
      tid: record.tenant,
      prd: record.product,
      ent: record.entitlements,
      lexp: record.expiresAt === null ? null : Math.floor(record.expiresAt / 1000),
      cnf: { jkt: record.deviceJkt as string },
    };
    const access = await this.#issuer.issueAccessToken(subject, this.#accessTtl);
    const license = await this.#issuer.issueLicenseToken(subject, this.#licenseTtl);
    return {
      licenseId: record.id,
      accessToken: access.token,
      accessTokenExpiresAt: new Date(access.expiresAt * 1000),
      licenseToken: license.token,
      licenseTokenExpiresAt: new Date(license.expiresAt * 1000),
    };
  }

  async #event(event: Omit<AuthorityEvent, 'at'>): Promise<void> {
    await this.#onEvent?.({ ...event, at: this.#now() });
  }
}

/**
 * The access token of `Authorization: DPoP <token>`. The scheme name is case-insensitive
 * (RFC 9110 §11.1): `dpop`, `DPOP` and `DPoP` are the same scheme.
 */
function dpopCredentials(value: string | undefined): string | undefined {
  // `dpop` in any case (ASCII letters | 0x20 are lower case), then one or more spaces.
  if (
    value === undefined ||
    value.length < 6 ||
    (value.charCodeAt(0) | 0x20) !== 0x64 ||
    (value.charCodeAt(1) | 0x20) !== 0x70 ||
    (value.charCodeAt(2) | 0x20) !== 0x6f ||
    (value.charCodeAt(3) | 0x20) !== 0x70 ||
    value.charCodeAt(4) !== 0x20
  )
    return undefined;
  let start = 5;
  while (value.charCodeAt(start) === 0x20) start++;
  return value.slice(start);
}

function proofInput(request: AuthorityRequest, accessToken?: string): DpopVerifyInput {
  const dpop = headerValue(request.headers, 'dpop');
  if (dpop.multiple)
    throw new LicenseError(
      'ERR_DPOP_INVALID_PROOF',
      'the request carries more than one DPoP header',
    );
  return {
    method: request.method,
    url: request.url,
    proof: dpop.value,
    body: request.body,
    ...(accessToken === undefined ? {} : { accessToken }),
  };
}

function refusalError(code: LicenseErrorCode): LicenseError {
  const messages: Partial<Record<LicenseErrorCode, string>> = {
    ERR_LICENSE_LOCKED: 'the license is locked; contact your administrator',
    ERR_LICENSE_EXPIRED: 'the license has expired',
    ERR_LICENSE_NOT_ACTIVE: 'the license is not active on a device',
    ERR_LICENSE_TOKEN_BINDING: 'this device is not the one the license is bound to',
    ERR_LICENSE_NOT_FOUND: 'no such license',
  };
  return new LicenseError(code, messages[code] ?? 'the request was refused');
}

function toInfo(r: LicenseRecord): LicenseInfo {
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    id: r.id,
    tenant: r.tenant,
    product: r.product,
    entitlements: r.entitlements,
    status: r.locked ? 'locked' : r.state,
    lockedReason: r.lockedReason,
    device: r.deviceJkt
      ? {
          jkt: r.deviceJkt,
          ...(r.deviceHostName ? { hostName: r.deviceHostName } : {}),
          ...(r.deviceAgentVersion ? { agentVersion: r.deviceAgentVersion } : {}),
        }
      : null,
    createdAt: new Date(r.createdAt),
    activatedAt: date(r.activatedAt),
    expiresAt: date(r.expiresAt),
    lastSeenAt: date(r.lastSeenAt),
    lastIp: r.lastIp ?? null,
  };
}

/** The record fields of a refresh's device description (unchanged parts left out). */
function describedBy(device: DeviceDescription | undefined) {
  return {
    ...(device?.hostName !== undefined ? { deviceHostName: device.hostName } : {}),
    ...(device?.agentVersion !== undefined ? { deviceAgentVersion: device.agentVersion } : {}),
  };
}

function who(r: LicenseRecord) {
  return { licenseId: r.id, tenant: r.tenant };
}

function actor(name: string | undefined) {
  return name === undefined ? {} : { actor: name };
}

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    invalidArgument(
      `${what} must be 1 to 128 letters, digits or . _ : @ / - (starting with a letter or digit)`,
    );
  }
  return value;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > 500)
    invalidArgument(`${what} must be text of at most 500 characters`);
  return value;
}

function invalidArgument(message: string): never {
  throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', message);
}
