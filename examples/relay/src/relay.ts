/**
 * The Fluxel relay's composition root: `createRelay` opens what the options name (TLS, keys,
 * database, audit log, Redis, event feed), builds the parts — the license authority on SQL,
 * the credential {@link Vault}, the {@link Mailbox} of inbound events, the send ledger and the
 * forwarder (`send-ledger.ts`, `forward.ts`) — registers the routes on the HTTPS server
 * (`http.ts`; `routes/agent-api.ts` for every route of `relayContract`, `routes/webhooks.ts`,
 * the portal API) and owns the lifecycle: listen, then close in order.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AlertEngine,
  type AlertHook,
  type AlertRule,
  AuditLog,
  type LogStore,
  secondActivation,
  signingKeyFromSeed,
  type VerifyingKey,
  verifyingKeyFromRaw,
} from '@fluxel/audit';
import { FileStore } from '@fluxel/audit/node';
import { type KekProvider, Keyring } from '@fluxel/crypto';
import { keyFileKek } from '@fluxel/crypto/node';
import { createNonceSource, LicenseAuthority, type ReplayStore } from '@fluxel/license';
import { createVerifyPool, defaultVerifyThreads } from '@fluxel/license/node';
import { SqlLicenseStore } from '@fluxel/license/sql';
import { amqpSink, natsSink } from '@fluxel-example/kit/brokers';
import { type Database, openDatabase } from '@fluxel-example/kit/database';
import {
  type DatabaseWait,
  describeDatabaseWait,
  untilDatabaseReady,
} from '@fluxel-example/kit/database-start';
import {
  memoryRateLimiter,
  type RateLimiter,
  type RedisCounter,
  redisRateLimiter,
} from '@fluxel-example/kit/rate-limit';
import { type DevTls, ensureDevTls, keepTlsPolicy } from '@fluxel-example/kit/tls';
import { trustedProxies } from '@fluxel-example/kit/trusted-proxies';
import {
  type AcmeRedis,
  certificateStatus,
  prepareAcme,
  type RelayAcme,
  type RelayAcmeOptions,
  type TlsStatus,
} from './acme.ts';
import { type AdminApiOptions, type AdminServer, startAdminServer } from './admin.ts';
import type { Connector } from './connector.ts';
import { migrateRelay } from './db.ts';
import type { FeedOptions, FeedSink, FeedSinkStats } from './feed.ts';
import { Forwarder } from './forward.ts';
import { createHttpServer, invalid, rateLimit, urlHost } from './http.ts';
import { CachedLicenseStore } from './license-cache.ts';
import { Mailbox } from './mailbox.ts';
import {
  checkMailboxPollOptions,
  localArrivals,
  type MailboxArrivals,
  postgresArrivals,
} from './mailbox-wait.ts';
import { type PortalApiOptions, registerPortalRoutes } from './portal.ts';
import { Recorder } from './recorder.ts';
import { openReplayStore } from './replay-store.ts';
import { registerAgentApi } from './routes/agent-api.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { checkIdempotencyWindow, SendLedger } from './send-ledger.ts';
import { Vault } from './vault.ts';

export const RELAY_VERSION = '0.1.0';
export { MAILBOX_TTL_MS } from './mailbox.ts';

export interface RelayOptions {
  /** Where dev state lives (TLS, KEK, secrets, PGlite, audit). Default `./.data`. */
  readonly dataDir?: string;
  /**
   * The KEKs that seal the tenant keys (and open values sealed before tenant keys): the first
   * seals, any opens what its header names. Default the key file `<dataDir>/kek.key`
   * ({@link relayFileKek}). In production a KMS key first and the key file second
   * (`RELAY_KMS_KEY_ID`; `kmsKeyring` of `@fluxel-example/kit/kek`), so rows sealed before the
   * switch still open.
   */
  readonly keyring?: Keyring;
  /** TLS directory; default `<dataDir>/tls`. */
  readonly tlsDir?: string;
  /**
   * Address the HTTPS listener (and, unless `admin.host` is set, the admin gRPC API) binds;
   * default `127.0.0.1`. `0.0.0.0` or `::` in a container behind a proxy.
   */
  readonly host?: string;
  /** Port on `host`; default 0 (any free port). */
  readonly port?: number;
  /** The URL agents use (DPoP `htu` is checked against it); default `https://127.0.0.1:<port>`. */
  readonly publicUrl?: string;
  /** An open database; otherwise PostgreSQL at `databaseUrl`, otherwise PGlite. */
  readonly database?: Database;
  readonly databaseUrl?: string;
  /** PostgreSQL schema (created when missing). */
  readonly databaseSchema?: string;
  /** PGlite in memory instead of `<dataDir>/pglite`. Default false. */
  readonly inMemoryDatabase?: boolean;
  /**
   * How long the start waits for a database that is unreachable or read-only (a standby before
   * its promotion) before it fails with a message saying what to check; default 5 minutes.
   */
  readonly databaseWaitMs?: number;
  /** Told before each such wait; default a line on stderr when `logger` is on. */
  readonly onDatabaseWait?: (wait: DatabaseWait) => void;
  /** Forwards `send` to the third party. */
  readonly connector: Connector;
  /** Clock (ms) of the mailbox and webhook timestamps; injectable for tests. */
  readonly clock?: () => number;
  /** Largest request body in bytes; default 256 KiB. */
  readonly bodyLimit?: number;
  /** Require DPoP server nonces; default true. */
  readonly nonces?: boolean;
  /**
   * Worker threads that check the signatures of DPoP proofs (one per request)
   * (`createVerifyPool` of `@fluxel/license/node`), so the per-request elliptic-curve work
   * runs on the other cores while the main thread does TLS, HTTP and the database. The replay
   * cache and the nonces stay on the main thread. Default: one per core beyond the first
   * (`RELAY_VERIFY_THREADS`); 0 checks them on the main thread.
   */
  readonly verifyThreads?: number;
  /** Audit store; default a file log in `<dataDir>/audit`. */
  readonly auditStore?: LogStore;
  /**
   * Alert rules run over the relay's own audit log; each alert is appended to it as an
   * `alert.<rule>` event (so it is signed, chained and shipped like any other), logged as a
   * warning, and handed to the hooks (e.g. `webhookHook`, `emailHook` of `@fluxel/audit`).
   * Default: `secondActivation()` — an activation attempt on a spent license. `false`: off.
   */
  readonly alerts?:
    | { readonly rules?: readonly AlertRule[]; readonly hooks?: readonly AlertHook[] }
    | false;
  /** Fastify logger (never logs bodies or auth headers). Default false. */
  readonly logger?: boolean;
  /**
   * Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges, e.g. the edge
   * network's subnet; `RELAY_TRUSTED_PROXIES`): the per-IP limit and the audit log then see
   * the client's address instead of the proxy's. Default none: the header is ignored.
   */
  readonly trustedProxies?: readonly string[];
  /** Serve the LicenseAdmin gRPC API on a second port (bearer token). Off when absent. */
  readonly admin?: AdminApiOptions;
  /**
   * Redis (`redis://…`): the DPoP replay cache, the rate-limit counters and (with `acme`) the
   * HTTP-01 challenges and the ACME order lock live there, shared by every instance. In memory
   * (per process) when absent.
   */
  readonly redisUrl?: string;
  /** Fixed-window rate limits; `false` turns them off. */
  readonly rateLimit?: false | RateLimitOptions;
  /**
   * A waiting long-poll is woken by a notification when an event for its license arrives: at
   * this instance at once, and at other instances through PostgreSQL `LISTEN/NOTIFY` when the
   * relay opened PostgreSQL itself (`databaseUrl`; also given with `database`, it is the
   * connection LISTENed on). Only without such a channel (a `database` handed in without
   * `databaseUrl`), or while the listening connection is down, does a waiting poll re-read
   * the mailbox this often. Default 1000 ms.
   */
  readonly mailboxPollMs?: number;
  /**
   * Long-polls of one license that may wait at once at this instance; a further one is
   * refused with 429 (`ERR_MAILBOX_POLLS`, `Retry-After` until the soonest waiting poll ends)
   * instead of being held. Default 4.
   */
  readonly mailboxPollsPerLicense?: number;
  /**
   * Whether the deprecated shared hook URL `/v1/hooks/<connection>` still takes webhooks for
   * connections stored before per-connection hook URLs existed. Default true; set false once
   * every third party posts to the connection's own URL (the audit log's `legacyHook: true`
   * entries say who still uses the shared one): the route then answers 404.
   */
  readonly legacyWebhooks?: boolean;
  /**
   * A `send` whose idempotency record has been pending this long (its attempt died with its
   * instance) is taken over by a retry and forwarded again. Default 60 000 ms; keep it above
   * the connector's timeout.
   */
  readonly pendingLeaseMs?: number;
  /**
   * How long a `send`'s idempotency record is kept, counted from its claim: within it a retry
   * replays the outcome; after it the key is new again (forwarded once more) and the periodic
   * purge deletes the record. Default 86 400 000 ms (24 h); at least `pendingLeaseMs`, at most
   * 30 days.
   */
  readonly idempotencyWindowMs?: number;
  /**
   * How long a license row read by request verification is reused (0 = never, at most
   * 1000 ms). Changes through this instance (lock, unlock, rebind, activation) drop it at
   * once; a change made at another instance is seen within this time. Default 1000 ms.
   */
  readonly licenseCacheMs?: number;
  /**
   * How long credentials decrypted for `send` stay in memory for the next send of the same
   * connection, keyed by the exact sealed value read with every send — a replaced or deleted
   * credential is never used, however young the entry. 0 = decrypt on every send. Default
   * 30 000 ms.
   */
  readonly credentialCacheMs?: number;
  /**
   * How often (ms) a tenant key held in memory is checked for a tombstone, so a tenant shredded
   * through another instance stops opening here within this time. Default 5000.
   */
  readonly tenantKeyRecheckMs?: number;
  /** How long close() waits for requests in flight before cutting connections. Default 30 s. */
  readonly closeTimeoutMs?: number;
  /**
   * The partner event feed (metadata of mailbox and audit events) to RabbitMQ (`amqpUrl`)
   * and/or NATS JetStream (`natsUrl`). Off when neither is set.
   */
  readonly feed?: EventFeedOptions;
  /**
   * The portal's credential API under `/internal/portal/v1/` (bearer token, ≥ 32
   * characters). Off (404) when absent.
   */
  readonly portal?: PortalApiOptions;
  /**
   * Certificates from an ACME CA (`@fluxel/acme-lite`) in `<dataDir>/letsencrypt/`, served
   * with hot reload and renewed in the background; HTTP-01 on `http01Port` (default 80).
   * The stored certificate is served from the start, else the dev certificate until the
   * first order completes. With `redisUrl`, challenges and the order lock are in Redis, so
   * several instances behind a load balancer can order (see `RelayAcmeOptions.challengeStore`).
   * Off (dev certificate only) when absent.
   */
  readonly acme?: RelayAcmeOptions;
}

export interface EventFeedOptions extends FeedOptions {
  /** `amqp://…`: topic exchange `fluxel.events`, routing key = event type. */
  readonly amqpUrl?: string;
  /** `nats://…`: JetStream stream `FLUXEL_EVENTS`, subjects `fluxel.events.<type>`. */
  readonly natsUrl?: string;
  /** How often a run of drops is written to the audit log and the log. Default 60 000 ms. */
  readonly dropReportIntervalMs?: number;
}

export interface RateLimitOptions {
  /** Window length; default 60 000 ms. */
  readonly windowMs?: number;
  /** Requests per window from one client IP (every route); default 1200. */
  readonly perIp?: number;
  /** Verified requests per window of one license; default 600. */
  readonly perLicense?: number;
}

export interface Relay {
  readonly url: string;
  readonly port: number;
  readonly tls: DevTls;
  readonly authority: LicenseAuthority;
  readonly database: Database;
  readonly audit: AuditLog;
  /** The alert rules over the audit log (absent with `alerts: false`). */
  readonly alerts: AlertEngine | undefined;
  /** The public key that signs the audit log's checkpoints (pin it in the verifier). */
  readonly auditKey: VerifyingKey;
  /** The admin gRPC port, when the admin API is on. */
  readonly adminPort: number | undefined;
  /** The partner event feed's counters per broker (`amqp`, `nats`); empty when off. */
  readonly feed: { stats(): Record<string, FeedSinkStats> };
  /** The ACME side (events `obtained`, `failed`, `scheduled`; the store), when `acme` is set. */
  readonly acme: RelayAcme | undefined;
  /** The certificate new HTTPS handshakes get (subject, issuer, names, serial, validity). */
  tlsStatus(): TlsStatus;
  /**
   * Deletes mailbox events past their horizon (returns how many) and idempotency records past
   * the idempotency window (bounded per run).
   */
  purgeExpired(): Promise<number>;
  /**
   * Stops accepting connections, lets requests in flight finish (long-polls return at once),
   * then closes the admin API, the ACME renewal and HTTP-01 listener, Redis, the audit log and
   * the database it opened. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The relay's key file KEK, `<dataDir>/kek.key` (created on first use, id `dev-file-kek`): the
 * default keyring alone, or kept behind a KMS key to open rows sealed before the switch.
 */
export function relayFileKek(dataDir: string): Promise<KekProvider> {
  // eslint-disable-next-line security/detect-non-literal-fs-filename -- the operator's data directory (option / RELAY_DATA_DIR), not request input
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 });
  return keyFileKek(join(resolve(dataDir), 'kek.key'), { create: true, id: 'dev-file-kek' });
}

export async function createRelay(options: RelayOptions): Promise<Relay> {
  if (options.idempotencyWindowMs !== undefined)
    checkIdempotencyWindow(options.idempotencyWindowMs, options.pendingLeaseMs);
  checkMailboxPollOptions({
    maxPerLicense: options.mailboxPollsPerLicense,
    fallbackPollMs: options.mailboxPollMs,
  });
  if (options.keyring !== undefined && !(options.keyring instanceof Keyring))
    throw new TypeError(
      'keyring must be a Keyring of @fluxel/crypto, e.g. new Keyring([awsKmsKek(…), await relayFileKek(dataDir)])',
    );
  const trustProxy = trustedProxies(options.trustedProxies);
  const verifyThreads = options.verifyThreads ?? defaultVerifyThreads();
  if (!Number.isInteger(verifyThreads) || verifyThreads < 0 || verifyThreads > 64)
    throw new RangeError(
      `verifyThreads must be a whole number from 0 (main thread) to 64, got ${verifyThreads}`,
    );
  const dataDir = resolve(options.dataDir ?? '.data');
  const clock = options.clock ?? Date.now;
  const tls = ensureDevTls(options.tlsDir ?? join(dataDir, 'tls'));
  // Redis first: ACME keeps its challenges and order lock there when it is configured.
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  if (options.redisUrl) redis = await connectRedis(options.redisUrl);
  let acme: RelayAcme | undefined;
  try {
    acme = options.acme
      ? await prepareAcme(options.acme, dataDir, tls.cert, redis as AcmeRedis | undefined)
      : undefined;
  } catch (error) {
    await redis?.close();
    throw error;
  }
  const secrets = await loadOrCreateSecrets(dataDir);
  const keyring = options.keyring ?? new Keyring([await relayFileKek(dataDir)]);
  const ownsDatabase = !options.database;
  // The database may not be there yet (a stack starting, a network blip, a standby before its
  // promotion): the start waits for it, saying why, up to `databaseWaitMs`.
  const onWait = options.onDatabaseWait ?? defaultDatabaseWait(options.logger);
  const waitOptions = {
    ...(options.databaseWaitMs !== undefined ? { boundMs: options.databaseWaitMs } : {}),
    ...(onWait ? { onWait } : {}),
  };
  const database = await untilDatabaseReady(async () => {
    if (options.database) {
      await migrateRelay(options.database);
      return options.database;
    }
    const opened = await openDatabase({
      ...(options.databaseUrl ? { url: options.databaseUrl } : {}),
      ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
      ...(options.inMemoryDatabase ? {} : { pgliteDir: join(dataDir, 'pglite') }),
      ...(options.logger
        ? { onServerChange: (s: string) => console.error(`relay: database now at ${s}`) }
        : {}),
    });
    try {
      await migrateRelay(opened);
    } catch (error) {
      await opened.close().catch(() => {});
      throw error;
    }
    return opened;
  }, waitOptions);
  const licenseStore = new SqlLicenseStore(database);
  let replay: ReplayStore;
  try {
    replay = await openReplayStore(database, redis);
  } catch (error) {
    await redis?.close();
    if (ownsDatabase) await database.close().catch(() => {});
    throw error;
  }

  const auditSigningKey = signingKeyFromSeed(secrets.auditSeed);
  const audit = await AuditLog.open({
    store: options.auditStore ?? new FileStore(join(dataDir, 'audit')),
    signingKey: auditSigningKey,
    checkpointEvery: 100,
  });
  const alerts =
    options.alerts === false
      ? undefined
      : new AlertEngine({
          rules: options.alerts?.rules ?? [secondActivation()],
          hooks: [
            async (alert) => {
              warn('alert raised', {
                alert: alert.action,
                severity: String((alert.data as { severity?: unknown } | undefined)?.severity),
                summary: alert.reason ?? '',
                tenant: alert.tenant,
              });
            },
            ...(options.alerts?.hooks ?? []),
          ],
        });
  const detachAlerts = alerts?.attach(audit);
  const feedOptions = options.feed ?? {};
  const sinks: FeedSink[] = [];
  if (feedOptions.amqpUrl) sinks.push(amqpSink(feedOptions.amqpUrl));
  if (feedOptions.natsUrl) sinks.push(natsSink(feedOptions.natsUrl));
  let warn: (message: string, data: Record<string, unknown>) => void = () => {};
  const recorder = new Recorder(audit, {
    sinks,
    feed: feedOptions,
    dropReportIntervalMs: feedOptions.dropReportIntervalMs,
    warn: (message, data) => warn(message, data),
  });
  const { feed, record } = recorder;

  const limits =
    options.rateLimit === false
      ? undefined
      : {
          windowMs: options.rateLimit?.windowMs ?? 60_000,
          perIp: options.rateLimit?.perIp ?? 1200,
          perLicense: options.rateLimit?.perLicense ?? 600,
        };
  const limiter: RateLimiter | undefined = limits
    ? redis
      ? redisRateLimiter(redis as unknown as RedisCounter, { windowMs: limits.windowMs })
      : memoryRateLimiter({ windowMs: limits.windowMs })
    : undefined;
  const mailboxPollMs = options.mailboxPollMs ?? 1000;
  let closing = false;

  // Every verified request reads its license row; a row read less than a second ago (and
  // not changed through this store since) is reused.
  const cachedLicenses = new CachedLicenseStore(licenseStore, {
    ttlMs: options.licenseCacheMs ?? 1000,
  });
  const verifyPool = verifyThreads > 0 ? createVerifyPool({ threads: verifyThreads }) : undefined;
  const authority = new LicenseAuthority({
    store: cachedLicenses,
    pepper: secrets.pepper,
    issuer: options.publicUrl ?? 'https://relay.fluxel.localhost',
    signingKeys: [{ kid: 'relay-1', privateJwk: secrets.tokenKey }],
    replay,
    ...(options.nonces === false
      ? {}
      : { nonces: createNonceSource({ secret: secrets.nonceSecret }) }),
    onEvent: recorder.authorityEvent,
    ...(verifyPool ? { verifier: verifyPool } : {}),
  });
  const vault = new Vault(database, keyring, clock, {
    openCacheMs: options.credentialCacheMs ?? 30_000,
    ...(options.tenantKeyRecheckMs !== undefined
      ? { tenantKeyRecheckMs: options.tenantKeyRecheckMs }
      : {}),
    // Hook URLs are shown once the relay listens (baseUrl is set by then).
    hookBaseUrl: () => baseUrl,
  });
  // Arrivals wake waiting long-polls: across instances by LISTEN/NOTIFY when this relay has
  // PostgreSQL's URL; in this process only otherwise (complete when it owns its PGlite).
  const arrivals: MailboxArrivals =
    options.databaseUrl && database.kind === 'postgres'
      ? await postgresArrivals({
          url: options.databaseUrl,
          ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
          pool: database,
          onError: (error) =>
            warn('mailbox notifications failed', { code: (error as { code?: string }).code }),
        })
      : localArrivals(ownsDatabase);
  const mailbox = new Mailbox(database, vault, clock, {
    arrivals,
    fallbackPollMs: mailboxPollMs,
    ...(options.mailboxPollsPerLicense !== undefined
      ? { maxPerLicense: options.mailboxPollsPerLicense }
      : {}),
    record,
  });
  const ledger = new SendLedger(database, clock, {
    ...(options.pendingLeaseMs !== undefined ? { pendingLeaseMs: options.pendingLeaseMs } : {}),
    ...(options.idempotencyWindowMs !== undefined
      ? { idempotencyWindowMs: options.idempotencyWindowMs }
      : {}),
  });
  const forwarder = new Forwarder({
    ledger,
    vault,
    connector: options.connector,
    bodyHashKey: secrets.bodyHashKey,
    clock,
    record,
  });
  // Aborted by close(): waiting long-polls answer at once.
  const shutdown = new AbortController();
  let port = options.port ?? 0;
  let baseUrl = options.publicUrl ?? '';

  const app = createHttpServer({
    key: tls.key,
    cert: tls.cert,
    bodyLimit: options.bodyLimit,
    logger: options.logger,
    closing: () => closing,
    trustProxy,
  });
  warn = (message, data) => app.log.warn(data, message);
  // The stored ACME certificate, if any, is installed before the first handshake.
  await acme?.attach(keepTlsPolicy(app.server), { record, log: app.log });
  if (limits)
    app.addHook('onRequest', async (req, reply) =>
      rateLimit(limiter, `ip:${req.ip}`, limits.perIp, reply),
    );

  registerAgentApi(app, {
    authority,
    vault,
    mailbox,
    forwarder,
    record,
    baseUrl: () => baseUrl,
    limitLicense: async (licenseId, reply, cost) => {
      if (limits) await rateLimit(limiter, `license:${licenseId}`, limits.perLicense, reply, cost);
    },
    shutdown: shutdown.signal,
    legacyWebhooks: options.legacyWebhooks !== false,
    version: RELAY_VERSION,
  });

  // --- portal credential API -------------------------------------------------------------

  if (options.portal)
    registerPortalRoutes(app, {
      options: options.portal,
      licenses: licenseStore,
      vault,
      record,
      invalid,
      now: Date.now,
      mailboxStats: () => mailbox.stats(),
    });

  registerWebhookRoutes(app, {
    vault,
    mailbox,
    feed,
    record,
    clock,
    legacyWebhooks: options.legacyWebhooks !== false,
  });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port });
  port = (app.server.address() as { port: number }).port;
  if (!baseUrl) baseUrl = `https://${urlHost(host)}:${port}`;
  acme?.start();
  let admin: AdminServer | undefined;
  if (options.admin)
    admin = await startAdminServer(
      authority,
      tls,
      { ...options.admin, host: options.admin.host ?? host },
      record,
    );
  let closed: Promise<void> | undefined;

  return {
    url: baseUrl,
    port,
    tls,
    authority,
    database,
    audit,
    alerts,
    auditKey: verifyingKeyFromRaw(auditSigningKey.publicKey),
    adminPort: admin?.port,
    feed: { stats: () => feed.stats() },
    acme,
    tlsStatus: () => acme?.status() ?? certificateStatus(tls.cert, 'dev'),
    purgeExpired: async () => {
      const expired = await mailbox.purgeExpired();
      await ledger.purgeExpired();
      return expired;
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        shutdown.abort();
        const arrivalsClosed = arrivals.close();
        const force = setTimeout(
          () => app.server.closeAllConnections(),
          options.closeTimeoutMs ?? 30_000,
        );
        force.unref();
        await Promise.all([app.close(), admin?.close(), acme?.stop()]);
        clearTimeout(force);
        await verifyPool?.close();
        await redis?.close();
        await arrivalsClosed;
        await recorder.close();
        detachAlerts?.();
        await alerts?.settled();
        await audit.close();
        if (ownsDatabase) await database.close();
      })();
      return closed;
    },
  };
}

/** Waits are written to stderr (the HTTP logger does not exist yet), unless logging is off. */
function defaultDatabaseWait(logger: boolean | undefined) {
  return logger
    ? (wait: DatabaseWait) => console.error(`relay: ${describeDatabaseWait(wait)}`)
    : undefined;
}

async function connectRedis(url: string) {
  const { createClient } = await import('redis');
  // No offline queue: while Redis is unreachable a command fails at once (a retryable 503)
  // instead of waiting, with the request, for the reconnect.
  const client = createClient({ url, disableOfflineQueue: true });
  // Errors surface on the commands (a refused proof, ERR_LICENSE_STORAGE); the client
  // reconnects by itself. The listener keeps an 'error' event from crashing the process.
  client.on('error', () => {});
  await client.connect();
  return client;
}
