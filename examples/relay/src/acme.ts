/**
 * Production TLS for the relay: certificates from an ACME CA (Let's Encrypt, or Pebble in
 * tests) through `@fluxel/acme-lite`, kept in `<dataDir>/letsencrypt/…`, served with hot
 * reload (`setSecureContext`, no restart) and renewed by acme-lite's `RenewalManager` (ARI
 * window when the CA offers one, else a third of the lifetime left).
 *
 * Start-up: {@link prepareAcme} opens the store and the HTTP-01 listener; `attach` installs the
 * stored certificate (if any) into the HTTPS server before it listens; `start` schedules the
 * first order (none stored) or the next renewal in the background. Failures are logged
 * (error code and CA problem type only) and audited, and leave the current certificate in
 * place.
 */
import { EventEmitter } from 'node:events';
import type { Server as TlsServer } from 'node:tls';
import {
  type AcmeClient,
  AcmeError,
  acmeFetch,
  type ChallengeServer,
  type ChallengeStore,
  FileCertificateStore,
  type HotReload,
  hotReload,
  MemoryChallengeStore,
  type OrderLock,
  openAccount,
  parseCertificatePem,
  type RedisChallengeClient,
  type RedisLockClient,
  RenewalManager,
  redisChallengeStore,
  redisOrderLock,
  type StoredCertificate,
  startChallengeServer,
} from '@fluxel/acme-lite/node';
import type { AuditEventInput } from '@fluxel/audit';

export interface RelayAcmeOptions {
  /** ACME directory URL (e.g. `https://acme-v02.api.letsencrypt.org/directory`). */
  readonly directoryUrl: string;
  /** Names of the certificate; the first one names it in the store. */
  readonly domains: readonly string[];
  /** Contact e-mail of the ACME account (created on first use, kept in the store). */
  readonly email: string;
  /** Port of the HTTP-01 challenge listener (the CA fetches port 80; forward it). Default 80. */
  readonly http01Port?: number;
  /** Address of the HTTP-01 listener. Default `127.0.0.1`, like the relay itself. */
  readonly http01Host?: string;
  /** PEM CA certificate(s) to trust for the ACME server itself (Pebble, a private CA). */
  readonly caPem?: string;
  readonly renewal?: RelayRenewalOptions;
  /**
   * Where HTTP-01 challenges are kept while an order is open. Default: in the relay's Redis
   * (`redisUrl`; acme-lite's `redisChallengeStore`), so that whichever instance behind the
   * load balancer the CA's fetch reaches answers it; without Redis, in this process's memory
   * (one instance only).
   */
  readonly challengeStore?: ChallengeStore;
  /**
   * Put before the Redis keys of challenges (`<prefix>http01:<token>`) and of the order lock
   * (`<prefix>lock:<domain>`). Instances that share certificates share it; deployments that
   * share one Redis use different ones. Default `fluxel:acme:`.
   */
  readonly redisPrefix?: string;
}

/** The Redis commands ACME uses (node-redis fits as it is). */
export type AcmeRedis = RedisChallengeClient & RedisLockClient;

export interface RelayRenewalOptions {
  /** Renew when this fraction of the lifetime remains (no ARI window). Default 1/3. */
  readonly fraction?: number;
  /** Follow the CA's ARI window when offered. Default true. */
  readonly ari?: boolean;
  /** First retry after a failed order; doubles up to `retryMaxMs`. Default 1 min. */
  readonly retryBaseMs?: number;
  /** Default 6 h. */
  readonly retryMaxMs?: number;
  /**
   * Also look at the store this often for a certificate saved by another process (another
   * instance on the same data directory, the `fluxel-acme` CLI). Default 60 000 ms; 0 = off.
   */
  readonly reloadPollMs?: number;
}

/** The certificate new TLS handshakes get. */
export interface TlsStatus {
  /** `acme`: from the store; `dev`: the local development certificate. */
  readonly source: 'acme' | 'dev';
  readonly subject: string;
  readonly issuer: string;
  readonly sans: readonly string[];
  /** Lower-case hex, as in the store's `meta.json`. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The store's order id, for an ACME certificate. */
  readonly orderId?: string;
  /** When the renewal manager will act next, and by which rule. */
  readonly nextRenewal?: { readonly at: Date; readonly source: string };
}

export interface RelayAcmeEvents {
  /** A new certificate was stored and installed (new handshakes use it). */
  obtained: [TlsStatus];
  /** An order failed; the current certificate stays. */
  failed: [{ code: string; attempt: number; retryInMs: number }];
  /** The renewal manager armed its timer. */
  scheduled: [{ at: Date; source: string }];
}

export interface AcmeLog {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
}

/** The relay's ACME side; created before the HTTPS server listens. */
export interface RelayAcme extends EventEmitter<RelayAcmeEvents> {
  readonly store: FileCertificateStore;
  /** Port of the HTTP-01 listener. */
  readonly http01Port: number;
  /** Installs the stored certificate (if any) into `server`; call before it listens. */
  attach(
    server: TlsServer,
    hooks: { record: (e: AuditEventInput) => Promise<void>; log: AcmeLog },
  ): Promise<void>;
  /** Schedules the first order or the next renewal (in the background). */
  start(): void;
  status(): TlsStatus;
  /** Stops the renewal manager, the store watch and the HTTP-01 listener. Idempotent. */
  stop(): Promise<void>;
}

/** Subject, issuer, names, serial and validity of a PEM certificate (the first block). */
export function certificateStatus(
  pem: string,
  source: TlsStatus['source'],
  orderId?: string,
): TlsStatus {
  const info = parseCertificatePem(pem);
  return {
    source,
    subject: info.subject,
    issuer: info.issuer,
    sans: info.sans,
    serial: info.serial,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    ...(orderId ? { orderId } : {}),
  };
}

/** The error code and the CA's problem type: what is logged and audited of a failure. */
function describeError(error: unknown): { code: string; problemType?: string } {
  if (AcmeError.isInstance(error)) {
    const type = error.problem?.type;
    return { code: error.code, ...(typeof type === 'string' ? { problemType: type } : {}) };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  return { code: typeof code === 'string' ? code : 'ERR_UNKNOWN' };
}

const ACTOR = { type: 'service', id: 'acme' } as const;

/** Takes `first`, then the store's lock file; releases both (the file's first). */
function bothLocks(first: OrderLock, store: FileCertificateStore): OrderLock {
  return async (domain) => {
    const releaseFirst = await first(domain);
    try {
      const releaseFile = await store.lock(domain);
      return async () => {
        await releaseFile();
        await releaseFirst();
      };
    } catch (error) {
      await releaseFirst();
      throw error;
    }
  };
}

/**
 * Opens the certificate store under `<dataDir>/letsencrypt/` and starts the HTTP-01 listener
 * (throws when its port cannot be bound). `devCert` is what is served until an ACME
 * certificate is stored. With `redis` (the relay's client), challenges are kept there and
 * the order lock holds across instances.
 */
export async function prepareAcme(
  options: RelayAcmeOptions,
  dataDir: string,
  devCert: string,
  redis?: AcmeRedis,
): Promise<RelayAcme> {
  const domains = options.domains.map((d) => d.trim().toLowerCase()).filter(Boolean);
  const [domain] = domains;
  if (!domain) throw new Error('acme: at least one domain is required');
  const store = new FileCertificateStore({ root: dataDir, directoryUrl: options.directoryUrl });
  const redisPrefix = options.redisPrefix ?? 'fluxel:acme:';
  const challenges =
    options.challengeStore ??
    (redis
      ? redisChallengeStore(redis, { prefix: `${redisPrefix}http01:` })
      : new MemoryChallengeStore());
  // With Redis, one order at a time across instances (the pid in the store's lock file means
  // nothing across hosts or containers); the lock file is still taken, against the
  // `fluxel-acme` CLI on the same data directory.
  const lock = redis
    ? bothLocks(redisOrderLock(redis, { prefix: `${redisPrefix}lock:` }), store)
    : undefined;
  const challengeServer: ChallengeServer = await startChallengeServer({
    port: options.http01Port ?? 80,
    host: options.http01Host ?? '127.0.0.1',
    store: challenges,
  });
  const fetch = options.caPem ? acmeFetch({ ca: options.caPem }) : undefined;
  let client: Promise<AcmeClient> | undefined;
  const renewal = options.renewal ?? {};
  const manager = new RenewalManager({
    store,
    // Created on first use and kept in the store; a failed attempt is retried next time.
    client: () => {
      client ??= openAccount({ store, email: options.email, ...(fetch ? { fetch } : {}) });
      return client.catch((error: unknown) => {
        client = undefined;
        throw error;
      });
    },
    challengeStore: challenges,
    ...(lock ? { lock } : {}),
    certificates: [domains],
    ...(renewal.fraction !== undefined ? { fraction: renewal.fraction } : {}),
    ...(renewal.ari !== undefined ? { ari: renewal.ari } : {}),
    ...(renewal.retryBaseMs !== undefined ? { retryBaseMs: renewal.retryBaseMs } : {}),
    ...(renewal.retryMaxMs !== undefined ? { retryMaxMs: renewal.retryMaxMs } : {}),
  });

  const events = new EventEmitter<RelayAcmeEvents>();
  let current = certificateStatus(devCert, 'dev');
  let nextRenewal: TlsStatus['nextRenewal'];
  let reloader: HotReload | undefined;
  let hooks: Parameters<RelayAcme['attach']>[1] | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;

  const installed = async (stored: StoredCertificate) => {
    const { cert } = await store.read(stored);
    current = certificateStatus(cert, 'acme', stored.id);
  };
  const audit = (event: Omit<AuditEventInput, 'tenant' | 'actor'>) => {
    if (stopped || !hooks) return;
    hooks.record({ tenant: 'system', actor: ACTOR, ...event }).catch(() => {});
  };

  manager.on('scheduled', ({ at, source }) => {
    nextRenewal = { at, source };
    events.emit('scheduled', { at, source });
  });
  manager.on('ordered', () => {
    if (!stopped) hooks?.log.info({ domains }, 'ordering a TLS certificate');
  });
  manager.on('renewed', ({ stored }) => {
    if (stopped || !reloader) return;
    const reload = reloader;
    void (async () => {
      try {
        // hotReload installs on the store's save as well; this makes sure it is in place
        // before the event says so.
        const now = await reload.reload();
        if (now) await installed(now);
        const status = current;
        hooks?.log.info(
          { domains, orderId: stored.id, serial: status.serial, notAfter: status.notAfter },
          'TLS certificate installed',
        );
        audit({
          action: 'tls.certificate.obtained',
          outcome: 'success',
          data: {
            domains,
            orderId: stored.id,
            serial: status.serial,
            issuer: status.issuer,
            notAfter: status.notAfter.toISOString(),
          },
        });
        events.emit('obtained', status);
      } catch (error) {
        const info = describeError(error);
        hooks?.log.warn({ domains, ...info }, 'TLS certificate could not be installed');
        audit({
          action: 'tls.certificate.failed',
          outcome: 'failure',
          reason: info.code,
          data: { domains, ...info, stage: 'install' },
        });
      }
    })();
  });
  manager.on('failed', ({ error, attempt, retryInMs }) => {
    if (stopped) return;
    const info = describeError(error);
    hooks?.log.warn(
      { domains, ...info, attempt, retryInMs },
      'TLS certificate order failed; keeping the current certificate',
    );
    audit({
      action: 'tls.certificate.failed',
      outcome: 'failure',
      reason: info.code,
      data: { domains, ...info, attempt, retryInMs, stage: 'order' },
    });
    events.emit('failed', { code: info.code, attempt, retryInMs });
  });

  return Object.assign(events, {
    store,
    http01Port: challengeServer.port,
    async attach(server: TlsServer, h: NonNullable<typeof hooks>) {
      hooks = h;
      reloader = hotReload(server, store, domain, {
        ...(renewal.reloadPollMs === 0 ? {} : { pollMs: renewal.reloadPollMs ?? 60_000 }),
        onReload: (stored) => {
          installed(stored).catch(() => {});
        },
        onError: (error) => {
          if (!stopped) h.log.warn({ domains, ...describeError(error) }, 'TLS reload failed');
        },
      });
      const stored = await reloader.reload();
      if (stored) await installed(stored);
    },
    start() {
      void (async () => {
        await manager.start();
        // A stored certificate that lacks a configured name is replaced now, not when due.
        const stored = await store.current(domain);
        if (stored && !domains.every((d) => stored.meta.domains.includes(d)))
          await manager.renewNow(domains);
      })().catch((error: unknown) => {
        if (!stopped) hooks?.log.warn({ domains, ...describeError(error) }, 'ACME start failed');
      });
    },
    status: (): TlsStatus => ({ ...current, ...(nextRenewal ? { nextRenewal } : {}) }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        manager.stop();
        reloader?.stop();
        await challengeServer.close();
      })();
      return stopping;
    },
  }) as RelayAcme;
}
