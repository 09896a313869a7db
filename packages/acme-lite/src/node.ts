/**
 * `@fluxel/acme-lite/node`: the Node.js side.
 *
 * - {@link FileCertificateStore}: `letsencrypt/<directory-host-reversed>/orders/<order-id>/`
 *   with `cert.pem`, `key.pem` (0600), `chain.pem`, `meta.json`, atomic writes, a per-domain
 *   lock, the account key, and `current(domain)`.
 * - {@link challengeListener} / {@link startChallengeServer}: HTTP-01 on node:http, mounted in
 *   your server or standalone on a port.
 * - {@link hotReload}: swaps the certificate of a running `https`/`tls` server.
 * - {@link evaluate}: connects over TLS and checks the served chain and certificate.
 * - {@link RenewalManager}: timers, ARI or lifetime fraction, jittered backoff, events.
 * - {@link acmeFetch}: a fetch that trusts a given CA (for Pebble or a private ACME server).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  AcmeClient,
  type AcmeClientOptions,
  type IssuedCertificate,
  LETS_ENCRYPT_PRODUCTION,
  LETS_ENCRYPT_STAGING,
} from './client.js';
import { pemBlocks } from './der.js';
import { AcmeError } from './errors.js';
import { type ChallengeStore, MemoryChallengeStore, respondToChallenge } from './http01.js';
import { generateAccountKey, importAccountKey, type PrivateJwk } from './jws.js';
import { renewalTime, retryDelay } from './renewal.js';
import { type CertificateInfo, type CertKeyType, parseCertificatePem } from './x509.js';

export * from './index.js';

// ---------------------------------------------------------------------------------------------
// fetch with a private CA

/** Options of {@link acmeFetch}. */
export interface AcmeFetchOptions {
  /** PEM CA certificate(s) to trust instead of the system store (e.g. Pebble's). */
  readonly ca?: string | readonly string[];
  /** Called after every response with method, URL, status and milliseconds (to count requests). */
  readonly onResponse?: (info: { method: string; url: string; status: number; ms: number }) => void;
}

/**
 * A `fetch` for {@link AcmeClient} on undici that trusts `ca` when given (verification stays
 * on; there is no option to turn it off).
 */
export function acmeFetch(options: AcmeFetchOptions = {}): typeof fetch {
  const dispatcher = options.ca
    ? new Agent({ connect: { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } })
    : undefined;
  const onResponse = options.onResponse;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const started = performance.now();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await undiciFetch(url, {
      ...(init as Record<string, unknown>),
      ...(dispatcher ? { dispatcher } : {}),
    });
    if (onResponse) {
      const noBody = init?.method === 'HEAD' || [101, 204, 205, 304].includes(res.status);
      const text = noBody ? '' : await res.text();
      onResponse({
        method: init?.method ?? 'GET',
        url,
        status: res.status,
        ms: performance.now() - started,
      });
      return new Response(noBody ? null : text, {
        status: res.status,
        headers: res.headers as unknown as Headers,
      });
    }
    return res as unknown as Response;
  }) as typeof fetch;
}

// ---------------------------------------------------------------------------------------------
// file store

/**
 * The folder name of a directory URL: the host's labels reversed
 * (`acme-v02.api.letsencrypt.org` → `org.letsencrypt.api.acme-v02`); an explicit port is
 * appended with `_` (`127.0.0.1:14000` → `1.0.0.127_14000`).
 */
export function directoryFolder(directoryUrl: string): string {
  const url = new URL(directoryUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const reversed = isIP(host) === 6 ? host.replace(/:/g, '-') : host.split('.').reverse().join('.');
  return url.port ? `${reversed}_${url.port}` : reversed;
}

/** meta.json of a stored certificate. */
export interface CertificateMeta {
  readonly domains: readonly string[];
  readonly orderUrl: string;
  readonly directoryUrl: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly ariId?: string;
  readonly profile?: string;
}

/** A certificate in the store. */
export interface StoredCertificate {
  /** The order id (the folder name). */
  readonly id: string;
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly chainPath: string;
  readonly metaPath: string;
  readonly meta: CertificateMeta;
}

/** What `show` reports about a stored certificate. */
export interface CertificateReport extends StoredCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly sans: readonly string[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
}

/** The account kept in the store. */
export interface StoredAccount {
  readonly url?: string;
  readonly privateJwk: PrivateJwk;
  readonly contact?: readonly string[];
}

/** Options of {@link FileCertificateStore}. */
export interface FileCertificateStoreOptions {
  /** The folder holding `letsencrypt/`. */
  readonly root: string;
  /** The ACME directory URL the certificates come from. Default Let's Encrypt production. */
  readonly directoryUrl?: string;
  /** A lock older than this is stale even when its process seems alive. Default 10 minutes. */
  readonly staleLockMs?: number;
}

const ORDER_ID = /^[A-Za-z0-9_-]{1,128}$/;

function storeError(message: string, cause?: unknown): AcmeError {
  return new AcmeError('ERR_ACME_STORE', message, cause === undefined ? {} : { cause });
}

/** Writes a file atomically (temporary file, fsync, rename) with the given mode. */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw storeError(`could not write ${path}`, cause);
  }
}

/** Certificates, keys and the account in the documented folder layout. */
export class FileCertificateStore {
  readonly root: string;
  readonly directoryUrl: string;
  /** `<root>/letsencrypt/<directory-host-reversed>`. */
  readonly base: string;
  readonly #staleLockMs: number;
  readonly #events = new EventEmitter();

  constructor(options: FileCertificateStoreOptions) {
    if (typeof options?.root !== 'string' || options.root.length === 0)
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        'FileCertificateStore needs root, the folder that holds letsencrypt/, e.g. new FileCertificateStore({ root: "/var/lib/myapp" })',
      );
    if (options.directoryUrl !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(options.directoryUrl);
      } catch {
        url = undefined;
      }
      if (url?.protocol !== 'https:' && url?.protocol !== 'http:')
        throw new AcmeError(
          'ERR_ACME_INVALID_ARGUMENT',
          `directoryUrl must be the ACME directory URL, e.g. ${LETS_ENCRYPT_STAGING}, got ${JSON.stringify(String(options.directoryUrl).slice(0, 200))}`,
        );
    }
    const stale = options.staleLockMs;
    if (stale !== undefined && !(Number.isFinite(stale) && stale > 0))
      throw new AcmeError(
        'ERR_ACME_INVALID_ARGUMENT',
        'staleLockMs must be a number of milliseconds > 0',
      );
    this.root = options.root;
    this.directoryUrl = options.directoryUrl ?? LETS_ENCRYPT_PRODUCTION;
    this.base = join(options.root, 'letsencrypt', directoryFolder(this.directoryUrl));
    this.#staleLockMs = options.staleLockMs ?? 600_000;
  }

  /** Calls `listener` whenever a certificate is saved through this store object. */
  onSaved(listener: (stored: StoredCertificate) => void): () => void {
    this.#events.on('saved', listener);
    return () => this.#events.off('saved', listener);
  }

  #paths(id: string) {
    if (!ORDER_ID.test(id)) throw storeError(`not an order id: ${id}`);
    const dir = join(this.base, 'orders', id);
    return {
      id,
      dir,
      certPath: join(dir, 'cert.pem'),
      keyPath: join(dir, 'key.pem'),
      chainPath: join(dir, 'chain.pem'),
      metaPath: join(dir, 'meta.json'),
    };
  }

  /** Saves an issued certificate under its order id; meta.json is written last. */
  async save(issued: IssuedCertificate): Promise<StoredCertificate> {
    const rawId = issued.orderUrl.split('/').filter(Boolean).pop() ?? '';
    const id = rawId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
    const paths = this.#paths(id);
    const info = parseCertificatePem(issued.certPem);
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(paths.keyPath, issued.keyPem, 0o600);
    await writeFileAtomic(paths.certPath, issued.certPem);
    await writeFileAtomic(paths.chainPath, issued.chainPem);
    const meta: CertificateMeta = {
      domains: issued.identifiers,
      orderUrl: issued.orderUrl,
      directoryUrl: this.directoryUrl,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuedAt: new Date().toISOString(),
      ...(info.ariId ? { ariId: info.ariId } : {}),
      ...(issued.profile ? { profile: issued.profile } : {}),
    };
    await writeFileAtomic(paths.metaPath, `${JSON.stringify(meta, null, 2)}\n`);
    const stored = { ...paths, meta };
    this.#events.emit('saved', stored);
    return stored;
  }

  /** Every complete stored certificate (folders with meta.json), newest first. */
  async list(): Promise<StoredCertificate[]> {
    let names: string[];
    try {
      names = await readdir(join(this.base, 'orders'));
    } catch {
      return [];
    }
    const out: StoredCertificate[] = [];
    for (const name of names) {
      if (!ORDER_ID.test(name)) continue;
      const paths = this.#paths(name);
      try {
        const meta = JSON.parse(await readFile(paths.metaPath, 'utf8')) as CertificateMeta;
        out.push({ ...paths, meta });
      } catch {
        // incomplete or deleted
      }
    }
    return out.sort(
      (a, b) =>
        b.meta.notBefore.localeCompare(a.meta.notBefore) ||
        b.meta.issuedAt.localeCompare(a.meta.issuedAt),
    );
  }

  /** The newest certificate for `domain` that is valid now and still has its key. */
  async current(domain: string, now = Date.now()): Promise<StoredCertificate | undefined> {
    const name = domain.toLowerCase();
    for (const stored of await this.list()) {
      if (!stored.meta.domains.includes(name)) continue;
      if (Date.parse(stored.meta.notAfter) <= now || Date.parse(stored.meta.notBefore) > now)
        continue;
      if (!(await exists(stored.certPath)) || !(await exists(stored.keyPath))) continue;
      return stored;
    }
    return undefined;
  }

  /** Finds by order id, or the current certificate of a domain. */
  async find(idOrDomain: string): Promise<StoredCertificate | undefined> {
    if (ORDER_ID.test(idOrDomain)) {
      const byId = (await this.list()).find((s) => s.id === idOrDomain);
      if (byId) return byId;
    }
    return this.current(idOrDomain);
  }

  /** Certificate, key and chain PEM of a stored certificate. */
  async read(stored: StoredCertificate): Promise<{ cert: string; key: string; chain: string }> {
    try {
      const [cert, key, chain] = await Promise.all([
        readFile(stored.certPath, 'utf8'),
        readFile(stored.keyPath, 'utf8'),
        readFile(stored.chainPath, 'utf8').catch(() => ''),
      ]);
      return { cert, key, chain };
    } catch (cause) {
      throw storeError(`certificate ${stored.id} is incomplete`, cause);
    }
  }

  /** Paths, subject, SANs, issuer, validity and days left. */
  async show(idOrDomain: string, now = Date.now()): Promise<CertificateReport | undefined> {
    const stored = await this.find(idOrDomain);
    if (!stored) return undefined;
    const info: CertificateInfo = parseCertificatePem(await readFile(stored.certPath, 'utf8'));
    return {
      ...stored,
      subject: info.subject,
      issuer: info.issuer,
      sans: info.sans,
      serial: info.serial,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      daysLeft: Math.floor((info.notAfter.getTime() - now) / 86_400_000),
    };
  }

  /** Deletes cert.pem and key.pem (and the rest of the order folder). */
  async delete(id: string): Promise<boolean> {
    const paths = this.#paths(id);
    if (!(await exists(paths.dir))) return false;
    await unlink(paths.keyPath).catch(() => {});
    await unlink(paths.certPath).catch(() => {});
    await rm(paths.dir, { recursive: true, force: true });
    return true;
  }

  /**
   * Takes the exclusive lock for `domain` (a lock file created with `wx` holding pid and time).
   * A lock whose process is gone, or older than `staleLockMs`, is taken over. Throws
   * `ERR_ACME_LOCKED` while another live process holds it. Returns the release function.
   */
  async lock(domain: string): Promise<() => Promise<void>> {
    const dir = join(this.base, 'locks');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${domain.toLowerCase().replace(/[^a-z0-9.-]/g, '_')}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, time: Date.now() }));
        closeSync(fd);
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw storeError(`cannot lock ${path}`, error);
        const holder = await readFile(path, 'utf8')
          .then((t) => JSON.parse(t) as { pid?: number; time?: number })
          .catch(() => ({}) as { pid?: number; time?: number });
        const stale =
          typeof holder.pid !== 'number' ||
          !alive(holder.pid) ||
          Date.now() - (holder.time ?? 0) > this.#staleLockMs;
        if (!stale || attempt > 0)
          throw new AcmeError(
            'ERR_ACME_LOCKED',
            `${domain} is being ordered by process ${holder.pid}`,
          );
        await unlink(path).catch(() => {});
      }
    }
    throw new AcmeError('ERR_ACME_LOCKED', `${domain} is locked`);
  }

  /** The stored account (key 0600), if any. */
  async loadAccount(): Promise<StoredAccount | undefined> {
    try {
      return JSON.parse(await readFile(join(this.base, 'account.json'), 'utf8')) as StoredAccount;
    } catch {
      return undefined;
    }
  }

  /** Stores the account key and URL (0600). */
  async saveAccount(account: StoredAccount): Promise<void> {
    await mkdir(this.base, { recursive: true, mode: 0o700 });
    await writeFileAtomic(
      join(this.base, 'account.json'),
      `${JSON.stringify(account, null, 2)}\n`,
      0o600,
    );
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// ---------------------------------------------------------------------------------------------
// account + issuance glue

/** Options of {@link openAccount}. */
export interface OpenAccountOptions
  extends Omit<AcmeClientOptions, 'accountKey' | 'accountUrl' | 'directoryUrl'> {
  readonly store: FileCertificateStore;
  /** Contact e-mail; used when the account is created. */
  readonly email?: string;
  readonly externalAccountBinding?: { readonly kid: string; readonly hmacKey: string };
}

/**
 * A client for the store's directory with the stored account, creating (and storing) the
 * account key and account on first use — no manual account step.
 */
export async function openAccount(options: OpenAccountOptions): Promise<AcmeClient> {
  const { store, email, externalAccountBinding, ...clientOptions } = options;
  let account = await store.loadAccount();
  if (!account) {
    account = { privateJwk: (await generateAccountKey()).privateJwk };
    await store.saveAccount(account);
  }
  const client = new AcmeClient({
    ...clientOptions,
    directoryUrl: store.directoryUrl,
    accountKey: await importAccountKey(account.privateJwk),
    ...(account.url ? { accountUrl: account.url } : {}),
  });
  if (!account.url) {
    const created = await client.createAccount({
      ...(email ? { contact: [email] } : {}),
      termsOfServiceAgreed: true,
      ...(externalAccountBinding ? { externalAccountBinding } : {}),
    });
    await store.saveAccount({
      ...account,
      url: created.url,
      ...(email ? { contact: [email] } : {}),
    });
  }
  return client;
}

/** Options of {@link obtainCertificate}. */
export interface ObtainOptions {
  readonly client: AcmeClient;
  readonly store: FileCertificateStore;
  readonly domains: readonly string[];
  readonly challengeStore: ChallengeStore;
  readonly keyType?: CertKeyType;
  readonly profile?: string;
  readonly preferredChain?: string;
  /** Ask ARI-capable CAs to link the new order to this stored certificate. */
  readonly replaces?: StoredCertificate;
  readonly onProgress?: (step: string) => void;
}

/** Locks the first domain, issues, stores; the lock is released afterwards. */
export async function obtainCertificate(options: ObtainOptions): Promise<StoredCertificate> {
  const [first] = options.domains;
  if (!first) throw new AcmeError('ERR_ACME_INVALID_ARGUMENT', 'no domain given');
  const release = await options.store.lock(first);
  try {
    const issued = await options.client.issue({
      identifiers: options.domains,
      challengeStore: options.challengeStore,
      ...(options.keyType ? { keyType: options.keyType } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.preferredChain ? { preferredChain: options.preferredChain } : {}),
      ...(options.replaces?.meta.ariId ? { replaces: options.replaces.meta.ariId } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    options.onProgress?.('storing');
    return await options.store.save(issued);
  } finally {
    await release();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP-01 on node:http

/** A node:http request listener (also what Express-style `(req, res, next)` code calls). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps your request listener so that `/.well-known/acme-challenge/<token>` is answered from
 * `store` and everything else goes to `app` (404 when no app is given). Mount it on the port
 * the CA reaches (port 80 forwarded to your app's port is fine).
 */
export function challengeListener(store: ChallengeStore, app?: RequestListener): RequestListener {
  return (req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/.well-known/acme-challenge/')) {
      if (app) app(req, res);
      else res.writeHead(404).end();
      return;
    }
    respondToChallenge(store, req.method ?? 'GET', path).then(
      (answer) => {
        if (!answer) return;
        res.writeHead(answer.status, answer.headers).end(answer.body);
      },
      () => res.writeHead(500).end(),
    );
  };
}

/** A running standalone HTTP-01 listener. */
export interface ChallengeServer {
  readonly server: Server;
  readonly port: number;
  readonly store: ChallengeStore;
  close(): Promise<void>;
}

/** Starts a small HTTP server that only answers HTTP-01 challenges. */
export async function startChallengeServer(
  options: { port?: number; host?: string; store?: ChallengeStore } = {},
): Promise<ChallengeServer> {
  const store = options.store ?? new MemoryChallengeStore();
  const server = createServer(challengeListener(store));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new AcmeError('ERR_ACME_INVALID_ARGUMENT', `cannot listen on port ${options.port ?? 80}`, {
          cause,
        }),
      ),
    );
    server.listen(options.port ?? 80, options.host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    store,
    port: typeof address === 'object' && address ? address.port : (options.port ?? 80),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// hot reload

/** The secure context options of a stored certificate (leaf + chain, key). */
export async function secureContextOptions(
  store: FileCertificateStore,
  stored: StoredCertificate,
): Promise<SecureContextOptions> {
  const { cert, key, chain } = await store.read(stored);
  return { cert: cert + chain, key };
}

/** A running hot reload. */
export interface HotReload {
  /** Installs the current certificate of the domain now; resolves to it (or undefined). */
  reload(): Promise<StoredCertificate | undefined>;
  /** Stops listening to the store. */
  stop(): void;
}

/** Options of {@link hotReload}. */
export interface HotReloadOptions {
  /**
   * Also look at the store every this many milliseconds, for certificates saved by another
   * process (e.g. the `fluxel-acme` CLI or a renewal worker). Off by default.
   */
  readonly pollMs?: number;
  /** Called when installing a certificate fails (the old one stays in place). */
  readonly onError?: (error: unknown) => void;
  /** Called after a new certificate was installed. */
  readonly onReload?: (stored: StoredCertificate) => void;
  /**
   * The server's own TLS settings (`ciphers`, `minVersion`, `honorCipherOrder`, `ecdhCurve`,
   * …), installed with every certificate. `server.setSecureContext` replaces the whole
   * context: whatever is not given here falls back to Node's defaults, so a server that
   * restricts its suites must repeat them here or lose them at the first reload.
   */
  readonly contextOptions?: Omit<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
}

/**
 * Keeps a running `https`/`tls` server on the newest stored certificate of `domain`: installs
 * it now and again whenever the store saves a certificate for that domain
 * (`server.setSecureContext`), so no restart is needed. Existing connections keep their
 * certificate; new handshakes get the new one. With `pollMs`, certificates stored by other
 * processes are picked up too.
 */
export function hotReload(
  server: TlsServer,
  store: FileCertificateStore,
  domain: string,
  options: HotReloadOptions = {},
): HotReload {
  const onError = options.onError ?? (() => {});
  let installed: string | undefined;
  // Polling installs only what changed; an explicit reload() always installs.
  const install = async (force: boolean) => {
    const stored = await store.current(domain);
    if (stored && (force || stored.id + stored.meta.serial !== installed)) {
      server.setSecureContext({
        ...options.contextOptions,
        ...(await secureContextOptions(store, stored)),
      });
      installed = stored.id + stored.meta.serial;
      options.onReload?.(stored);
    }
    return stored;
  };
  const reload = () => install(true);
  const off = store.onSaved((stored) => {
    if (stored.meta.domains.includes(domain.toLowerCase())) install(false).catch(onError);
  });
  const timer = options.pollMs
    ? setInterval(() => install(false).catch(onError), options.pollMs)
    : undefined;
  timer?.unref();
  return {
    reload,
    stop: () => {
      off();
      if (timer) clearInterval(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// evaluate

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Port. Default 443. */
  readonly port?: number;
  /** Connect to this host instead of resolving the domain (the name is still verified). */
  readonly host?: string;
  /** Trust these CA certificates instead of the system store. */
  readonly ca?: string | readonly string[];
  /** The store whose current certificate for the domain must be the one served. */
  readonly store?: FileCertificateStore;
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/** The outcome of {@link evaluate}. */
export interface EvaluateResult {
  readonly ok: boolean;
  /** Why not, when not ok; "ok" otherwise. */
  readonly reason: string;
  readonly domain: string;
  readonly port: number;
  /** Serial of the served certificate (hex). */
  readonly servedSerial?: string;
  /** Serial of the stored current certificate, when a store was given. */
  readonly storedSerial?: string;
  readonly notAfter?: Date;
  readonly daysLeft?: number;
  /** The chain verified against the trust store. */
  readonly trusted: boolean;
}

/**
 * Connects over TLS to `domain` (port 443 unless told), verifies the chain against the
 * system store (or `ca`) and the name, and when a store is given checks that the served
 * certificate is the stored current one. Never throws for a failed check: `ok` is false and
 * `reason` says why.
 */
export async function evaluate(
  domain: string,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const port = options.port ?? 443;
  const base = { domain, port };
  const stored = options.store ? await options.store.current(domain) : undefined;
  const storedSerial = stored?.meta.serial;
  const storedDer = stored ? pemBlocks(await readFile(stored.certPath, 'utf8'))[0] : undefined;
  const withStored = storedSerial ? { storedSerial } : {};
  return new Promise<EvaluateResult>((resolve) => {
    const socket = connect({
      host: options.host ?? domain,
      port,
      ...(isIP(domain) ? {} : { servername: domain }),
      ...(options.ca ? { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } : {}),
      timeout: options.timeoutMs ?? 10_000,
    });
    let done = false;
    const finish = (result: EvaluateResult) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      const servedSerial = (peer.serialNumber ?? '').toLowerCase().replace(/^0+(?=.)/, '');
      const notAfter = new Date(peer.valid_to);
      const daysLeft = Math.floor((notAfter.getTime() - Date.now()) / 86_400_000);
      const served = { servedSerial, notAfter, daysLeft, trusted: true, ...withStored };
      if (options.store && !storedSerial)
        return finish({
          ...base,
          ...served,
          ok: false,
          reason: `no current certificate for ${domain} in the store`,
        });
      if (storedSerial && (storedSerial !== servedSerial || !sameBytes(peer.raw, storedDer)))
        return finish({
          ...base,
          ...served,
          ok: false,
          reason: `the server presents serial ${servedSerial}, the store holds ${storedSerial}`,
        });
      finish({ ...base, ...served, ok: true, reason: 'ok' });
    });
    socket.once('timeout', () =>
      finish({ ...base, ...withStored, ok: false, trusted: false, reason: 'timed out' }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({
        ...base,
        ...withStored,
        ok: false,
        trusted: false,
        reason: `${error.code ?? 'ERROR'}: ${error.message}`,
      }),
    );
  });
}

/**
 * {@link evaluate}, but throws `ERR_ACME_EVALUATE_FAILED` (with the reason) when the check
 * fails — for startup checks and health probes.
 */
export async function assertServing(
  domain: string,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const result = await evaluate(domain, options);
  if (!result.ok)
    throw new AcmeError(
      'ERR_ACME_EVALUATE_FAILED',
      `https://${domain}:${result.port}: ${result.reason}`,
    );
  return result;
}

// ---------------------------------------------------------------------------------------------
// renewal manager

/** Timers, injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Events of {@link RenewalManager}. */
export interface RenewalEvents {
  /** `recheck`: the CA's ARI Retry-After comes before the renewal time; ARI is asked again then. */
  scheduled: [
    { domain: string; at: Date; source: 'ari' | 'fraction' | 'missing' | 'retry' | 'recheck' },
  ];
  ordered: [{ domain: string }];
  renewed: [{ domain: string; stored: StoredCertificate }];
  failed: [{ domain: string; error: unknown; attempt: number; retryInMs: number }];
}

/** Options of {@link RenewalManager}. */
export interface RenewalManagerOptions {
  readonly store: FileCertificateStore;
  /** Returns a ready client (e.g. `() => openAccount(...)`). */
  readonly client: () => Promise<AcmeClient>;
  readonly challengeStore: ChallengeStore;
  /** Each entry is one certificate: its domains (the first names the lock and lookup). */
  readonly certificates: readonly (readonly string[])[];
  /** Renew when this fraction of the lifetime remains (no ARI). Default 1/3. */
  readonly fraction?: number;
  /** Use the CA's ARI window when it offers one. Default true. */
  readonly ari?: boolean;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly profile?: string;
  readonly keyType?: CertKeyType;
  readonly clock?: Clock;
  readonly random?: () => number;
}

const MAX_TIMER = 2 ** 31 - 1;

/**
 * Keeps certificates renewed: for each one, a timer at {@link renewalTime} (ARI window or
 * fraction of the lifetime; a missing certificate is ordered at once), then order, store and
 * an event; on failure a jittered exponential backoff. Emits `scheduled`, `ordered`,
 * `renewed`, `failed` — feed them to your audit log.
 */
export class RenewalManager extends EventEmitter<RenewalEvents> {
  readonly #o: RenewalManagerOptions;
  readonly #clock: Clock;
  readonly #timers = new Map<string, unknown>();
  readonly #attempts = new Map<string, number>();
  #running = false;

  constructor(options: RenewalManagerOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Schedules every certificate. */
  async start(): Promise<void> {
    this.#running = true;
    await Promise.all(this.#o.certificates.map((domains) => this.#schedule(domains)));
  }

  /** Cancels all timers. */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
  }

  /** When the certificate for `domains` is due (and from which rule). */
  async dueAt(
    domains: readonly string[],
  ): Promise<{ at: Date; source: 'ari' | 'fraction' | 'missing'; recheckAt?: Date }> {
    const now = this.#clock.now();
    const current = await this.#o.store.current(domains[0] as string, now);
    if (!current) return { at: new Date(now), source: 'missing' };
    const cert = {
      notBefore: new Date(current.meta.notBefore),
      notAfter: new Date(current.meta.notAfter),
    };
    if (this.#o.ari !== false) {
      try {
        const client = await this.#o.client();
        const info = await client.renewalInfo(await readFile(current.certPath, 'utf8'));
        if (info) {
          // RFC 9773 §4.3: ask again after Retry-After, clamped to one minute … one day.
          const recheckMs = Math.min(86_400_000, Math.max(60_000, info.retryAfterMs ?? 21_600_000));
          return {
            at: renewalTime(cert, {
              ari: info.suggestedWindow,
              now,
              ...(this.#o.random ? { random: this.#o.random } : {}),
            }),
            source: 'ari',
            recheckAt: new Date(now + recheckMs),
          };
        }
      } catch {
        // no ARI answer: fall back to the fraction
      }
    }
    return {
      at: renewalTime(cert, { now, ...(this.#o.fraction ? { fraction: this.#o.fraction } : {}) }),
      source: 'fraction',
    };
  }

  async #schedule(domains: readonly string[]): Promise<void> {
    const { at, source, recheckAt } = await this.dueAt(domains);
    if (recheckAt && recheckAt < at)
      this.#arm(domains, recheckAt.getTime() - this.#clock.now(), 'recheck');
    else this.#arm(domains, at.getTime() - this.#clock.now(), source);
  }

  #arm(
    domains: readonly string[],
    delay: number,
    source: 'ari' | 'fraction' | 'missing' | 'retry' | 'recheck',
  ) {
    if (!this.#running) return;
    const key = domains.join(',');
    const previous = this.#timers.get(key);
    if (previous !== undefined) this.#clock.clearTimeout(previous);
    const ms = Math.max(0, delay);
    this.emit('scheduled', {
      domain: domains[0] as string,
      at: new Date(this.#clock.now() + ms),
      source,
    });
    const handle = this.#clock.setTimeout(
      () => {
        this.#timers.delete(key);
        if (ms > MAX_TIMER || source === 'recheck') void this.#schedule(domains).catch(() => {});
        else void this.renewNow(domains).catch(() => {});
      },
      Math.min(ms, MAX_TIMER),
    );
    this.#timers.set(key, handle);
  }

  /** Orders a certificate for `domains` now; schedules the next renewal or a retry. */
  async renewNow(domains: readonly string[]): Promise<StoredCertificate | undefined> {
    const domain = domains[0] as string;
    const key = domains.join(',');
    try {
      this.emit('ordered', { domain });
      const replaces = await this.#o.store.current(domain);
      const stored = await obtainCertificate({
        client: await this.#o.client(),
        store: this.#o.store,
        domains,
        challengeStore: this.#o.challengeStore,
        ...(this.#o.profile ? { profile: this.#o.profile } : {}),
        ...(this.#o.keyType ? { keyType: this.#o.keyType } : {}),
        ...(replaces ? { replaces } : {}),
      });
      this.#attempts.delete(key);
      this.emit('renewed', { domain, stored });
      if (this.#running) await this.#schedule(domains);
      return stored;
    } catch (error) {
      const attempt = this.#attempts.get(key) ?? 0;
      this.#attempts.set(key, attempt + 1);
      const rateLimitMs = AcmeError.isInstance(error) ? (error.retryAfterMs ?? 0) : 0;
      const retryInMs = Math.max(
        rateLimitMs,
        retryDelay(attempt, {
          ...(this.#o.retryBaseMs ? { baseMs: this.#o.retryBaseMs } : {}),
          ...(this.#o.retryMaxMs ? { maxMs: this.#o.retryMaxMs } : {}),
          ...(this.#o.random ? { random: this.#o.random } : {}),
        }),
      );
      this.emit('failed', { domain, error, attempt, retryInMs });
      this.#arm(domains, retryInMs, 'retry');
      return undefined;
    }
  }
}
