/**
 * `createPortal()`: the portal's Fastify server over HTTPS — the JSON API under `/api` and the
 * built React app (`dist/web`) for everything else.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { type AuditEvent, type PrivacyTransform, signingKeyFromSeed } from '@fluxel/audit';
import { type KekProvider, Keyring } from '@fluxel/crypto';
import { keyFileKek } from '@fluxel/crypto/node';
import {
  type DatabaseWait,
  describeDatabaseWait,
  untilDatabaseReady,
} from '@fluxel-example/kit/database-start';
import { type DevTls, ensureDevTls, TLS_SERVER_POLICY } from '@fluxel-example/kit/tls';
import { trustedProxies } from '@fluxel-example/kit/trusted-proxies';
import Fastify, { type FastifyInstance } from 'fastify';
import { accountRoutes } from '../features/account/routes.ts';
import { advRoutes } from '../features/adv/routes.ts';
import { type AlertsOptions, alertsRoutes } from '../features/alerts/routes.ts';
import { raisePortalAlert } from '../features/alerts/service.ts';
import { auditRoutes } from '../features/audit/routes.ts';
import { openPortalAudit, type PortalAudit } from '../features/audit/service.ts';
import { anonymousCsrf } from '../features/auth/csrf.ts';
import type { PasswordParams } from '../features/auth/password.ts';
import { authRoutes } from '../features/auth/routes.ts';
import { certificatesRoutes } from '../features/certificates/routes.ts';
import { licensesRoutes } from '../features/licenses/routes.ts';
import { type OnboardingOptions, onboardingRoutes } from '../features/onboarding/routes.ts';
import { type PartnerRoutesOptions, partnerRoutes } from '../features/partner/routes.ts';
import { partnerApiRoutes } from '../features/partner-api/routes.ts';
import type { PartnerApiOptions } from '../features/partner-api/service.ts';
import { portalAuditPrivacy } from '../features/privacy/audit-privacy.ts';
import { privacyRoutes } from '../features/privacy/routes.ts';
import { rightsRoutes } from '../features/rights/routes.ts';
import type { SsoOptions } from '../features/sso/config.ts';
import { ssoRoutes } from '../features/sso/routes.ts';
import { type RelayThresholds, relayThresholds } from '../features/status/probes.ts';
import { statusRoutes } from '../features/status/routes.ts';
import { tenantsRoutes } from '../features/tenants/routes.ts';
import { assignPartner, createTenant } from '../features/tenants/store.ts';
import { usersRoutes } from '../features/users/routes.ts';
import { insertInvitation } from '../features/users/store.ts';
import { type Context, OPERATOR_TENANT } from './context.ts';
import { type Database, openPortalDatabase } from './db.ts';
import { installHttp } from './http.ts';
import type { MailTransport } from './mail.ts';
import { type RelayGateway, type RelayGatewayOptions, relayGateway } from './relay-gateway.ts';
import { DEFAULT_SESSION_POLICY, type SessionPolicy, Sessions, sha256 } from './sessions.ts';
import type { SmsTransport } from './sms.ts';
import {
  closeAfterEarlyAnswer,
  fastifyTimeoutOptions,
  type PortalTimeouts,
  portalTimeouts,
  serverTimeoutOptions,
} from './timeouts.ts';

export interface PortalOptions {
  /** Keys, PGlite data and TLS; default `./.data`. */
  readonly dataDir?: string;
  /**
   * The KEKs that seal person keys and partner secrets: the first seals, any opens what its
   * header names. Default the key file `<dataDir>/portal-kek.key` ({@link portalFileKek}). In
   * production a KMS key first and the key file second (`PORTAL_KMS_KEY_ID`; `kmsKeyring` of
   * `@fluxel-example/kit/kek`), so what was sealed before the switch still opens.
   */
  readonly keyring?: Keyring;
  /** TLS certificate; default the relay example's dev CA in `<dataDir>/tls`. */
  readonly tls?: DevTls;
  /** Address the HTTPS listener binds; default `127.0.0.1` (`0.0.0.0` in a container). */
  readonly host?: string;
  readonly port?: number;
  /** Host name in URLs and the WebAuthn RP id; default `localhost`. */
  readonly hostname?: string;
  /** The origin browsers use (behind Vite's dev proxy it is Vite's); default `https://<hostname>:<port>`. */
  readonly publicOrigin?: string;
  readonly databaseUrl?: string;
  readonly databaseSchema?: string;
  /** PGlite in memory instead of `<dataDir>/pglite`. */
  readonly inMemoryDatabase?: boolean;
  /** The relay: a ready gateway, or how to reach it. */
  readonly relay: RelayGateway | RelayGatewayOptions;
  readonly mail: MailTransport;
  readonly sms: SmsTransport;
  readonly clock?: () => number;
  readonly sessionPolicy?: SessionPolicy;
  /** argon2id cost; default the ASVS/OWASP parameters. Tests may lower it. */
  readonly passwordParams?: PasswordParams;
  /** Directory of the built web app; default `dist/web` next to the sources. */
  readonly webDir?: string;
  readonly logger?: boolean;
  /**
   * How long the start waits for a database that is unreachable or read-only (a standby before
   * its promotion) before it fails with a message saying what to check; default 5 minutes.
   */
  readonly databaseWaitMs?: number;
  /** Told before each such wait; default a line on stderr when `logger` is on. */
  readonly onDatabaseWait?: (wait: DatabaseWait) => void;
  /**
   * Proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges, e.g. the edge
   * network's subnet; `PORTAL_TRUSTED_PROXIES`): sign-in throttling, sessions, alerts and the
   * audit log then see the client's address instead of the proxy's. Default none.
   */
  readonly trustedProxies?: readonly string[];
  /**
   * When the status page shows the relay `degraded` (a round trip slower than `relaySlowMs`,
   * default 1 s) and down (no answer within `relayTimeoutMs`, default 2.5 s).
   */
  readonly statusThresholds?: Partial<RelayThresholds>;
  /** CSP override for Vite's dev server (HMR). */
  readonly devCsp?: string;
  /** Single sign-on providers (OIDC, SAML) and how their users map to tenants and roles. */
  readonly sso?: SsoOptions;
  /** Partner API, webhooks and event streams (brokers, relay feed). */
  readonly partner?: PartnerRoutesOptions & PartnerApiOptions;
  /**
   * Partner onboarding (registration rate limit). The checklist's test event uses the partner
   * options' `targets` (SSRF policy) and `webhookCa` unless given here.
   */
  readonly onboarding?: OnboardingOptions;
  /**
   * HTTP timeouts (request, headers, idle connection, keep-alive); default `DEFAULT_TIMEOUTS`
   * (30 s for a whole request). Checked here: a bad value throws before anything starts.
   */
  readonly timeouts?: Partial<PortalTimeouts>;
  /** The alerts inbox: the relay's signed alert webhook (off without a secret). */
  readonly alerts?: AlertsOptions;
  /** More routes (features wired by composition), registered before the server listens. */
  readonly extraRoutes?: readonly ((app: FastifyInstance, ctx: Context) => void)[];
}

export interface Portal {
  readonly url: string;
  readonly port: number;
  readonly origin: string;
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly audit: PortalAudit;
  readonly tls: DevTls;
  /** Creates a tenant (idempotent by id). */
  createTenant(id: string, name: string, kind: 'customer' | 'partner' | 'operator'): Promise<void>;
  assignPartner(partnerId: string, customerId: string): Promise<void>;
  /** An invitation link token (for bootstrapping the first administrator, seeding, tests). */
  invite(email: string, role: string, tenantId: string): Promise<string>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

function readOrCreate(path: string, bytes: number): Uint8Array {
  try {
    return new Uint8Array(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
  } catch {
    const value = randomBytes(bytes);
    try {
      writeFileSync(path, `${value.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      return new Uint8Array(value);
    } catch {
      return new Uint8Array(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'));
    }
  }
}

function serveWeb(app: FastifyInstance, webDir: string): void {
  const root = resolve(webDir);
  const index = join(root, 'index.html');
  app.get('/*', async (req, reply) => {
    const path = decodeURIComponent(req.url.split('?')[0] ?? '/');
    if (path.startsWith('/api/')) return reply.callNotFound();
    const file = normalize(join(root, path));
    const inside = file.startsWith(`${root}/`);
    if (inside && extname(file) && existsSync(file)) {
      const immutable = path.startsWith('/assets/');
      return reply
        .type(TYPES[extname(file)] ?? 'application/octet-stream')
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(readFileSync(file));
    }
    // Only page routes get the app shell: their segments are letters, digits, `_` and `-`.
    // A missing file (`/backup.sql`, `/login~`, anything under /assets/) is a 404, so scanners
    // probing for backups see that nothing is there.
    const pageRoute = path.split('/').every((segment) => /^[\w-]*$/.test(segment));
    if (!pageRoute || path.startsWith('/assets/')) return reply.callNotFound();
    if (!existsSync(index))
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web app is not built: run `pnpm --filter @fluxel-example/portal build`.');
    // Every page route is the single-page app.
    return reply
      .type(TYPES['.html'] as string)
      .header('cache-control', 'no-cache')
      .send(readFileSync(index));
  });
}

/**
 * The portal's key file KEK, `<dataDir>/portal-kek.key` (created on first use, id
 * `portal-file-kek`): the default keyring alone, or kept behind a KMS key to open what was
 * sealed before the switch.
 */
export function portalFileKek(dataDir: string): Promise<KekProvider> {
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 });
  return keyFileKek(join(resolve(dataDir), 'portal-kek.key'), {
    create: true,
    id: 'portal-file-kek',
  });
}

export async function createPortal(options: PortalOptions): Promise<Portal> {
  if (options.keyring !== undefined && !(options.keyring instanceof Keyring))
    throw new TypeError(
      'keyring must be a Keyring of @fluxel/crypto, e.g. new Keyring([awsKmsKek(…), await portalFileKek(dataDir)])',
    );
  const timeouts = portalTimeouts(options.timeouts);
  const trustProxy = trustedProxies(options.trustedProxies);
  const statusThresholds = relayThresholds(options.statusThresholds);
  const dataDir = resolve(options.dataDir ?? '.data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = options.clock ?? Date.now;
  const tls = options.tls ?? ensureDevTls(join(dataDir, 'tls'));
  const hostname = options.hostname ?? 'localhost';
  const keyring = options.keyring ?? new Keyring([await portalFileKek(dataDir)]);
  const pepper = readOrCreate(join(dataDir, 'portal-pepper'), 32);
  const auditKey = signingKeyFromSeed(readOrCreate(join(dataDir, 'portal-audit-seed'), 32));
  // IPs pseudonymised, users' user agents sealed under their person key (see privacy/); the
  // transform needs the context, which needs the log: bound once the context exists.
  let privacy: PrivacyTransform | undefined;
  // Alerts reach the inbox through the context too: bound below as well.
  let onAlert: ((alert: AuditEvent) => Promise<void>) | undefined;
  // The database may not be there yet (a stack starting, a standby before its promotion, a
  // connection reset mid-start): the start's database step (migrations, the audit log's tail,
  // the operator tenant) runs again while it is unreachable, saying why, up to `databaseWaitMs`.
  const { db, audit } = await untilDatabaseReady(
    async () => {
      const opened = await openPortalDatabase({
        ...(options.databaseUrl ? { url: options.databaseUrl } : {}),
        ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
        ...(options.logger
          ? { onServerChange: (s: string) => console.error(`portal: database now at ${s}`) }
          : {}),
        ...(options.databaseUrl || options.inMemoryDatabase
          ? {}
          : { pgliteDir: join(dataDir, 'pglite') }),
      });
      let log: PortalAudit | undefined;
      try {
        log = await openPortalAudit(
          opened,
          auditKey,
          now,
          (event: AuditEvent) => (privacy ? privacy(event) : event),
          async (alert) => onAlert?.(alert),
        );
        await createTenant(
          opened,
          { id: OPERATOR_TENANT, name: 'Fluxel (Betreiber)', kind: 'operator' },
          now(),
        );
        return { db: opened, audit: log };
      } catch (error) {
        await log?.close().catch(() => {});
        await opened.close().catch(() => {});
        throw error;
      }
    },
    {
      ...(options.databaseWaitMs !== undefined ? { boundMs: options.databaseWaitMs } : {}),
      ...(options.onDatabaseWait
        ? { onWait: options.onDatabaseWait }
        : options.logger
          ? { onWait: (wait) => console.error(`portal: ${describeDatabaseWait(wait)}`) }
          : {}),
    },
  );
  const relay = 'adminAddress' in options.relay ? relayGateway(options.relay) : options.relay;
  const app = Fastify({
    https: {
      key: tls.key,
      cert: tls.cert,
      ...TLS_SERVER_POLICY,
      ...serverTimeoutOptions(timeouts),
    },
    ...fastifyTimeoutOptions(timeouts),
    logger: options.logger
      ? {
          redact: [
            'req.headers.cookie',
            'req.headers.authorization',
            'req.headers["x-csrf-token"]',
          ],
        }
      : false,
    bodyLimit: 64 * 1024,
    trustProxy,
  });
  let origin = options.publicOrigin ?? '';
  let served = { cert: tls.cert, key: tls.key };
  const sessions = new Sessions(db, now, options.sessionPolicy ?? DEFAULT_SESSION_POLICY);
  const ctx: Context = {
    db,
    sessions,
    audit: audit.log,
    mail: options.mail,
    sms: options.sms,
    relay,
    keyring,
    now,
    origin: () => origin,
    webauthn: () => ({ rpId: hostname, rpName: 'Fluxel', origin }),
    pepper,
    ...(options.passwordParams ? { passwordParams: options.passwordParams } : {}),
    statusThresholds,
    dataDir,
    tls: {
      current: () => served,
      install(cert, key) {
        // Throws (and keeps the old one) when the pair does not fit together.
        // With the policy again: setSecureContext resets what it is not given (ciphers, …).
        (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext({
          cert,
          key,
          ...TLS_SERVER_POLICY,
        });
        served = { cert, key };
      },
    },
  };
  privacy = portalAuditPrivacy(ctx, readOrCreate(join(dataDir, 'portal-audit-pseudonym'), 32));
  onAlert = (alert) => raisePortalAlert(ctx, alert);
  closeAfterEarlyAnswer(app);
  installHttp(app, {
    origin: () => origin,
    csrfToken: async (req) => (await sessions.read(req))?.csrf ?? anonymousCsrf(req),
    sessionEnded: (req) => sessions.ended(req),
    ...(options.devCsp ? { devCsp: options.devCsp } : {}),
  });
  authRoutes(app, ctx);
  accountRoutes(app, ctx);
  tenantsRoutes(app, ctx);
  usersRoutes(app, ctx);
  licensesRoutes(app, ctx);
  auditRoutes(app, ctx);
  alertsRoutes(app, ctx, options.alerts);
  advRoutes(app, ctx);
  privacyRoutes(app, ctx);
  statusRoutes(app, ctx);
  certificatesRoutes(app, ctx);
  ssoRoutes(app, ctx, options.sso);
  const partnerHub = partnerRoutes(app, ctx, options.partner ?? {});
  const sandbox = onboardingRoutes(app, ctx, {
    ...(options.partner?.targets ? { targets: options.partner.targets } : {}),
    ...(options.partner?.webhookCa ? { webhookCa: options.partner.webhookCa } : {}),
    ...options.onboarding,
  });
  partnerApiRoutes(app, ctx, partnerHub, sandbox, options.partner);
  rightsRoutes(app, ctx);
  for (const register of options.extraRoutes ?? []) register(app, ctx);
  serveWeb(app, options.webDir ?? new URL('../../dist/web', import.meta.url).pathname);

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  if (!origin) origin = `https://${hostname}:${port}`;

  const portal: Portal = {
    url: `https://${hostname}:${port}`,
    port,
    get origin() {
      return origin;
    },
    app,
    db,
    audit,
    tls,
    async createTenant(id, name, kind) {
      await createTenant(db, { id, name, kind }, now());
    },
    async assignPartner(partnerId, customerId) {
      await assignPartner(db, partnerId, customerId);
    },
    async invite(email, role, tenantId) {
      const token = randomBytes(32).toString('base64url');
      await insertInvitation(db, {
        id: `inv_${randomBytes(9).toString('base64url')}`,
        tokenHash: sha256(token),
        tenantId,
        email: email.toLowerCase(),
        role,
        invitedBy: 'system',
        expiresAt: now() + 7 * 86_400_000,
      });
      await audit.log.append({
        tenant: tenantId,
        actor: { type: 'system', id: 'bootstrap' },
        action: 'user.invited',
        outcome: 'success',
        data: { role },
      });
      return token;
    },
    async close() {
      await app.close();
      relay.close();
      await audit.close();
      await db.close();
    },
  };
  return portal;
}
