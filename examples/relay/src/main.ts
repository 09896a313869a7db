/**
 * `pnpm --filter @fluxel-example/relay dev`: starts the relay from the environment. Without
 * `RELAY_ADMIN_TOKEN` / `RELAY_PORTAL_TOKEN` it makes random development tokens (kept in
 * `<dataDir>/dev-tokens.json`, mode 0600) and turns the admin gRPC API and the portal API on,
 * so the portal example started next to it can reach both (`RELAY_DEV_TOKENS=0`: off).
 *
 * `RELAY_ADMIN_CLIENT_CA_FILE` (PEM): the admin gRPC API then requires a client certificate
 * signed by that CA (mutual TLS) in addition to the bearer token.
 *
 * `RELAY_ALERTS_URL` + `RELAY_ALERTS_SECRET` (both or neither): every alert the relay raises (a
 * second activation of a spent license) is also posted, signed with the secret, to that URL —
 * the portal's alerts inbox, `https://<portal>/internal/relay/v1/alerts`; the portal is given the
 * same `RELAY_ALERTS_SECRET`. The portal's certificate is checked against the system's CAs and
 * `RELAY_ALERTS_CA` (PEM path), else the relay's own dev CA (the dev portal serves a certificate
 * of it).
 *
 * `RELAY_TRUSTED_PROXIES` (comma-separated addresses or CIDR ranges, e.g. the edge network's
 * subnet): whose `X-Forwarded-For` is believed for the per-IP limit and the audit log.
 *
 * `RELAY_KMS_KEY_ID` (a KMS key ARN): tenant keys are then sealed by that key (AWS KMS
 * `Encrypt`/`Decrypt`; region, credentials and endpoint from the AWS SDK's usual `AWS_REGION`,
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_PROFILE`/role and `AWS_ENDPOINT_URL_KMS`);
 * the key file `<dataDir>/kek.key` is kept to open what it sealed before. Not an ARN: exit 1.
 * The startup log names the sealing KEK's id.
 *
 * `DATABASE_WAIT_MS` (default 300000): how long the start waits for a PostgreSQL that is
 * unreachable or read-only (a standby before its promotion), saying why on stderr, before it
 * exits with a message naming what to check.
 *
 * Secrets (`RELAY_ADMIN_TOKEN`, `RELAY_PORTAL_TOKEN`, `RELAY_ALERTS_SECRET`, `DATABASE_URL`,
 * `PGPASSWORD`, `REDIS_URL`, `AMQP_URL`, `NATS_URL`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) are also read from a file named by `<NAME>_FILE` (a
 * Docker secret; trimmed). Setting both `NAME` and `NAME_FILE` is an error.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  databaseWaitFromEnv,
  describeDatabaseWait,
  untilDatabaseReady,
} from '@fluxel-example/kit/database-start';
import {
  describeKeyring,
  type KmsKekConfig,
  kmsKekFromEnv,
  kmsKeyring,
} from '@fluxel-example/kit/kek';
import { trustedProxies } from '@fluxel-example/kit/trusted-proxies';
import type { RelayAcmeOptions } from './acme.ts';
import { type AlertsTarget, alertsTarget, portalAlertHook } from './alerts-hook.ts';
import { counterpartConnector } from './connector.ts';
import { createRelay, relayFileKek } from './relay.ts';

const env = process.env;

/** `env[name]`, or the trimmed content of the file `env[name_FILE]` names. */
function envSecret(name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return direct;
  if (direct !== undefined) throw new Error(`set ${name} or ${name}_FILE, not both`);
  try {
    return readFileSync(resolve(file), 'utf8').trim();
  } catch {
    throw new Error(`${name}_FILE=${file} is not readable`);
  }
}
function readSecrets() {
  const values = {
    adminToken: envSecret('RELAY_ADMIN_TOKEN'),
    portalToken: envSecret('RELAY_PORTAL_TOKEN'),
    alertsSecret: envSecret('RELAY_ALERTS_SECRET'),
    databaseUrl: envSecret('DATABASE_URL'),
    redisUrl: envSecret('REDIS_URL'),
    amqpUrl: envSecret('AMQP_URL'),
    natsUrl: envSecret('NATS_URL'),
  };
  // node-postgres reads PGPASSWORD itself.
  const pgPassword = envSecret('PGPASSWORD');
  if (pgPassword !== undefined) env.PGPASSWORD = pgPassword;
  // The AWS SDK (RELAY_KMS_KEY_ID) reads its keys itself; *_FILE lets them be Docker secrets.
  const awsSecretAccessKey = envSecret('AWS_SECRET_ACCESS_KEY');
  if (awsSecretAccessKey !== undefined) env.AWS_SECRET_ACCESS_KEY = awsSecretAccessKey;
  const awsSessionToken = envSecret('AWS_SESSION_TOKEN');
  if (awsSessionToken !== undefined) env.AWS_SESSION_TOKEN = awsSessionToken;
  return values;
}
let secrets: ReturnType<typeof readSecrets>;
try {
  secrets = readSecrets();
} catch (error) {
  // The message names the variable or file, never a value.
  console.error(`relay: ${(error as Error).message}`);
  process.exit(1);
}
const dataDir = resolve(env.RELAY_DATA_DIR ?? resolve(import.meta.dirname, '../.data'));
const connector = counterpartConnector({
  // eslint-disable-next-line @microsoft/sdl/no-insecure-url -- development default: the counterpart stand-in on loopback
  baseUrl: env.COUNTERPART_URL ?? 'http://127.0.0.1:4010',
});
interface DevTokens {
  adminToken: string;
  portalToken: string;
}
function devTokens(): DevTokens | undefined {
  if (env.RELAY_DEV_TOKENS === '0') return undefined;
  const file = join(dataDir, 'dev-tokens.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevTokens;
  } catch {
    return {
      adminToken: randomBytes(32).toString('base64url'),
      portalToken: randomBytes(32).toString('base64url'),
    };
  }
}
/** `RELAY_ADMIN_CLIENT_CA_FILE`: the PEM CA of the admin API's client certificates (mTLS). */
function adminClientCa(): string | undefined {
  const file = env.RELAY_ADMIN_CLIENT_CA_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch {
    throw new Error(`RELAY_ADMIN_CLIENT_CA_FILE=${file} is not readable`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`RELAY_ADMIN_CLIENT_CA_FILE=${file} is not a PEM certificate`);
  return text;
}
let clientCa: string | undefined;
let alertsTo: AlertsTarget | undefined;
try {
  clientCa = adminClientCa();
  alertsTo = alertsTarget(env.RELAY_ALERTS_URL, secrets.alertsSecret, env.RELAY_ALERTS_CA);
} catch (error) {
  console.error(`relay: ${(error as Error).message}`);
  process.exit(1);
}
const dev = devTokens();
const adminToken = secrets.adminToken ?? dev?.adminToken;
const portalToken = secrets.portalToken ?? dev?.portalToken;

function acmeFromEnv(): RelayAcmeOptions | undefined {
  if (!env.RELAY_ACME_DIRECTORY) return undefined;
  const domains = (env.RELAY_ACME_DOMAINS ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  if (domains.length === 0 || !env.RELAY_ACME_EMAIL)
    throw new Error('RELAY_ACME_DIRECTORY needs RELAY_ACME_DOMAINS and RELAY_ACME_EMAIL');
  return {
    directoryUrl: env.RELAY_ACME_DIRECTORY,
    domains,
    email: env.RELAY_ACME_EMAIL,
    ...(env.RELAY_HTTP01_PORT ? { http01Port: Number(env.RELAY_HTTP01_PORT) } : {}),
    ...(env.RELAY_HTTP01_HOST ? { http01Host: env.RELAY_HTTP01_HOST } : {}),
    ...(env.RELAY_ACME_CA ? { caPem: readFileSync(resolve(env.RELAY_ACME_CA), 'utf8') } : {}),
  };
}
const acme = acmeFromEnv();

// The hook is made once the relay's own dev CA is known (the default trust for the portal).
let relayCa = '';
const alertHook = alertsTo ? portalAlertHook(alertsTo, () => relayCa) : undefined;

// Dev/test only: shifts the relay's clock (mailbox expiry, webhook timestamps), e.g. to show a
// held event expiring after seven days without waiting a week.
const clockOffsetMs = Number(env.RELAY_CLOCK_OFFSET_MS ?? 0);
let databaseWaitMs: number | undefined;
let proxies: string[] | false = false;
let kms: KmsKekConfig | undefined;
try {
  databaseWaitMs = databaseWaitFromEnv(env.DATABASE_WAIT_MS);
  proxies = trustedProxies(env.RELAY_TRUSTED_PROXIES, 'RELAY_TRUSTED_PROXIES');
  kms = kmsKekFromEnv('RELAY_KMS_KEY_ID', {
    // Named here so that `pnpm deploy:check` knows the variables; the SDK reads the rest.
    RELAY_KMS_KEY_ID: env.RELAY_KMS_KEY_ID,
    AWS_REGION: env.AWS_REGION,
    AWS_DEFAULT_REGION: env.AWS_DEFAULT_REGION,
  });
} catch (error) {
  console.error(`relay: ${(error as Error).message}`);
  process.exit(1);
}
// The KEK: the key file alone, or a KMS key sealing with the key file kept to open older rows.
const keyring = kms
  ? kmsKeyring({
      ...kms,
      fileKek: await relayFileKek(dataDir),
      encryptionContext: { fluxel: 'dek-v1', service: 'relay' },
    }).keyring
  : undefined;
const relay = await createRelay({
  dataDir,
  ...(keyring ? { keyring } : {}),
  ...(databaseWaitMs !== undefined ? { databaseWaitMs } : {}),
  onDatabaseWait: (wait) => console.error(`relay: ${describeDatabaseWait(wait)}`),
  ...(clockOffsetMs ? { clock: () => Date.now() + clockOffsetMs } : {}),
  ...(env.RELAY_TLS_DIR ? { tlsDir: resolve(env.RELAY_TLS_DIR) } : {}),
  ...(env.RELAY_HOST ? { host: env.RELAY_HOST } : {}),
  port: Number(env.RELAY_PORT ?? 8443),
  ...(env.RELAY_PUBLIC_URL ? { publicUrl: env.RELAY_PUBLIC_URL } : {}),
  ...(secrets.databaseUrl ? { databaseUrl: secrets.databaseUrl } : {}),
  ...(env.DATABASE_SCHEMA ? { databaseSchema: env.DATABASE_SCHEMA } : {}),
  connector,
  logger: env.RELAY_LOG !== '0',
  ...(proxies ? { trustedProxies: proxies } : {}),
  ...(alertHook ? { alerts: { hooks: [alertHook] } } : {}),
  ...(adminToken
    ? {
        admin: {
          token: adminToken,
          port: Number(env.RELAY_ADMIN_PORT ?? 8444),
          ...(env.RELAY_ADMIN_HOST ? { host: env.RELAY_ADMIN_HOST } : {}),
          ...(clientCa ? { clientCa } : {}),
          actor: 'portal',
        },
      }
    : {}),
  ...(portalToken ? { portal: { token: portalToken } } : {}),
  ...(acme ? { acme } : {}),
  ...(secrets.redisUrl ? { redisUrl: secrets.redisUrl } : {}),
  ...(env.RELAY_RATE_LIMIT === '0'
    ? { rateLimit: false as const }
    : {
        rateLimit: {
          ...(env.RELAY_RATE_LIMIT_WINDOW_MS
            ? { windowMs: Number(env.RELAY_RATE_LIMIT_WINDOW_MS) }
            : {}),
          ...(env.RELAY_RATE_LIMIT_PER_IP ? { perIp: Number(env.RELAY_RATE_LIMIT_PER_IP) } : {}),
          ...(env.RELAY_RATE_LIMIT_PER_LICENSE
            ? { perLicense: Number(env.RELAY_RATE_LIMIT_PER_LICENSE) }
            : {}),
        },
      }),
  ...(env.RELAY_MAILBOX_POLL_MS ? { mailboxPollMs: Number(env.RELAY_MAILBOX_POLL_MS) } : {}),
  ...(env.RELAY_MAILBOX_POLLS_PER_LICENSE
    ? { mailboxPollsPerLicense: Number(env.RELAY_MAILBOX_POLLS_PER_LICENSE) }
    : {}),
  ...(env.RELAY_LEGACY_WEBHOOKS === '0' ? { legacyWebhooks: false } : {}),
  ...(env.RELAY_PENDING_LEASE_MS ? { pendingLeaseMs: Number(env.RELAY_PENDING_LEASE_MS) } : {}),
  ...(env.RELAY_VERIFY_THREADS ? { verifyThreads: Number(env.RELAY_VERIFY_THREADS) } : {}),
  ...(env.RELAY_IDEMPOTENCY_WINDOW_MS
    ? { idempotencyWindowMs: Number(env.RELAY_IDEMPOTENCY_WINDOW_MS) }
    : {}),
  ...(secrets.amqpUrl || secrets.natsUrl
    ? {
        feed: {
          ...(secrets.amqpUrl ? { amqpUrl: secrets.amqpUrl } : {}),
          ...(secrets.natsUrl ? { natsUrl: secrets.natsUrl } : {}),
          ...(env.RELAY_FEED_MAX_QUEUE ? { maxQueue: Number(env.RELAY_FEED_MAX_QUEUE) } : {}),
        },
      }
    : {}),
}).catch((error: unknown) => {
  // A clear line instead of a stack (the database step has already waited, up to 5 min).
  console.error(`relay: could not start: ${(error as Error).message}`);
  process.exit(1);
});
relayCa = relay.tls.ca;

const purgeEvery = Number(env.RELAY_PURGE_INTERVAL_MS ?? 60_000);
const purge = setInterval(() => {
  relay.purgeExpired().catch((error: unknown) => {
    console.error('purge failed', (error as { code?: string }).code ?? 'unknown');
  });
}, purgeEvery);

console.log(`relay listening on ${relay.url} (${relay.database.kind})`);
console.log(`trust this CA on the agent: ${relay.tls.caPath}`);
console.log(
  `relay: ${keyring ? describeKeyring(keyring) : 'KEK: dev-file-kek seals (the key file; RELAY_KMS_KEY_ID: a KMS key)'}`,
);
if (relay.acme) {
  const status = relay.tlsStatus();
  console.log(
    `ACME for ${acme?.domains.join(', ')}: HTTP-01 on port ${relay.acme.http01Port}; serving ${
      status.source === 'acme'
        ? `the stored certificate (${status.issuer}, until ${status.notAfter.toISOString()})`
        : 'the dev certificate until the first order completes'
    }`,
  );
  relay.acme.on('obtained', (s) =>
    console.log(`TLS certificate installed: ${s.issuer}, until ${s.notAfter.toISOString()}`),
  );
}
if (secrets.amqpUrl) console.log('event feed: RabbitMQ exchange fluxel.events');
if (secrets.natsUrl) console.log('event feed: NATS JetStream stream FLUXEL_EVENTS');
if (alertsTo) console.log(`alerts also go to ${alertsTo.url}`);
if (portalToken) console.log(`portal credential API on ${relay.url}/internal/portal/v1/`);
if (dev && adminToken && portalToken) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dataDir, 'dev-tokens.json'),
    `${JSON.stringify({ adminToken, adminPort: relay.adminPort, portalToken, relayUrl: relay.url })}\n`,
    { mode: 0o600 },
  );
}
if (relay.adminPort)
  console.log(
    `admin gRPC (LicenseAdmin) on ${env.RELAY_ADMIN_HOST ?? env.RELAY_HOST ?? '127.0.0.1'}:${relay.adminPort}${clientCa ? ' (client certificate required: RELAY_ADMIN_CLIENT_CA_FILE)' : ''}`,
  );
// RELAY_ISSUE_LICENSE: `1` issues a demo license on every start; a count n (≤ 100) issues n.
const issueCount = Math.min(100, Math.floor(Number(env.RELAY_ISSUE_LICENSE ?? 0)) || 0);
try {
  const { licenses } = await untilDatabaseReady(() => relay.authority.list({ limit: 1 }), {
    onWait: (wait) => console.error(`relay: ${describeDatabaseWait(wait)}`),
  });
  const demoCount = licenses.length === 0 && env.RELAY_DEMO_LICENSE !== '0' ? 1 : 0;
  for (let i = 0; i < Math.max(issueCount, demoCount); i++) {
    const { key } = await relay.authority.issue({
      tenant: env.RELAY_DEMO_TENANT ?? 'demo-merchant',
      product: 'wawi-sync',
      entitlements: ['orders'],
      actor: 'relay-dev',
    });
    console.log(`demo license key (shown once): ${key}`);
  }
} catch (error) {
  // The relay serves on; only the development licenses are missing (start it again for them).
  console.error(`relay: demo licenses not issued: ${(error as Error).message}`);
}
console.log('relay ready');

const stop = async () => {
  clearInterval(purge);
  await relay.close();
  await connector.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
