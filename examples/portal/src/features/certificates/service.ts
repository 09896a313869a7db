/**
 * The portal's own TLS certificate through ACME (HTTP-01), with `@fluxel/acme-lite`:
 *
 * - orders run in the background; their progress (pending → validating → issuing → installed,
 *   or failed with a message) is a row in `portal_certificate_orders`;
 * - HTTP-01 is answered by a small HTTP listener on the configured port (80 by default — port
 *   80 has to reach it); everything else on it is redirected to HTTPS;
 * - certificates and keys are files in acme-lite's layout under the data directory
 *   (`letsencrypt/<directory-host-reversed>/orders/<order-id>/{cert.pem,key.pem,chain.pem}`);
 * - a new certificate is installed with `ctx.tls.install` (setSecureContext: hot reload, no
 *   restart), and the renewal manager keeps it renewed (ARI or a third of the lifetime left);
 * - delete removes the files, stops the renewal and serves the development certificate again.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AcmeClient, MemoryChallengeStore, parseCertificatePem } from '@fluxel/acme-lite';
import {
  acmeFetch,
  challengeListener,
  type EvaluateResult,
  evaluate,
  FileCertificateStore,
  obtainCertificate,
  openAccount,
  RenewalManager,
  type StoredCertificate,
} from '@fluxel/acme-lite/node';
import { type Context, OPERATOR_TENANT, record } from '../../server/context.ts';
import { type CertificatesConfig, certificatesConfig, directoryOptions } from './config.ts';
import type {
  AcmeDirectoryChoice,
  CertificateDetails,
  CertificateOrderView,
  CertificateSettings,
  CertificatesOverview,
  EvaluateCode,
  EvaluateView,
  OrderFailure,
  OrderState,
  TlsState,
} from './contract.ts';
import * as records from './store.ts';

interface SettingsRow extends CertificateSettings {
  readonly installedDirectory: string;
  readonly installedOrder: string;
  readonly installedDomain: string;
}

interface RenewalEntry {
  readonly manager: RenewalManager;
  readonly domain: string;
  readonly directoryUrl: string;
  nextAt?: Date;
}

/** A stale running order (the process ended while ordering) counts as failed after this. */
const ORDER_STALE_MS = 15 * 60_000;

export class OrderConflict extends Error {}

export class CertificateService {
  readonly #ctx: Context;
  readonly #config: () => CertificatesConfig;
  /** The certificate the portal started with (the development certificate). */
  readonly #dev: { readonly cert: string; readonly key: string };
  readonly #challenges = new MemoryChallengeStore();
  #listener: { server: Server; port: number } | undefined;
  #listening: Promise<void> | undefined;
  readonly #clients = new Map<string, Promise<AcmeClient>>();
  #renewal: RenewalEntry | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(ctx: Context, config: () => CertificatesConfig = () => certificatesConfig()) {
    this.#ctx = ctx;
    this.#config = config;
    this.#dev = ctx.tls.current();
  }

  // ---------------------------------------------------------------- settings

  directoryUrl(choice: AcmeDirectoryChoice): string | undefined {
    // eslint-disable-next-line security/detect-object-injection -- choice is one of the enum's three values
    return this.#config().directories[choice];
  }

  async settings(): Promise<SettingsRow> {
    const r = await records.settingsRow(this.#ctx.db);
    const config = this.#config();
    const stored = r ? (String(r.directory) as AcmeDirectoryChoice) : config.defaultDirectory;
    return {
      address: r ? String(r.address) : '',
      email: r ? String(r.email) : '',
      // A choice that is not configured (any more) falls back to the default.
      // eslint-disable-next-line security/detect-object-injection -- stored is the enum's value as saved
      directory: config.directories[stored] ? stored : config.defaultDirectory,
      installedDirectory: r ? String(r.installed_directory) : '',
      installedOrder: r ? String(r.installed_order) : '',
      installedDomain: r ? String(r.installed_domain) : '',
    };
  }

  async saveSettings(next: CertificateSettings, userId: string): Promise<void> {
    await records.saveSettings(this.#ctx.db, next, userId, this.#ctx.now());
  }

  async #setInstalled(directoryUrl: string, orderId: string, domain: string): Promise<void> {
    await records.setInstalled(this.#ctx.db, { directoryUrl, orderId, domain }, this.#ctx.now());
  }

  #store(directoryUrl: string): FileCertificateStore {
    return new FileCertificateStore({ root: this.#ctx.dataDir, directoryUrl });
  }

  // ---------------------------------------------------------------- show

  async overview(): Promise<CertificatesOverview> {
    const settings = await this.settings();
    const config = this.#config();
    const current = await this.current(settings);
    const order = await this.latestOrder();
    const renewal = this.#renewal;
    return {
      settings: { address: settings.address, email: settings.email, directory: settings.directory },
      directories: directoryOptions(config),
      http01Port: config.http01Port,
      tls: tlsState(current),
      current,
      ...(order ? { order } : {}),
      renewal: {
        active: !!renewal,
        ...(renewal?.nextAt ? { nextAt: renewal.nextAt.toISOString() } : {}),
      },
    };
  }

  /** The served certificate, with its files when it is an ACME certificate from the store. */
  async current(settings?: SettingsRow): Promise<CertificateDetails> {
    const served = this.#ctx.tls.current();
    const info = parseCertificatePem(served.cert);
    const now = this.#ctx.now();
    const base = {
      subject: info.subject,
      sans: info.sans,
      issuer: info.issuer,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      daysLeft: Math.floor((info.notAfter.getTime() - now) / 86_400_000),
    };
    if (served.cert === this.#dev.cert) return { source: 'development', ...base };
    const s = settings ?? (await this.settings());
    const stored =
      s.installedDirectory && s.installedOrder
        ? await this.#store(s.installedDirectory).find(s.installedOrder)
        : undefined;
    return {
      source: 'acme',
      ...base,
      ...(stored
        ? {
            orderId: stored.id,
            directory: stored.dir,
            certPath: stored.certPath,
            keyPath: stored.keyPath,
            chainPath: stored.chainPath,
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------- orders

  async order(id: string): Promise<CertificateOrderView | undefined> {
    const row = await records.orderRow(this.#ctx.db, id);
    return row ? this.#orderView(row) : undefined;
  }

  async latestOrder(): Promise<CertificateOrderView | undefined> {
    const row = await records.latestOrderRow(this.#ctx.db);
    return row ? this.#orderView(row) : undefined;
  }

  #orderView(r: Record<string, unknown>): CertificateOrderView {
    const state = String(r.state) as OrderState;
    const startedAt = Number(r.started_at);
    const running = state !== 'installed' && state !== 'failed';
    // An order whose process ended while it ran never finishes: report it as failed.
    const stale = running && !this.#running && this.#ctx.now() - startedAt > ORDER_STALE_MS;
    const message = stale ? 'interrupted' : r.message == null ? undefined : String(r.message);
    return {
      id: String(r.id),
      domain: String(r.domain),
      state: stale ? 'failed' : state,
      ...(message === undefined ? {} : { message }),
      ...(stale || state === 'failed' ? { failure: orderFailure(message ?? '') } : {}),
      startedAt: new Date(startedAt).toISOString(),
      ...(r.finished_at == null
        ? {}
        : { finishedAt: new Date(Number(r.finished_at)).toISOString() }),
    };
  }

  async #setState(id: string, state: OrderState, message?: string, storeOrder?: string) {
    const final = state === 'installed' || state === 'failed';
    await records.setOrderState(
      this.#ctx.db,
      id,
      state,
      message,
      storeOrder,
      final ? this.#ctx.now() : null,
    );
  }

  /**
   * Starts an order for the configured address in the background and returns its id. Throws
   * {@link OrderConflict} while another order runs.
   */
  async startOrder(userId: string): Promise<{ id: string; domain: string }> {
    if (this.#running) throw new OrderConflict('an order is already running');
    // Claimed at once, so two requests arriving together do not both start an order.
    let release = () => {};
    this.#running = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const settings = await this.settings();
      const directoryUrl = this.directoryUrl(settings.directory);
      if (!settings.address || !settings.email || !directoryUrl)
        throw new OrderConflict('address and e-mail must be set first');
      const id = `crt_${randomBytes(9).toString('base64url')}`;
      const domain = settings.address;
      await records.insertOrder(this.#ctx.db, {
        id,
        domain,
        directoryUrl,
        startedBy: userId,
        at: this.#ctx.now(),
      });
      const run = this.#runOrder(id, domain, settings.email, directoryUrl, userId);
      this.#running = run.finally(() => {
        this.#running = undefined;
      });
      return { id, domain };
    } catch (error) {
      this.#running = undefined;
      throw error;
    } finally {
      release();
    }
  }

  async #runOrder(
    id: string,
    domain: string,
    email: string,
    directoryUrl: string,
    userId: string,
  ): Promise<void> {
    const store = this.#store(directoryUrl);
    let state: OrderState = 'pending';
    const step = (next: OrderState) => {
      if (next === state) return;
      state = next;
      void this.#setState(id, next).catch(() => {});
    };
    try {
      const client = await this.#client(directoryUrl, email, store);
      const replaces = await store.current(domain);
      const stored = await obtainCertificate({
        client,
        store,
        domains: [domain],
        challengeStore: this.#challenges,
        ...(replaces ? { replaces } : {}),
        onProgress: (progress) => {
          if (progress.startsWith('validating')) step('validating');
          else if (progress !== 'ordering') step('issuing');
        },
      });
      await this.#install(store, stored);
      await this.#setState(id, 'installed', undefined, stored.id);
      await record(this.#ctx, undefined, {
        tenant: OPERATOR_TENANT,
        actor: { type: 'user', id: userId },
        action: 'certificate.installed',
        outcome: 'success',
        target: { type: 'certificate', id: stored.id },
        data: { domain, serial: stored.meta.serial, notAfter: stored.meta.notAfter, directoryUrl },
      });
      await this.#startRenewal(domain, directoryUrl, email);
    } catch (error) {
      const message = describe(error);
      await this.#setState(id, 'failed', message).catch(() => {});
      await record(this.#ctx, undefined, {
        tenant: OPERATOR_TENANT,
        actor: { type: 'user', id: userId },
        action: 'certificate.order',
        outcome: 'failure',
        target: { type: 'certificate-order', id },
        reason: message.slice(0, 500),
        data: { domain, directoryUrl },
      }).catch(() => {});
    }
  }

  /** Waits for a running order (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#running;
  }

  async #install(store: FileCertificateStore, stored: StoredCertificate): Promise<void> {
    const { cert, key, chain } = await store.read(stored);
    const full = chain.trim() ? `${cert.trimEnd()}\n${chain.trim()}\n` : cert;
    this.#ctx.tls.install(full, key);
    await this.#setInstalled(store.directoryUrl, stored.id, stored.meta.domains[0] ?? '');
  }

  // ---------------------------------------------------------------- ACME plumbing

  /** The ACME client of a directory with the stored account; the HTTP-01 listener is up. */
  async #client(
    directoryUrl: string,
    email: string,
    store: FileCertificateStore,
  ): Promise<AcmeClient> {
    await this.#ensureListener();
    const key = `${directoryUrl} ${email}`;
    let client = this.#clients.get(key);
    if (!client) {
      const ca = this.#config().acmeCa;
      client = (async () => {
        const opened = await openAccount({
          store,
          email,
          ...(ca ? { fetch: acmeFetch({ ca }) } : {}),
        });
        // The account already existed with another contact: update it.
        const account = await store.loadAccount();
        const contact = `mailto:${email}`;
        if (account && !(account.contact ?? []).some((c) => c === email || c === contact)) {
          await opened.updateAccount([email]);
          await store.saveAccount({ ...account, contact: [email] });
        }
        return opened;
      })();
      this.#clients.set(key, client);
      client.catch(() => this.#clients.delete(key));
    }
    return client;
  }

  /** The HTTP-01 listener: challenges from the memory store, everything else to HTTPS. */
  #ensureListener(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the portal is shutting down'));
    if (this.#listening) return this.#listening;
    const { http01Port, http01Host } = this.#config();
    const server = createServer(
      challengeListener(this.#challenges, (req, res) => {
        const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
        const path = req.url?.startsWith('/') ? req.url : '/';
        if (!/^[a-z0-9.-]{1,253}$/i.test(host)) return void res.writeHead(404).end();
        res.writeHead(301, { location: `https://${host}${path}` }).end();
      }),
    );
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', (cause: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `the HTTP-01 listener cannot open port ${http01Port} (${cause.code ?? cause.message})`,
          ),
        ),
      );
      server.listen(http01Port, http01Host, () => {
        const address = server.address();
        this.#listener = {
          server,
          port: typeof address === 'object' && address ? address.port : http01Port,
        };
        resolve();
      });
    });
    this.#listening = listening;
    listening.catch(() => {
      this.#listening = undefined;
    });
    return listening;
  }

  async #closeListener(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    this.#listening = undefined;
    if (!listener) return;
    listener.server.closeAllConnections();
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  }

  async #startRenewal(domain: string, directoryUrl: string, email: string): Promise<void> {
    this.#renewal?.manager.stop();
    if (this.#closed) return;
    const store = this.#store(directoryUrl);
    const manager = new RenewalManager({
      store,
      client: () => this.#client(directoryUrl, email, store),
      challengeStore: this.#challenges,
      certificates: [[domain]],
    });
    const entry: RenewalEntry = { manager, domain, directoryUrl };
    this.#renewal = entry;
    manager.on('scheduled', ({ at }) => {
      entry.nextAt = at;
    });
    manager.on('renewed', ({ stored }) => {
      void (async () => {
        await this.#install(store, stored);
        await record(this.#ctx, undefined, {
          tenant: OPERATOR_TENANT,
          actor: { type: 'system', id: 'acme-renewal' },
          action: 'certificate.renewed',
          outcome: 'success',
          target: { type: 'certificate', id: stored.id },
          data: { domain, serial: stored.meta.serial, notAfter: stored.meta.notAfter },
        });
      })().catch(() => {});
    });
    manager.on('failed', ({ error, retryInMs }) => {
      void record(this.#ctx, undefined, {
        tenant: OPERATOR_TENANT,
        actor: { type: 'system', id: 'acme-renewal' },
        action: 'certificate.renewed',
        outcome: 'failure',
        reason: describe(error).slice(0, 500),
        data: { domain, retryInMs },
      }).catch(() => {});
    });
    await manager.start();
  }

  // ---------------------------------------------------------------- delete, evaluate

  /**
   * Deletes the installed ACME certificate (cert.pem, key.pem and its order folder), stops the
   * renewal and serves the development certificate again. False when none is installed.
   */
  async deleteCurrent(): Promise<{ deleted: boolean; orderId?: string; domain?: string }> {
    if (this.#running) throw new OrderConflict('an order is running');
    const settings = await this.settings();
    const wasAcme = this.#ctx.tls.current().cert !== this.#dev.cert;
    if (!settings.installedOrder && !wasAcme) return { deleted: false };
    this.#renewal?.manager.stop();
    this.#renewal = undefined;
    this.#ctx.tls.install(this.#dev.cert, this.#dev.key);
    if (settings.installedOrder && settings.installedDirectory)
      await this.#store(settings.installedDirectory).delete(settings.installedOrder);
    await this.#setInstalled('', '', '');
    await this.#closeListener();
    return {
      deleted: true,
      ...(settings.installedOrder
        ? { orderId: settings.installedOrder, domain: settings.installedDomain }
        : {}),
    };
  }

  /** Checks that `https://<address>` answers with a trusted certificate — the installed one. */
  async evaluate(): Promise<EvaluateView> {
    const checkedAt = new Date(this.#ctx.now()).toISOString();
    const settings = await this.settings();
    if (!settings.address)
      return {
        ok: false,
        code: 'not_configured',
        reason: 'no public server address set',
        url: '',
        checkedAt,
      };
    const config = this.#config();
    const url = `https://${settings.address}${config.evaluatePort === 443 ? '' : `:${config.evaluatePort}`}/`;
    const installed =
      settings.installedDirectory && settings.installedDomain === settings.address
        ? this.#store(settings.installedDirectory)
        : undefined;
    const result: EvaluateResult = await evaluate(settings.address, {
      port: config.evaluatePort,
      timeoutMs: 10_000,
      ...(config.evaluateHost ? { host: config.evaluateHost } : {}),
      ...(config.evaluateCa ? { ca: config.evaluateCa } : {}),
      ...(installed ? { store: installed } : {}),
    });
    return {
      ok: result.ok,
      code: evaluateCode(result),
      reason: result.reason,
      url,
      ...(result.servedSerial ? { servedSerial: result.servedSerial } : {}),
      ...(result.storedSerial ? { storedSerial: result.storedSerial } : {}),
      ...(result.daysLeft !== undefined ? { daysLeft: result.daysLeft } : {}),
      checkedAt,
    };
  }

  // ---------------------------------------------------------------- life cycle

  /**
   * At start: installs the stored certificate the settings name (hot, before the first
   * request is likely) and starts its renewal; an order that was running when the previous
   * process ended is marked failed.
   */
  async start(): Promise<void> {
    await records.failInterruptedOrders(
      this.#ctx.db,
      this.#ctx.now(),
      this.#ctx.now() - ORDER_STALE_MS,
    );
    const settings = await this.settings();
    if (!settings.installedDirectory || !settings.installedOrder) return;
    const store = this.#store(settings.installedDirectory);
    const stored =
      (await store.current(settings.installedDomain)) ??
      (await store.find(settings.installedOrder));
    if (stored) await this.#install(store, stored);
    if (settings.email && settings.installedDomain)
      await this.#startRenewal(
        settings.installedDomain,
        settings.installedDirectory,
        settings.email,
      );
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#renewal?.manager.stop();
    this.#renewal = undefined;
    await this.#running?.catch(() => {});
    await this.#closeListener();
  }
}

/**
 * The stable failure code of a stored order message (`describe` below wrote it): what the
 * web app explains in words, so the CA's URL, the error code and its detail stay off the page.
 */
export function orderFailure(message: string): OrderFailure {
  if (message === 'interrupted') return 'interrupted';
  if (message.startsWith('the HTTP-01 listener cannot open port')) return 'listener_port';
  if (message.startsWith('ERR_ACME_RATE_LIMITED')) return 'acme_rate_limited';
  if (message.startsWith('ERR_ACME_TIMEOUT')) return 'acme_timeout';
  if (message.startsWith('ERR_ACME_UNREACHABLE')) return 'acme_unreachable';
  if (/^ERR_ACME_PROBLEM: (?:request to \S+ failed|\S+ is not an ACME directory)/.test(message))
    return 'acme_unreachable';
  if (
    /^ERR_ACME_PROBLEM: (?:validation of |authorisation for |the CA offers no http-01)/.test(
      message,
    )
  )
    return 'validation_failed';
  if (message.startsWith('ERR_ACME_')) return 'acme_refused';
  return 'error';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const problem = (error as { problem?: { detail?: unknown } }).problem;
    const detail = typeof problem?.detail === 'string' ? `: ${problem.detail}` : '';
    const prefix = typeof code === 'string' && code.startsWith('ERR_ACME') ? `${code}: ` : '';
    return `${prefix}${error.message}${detail && !error.message.includes(String(problem?.detail)) ? detail : ''}`;
  }
  return String(error);
}

const UNTRUSTED = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
];
const UNREACHABLE = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
];

function evaluateCode(result: EvaluateResult): EvaluateCode {
  if (result.ok) return 'ok';
  const reason = result.reason;
  const code = reason.split(':')[0] ?? '';
  if (reason === 'timed out') return 'timeout';
  if (reason.startsWith('no current certificate')) return 'not_installed';
  if (reason.startsWith('the server presents serial')) return 'mismatch';
  if (code === 'CERT_HAS_EXPIRED') return 'expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'name_mismatch';
  if (UNTRUSTED.includes(code)) return 'untrusted';
  if (UNREACHABLE.includes(code)) return 'unreachable';
  return 'error';
}

function tlsState(current: CertificateDetails): TlsState {
  if (current.source === 'development') return 'development';
  if (current.daysLeft < 0) return 'expired';
  const lifetime = Date.parse(current.notAfter) - Date.parse(current.notBefore);
  const left = current.daysLeft * 86_400_000;
  return left < lifetime / 3 && current.daysLeft < 30 ? 'expiring' : 'active';
}
