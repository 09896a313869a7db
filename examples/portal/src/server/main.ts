/**
 * `pnpm --filter @fluxel-example/portal start`: the portal for production, configured only
 * from the environment. Unlike `dev.ts` there is no SMTP sink, no demo tenant and no Vite; the
 * built web app (`dist/web`) is served on the API port.
 *
 * Required:
 * - `PORTAL_PUBLIC_ORIGIN` — the origin browsers use (`https://portal.example.com`); the CSRF
 *   origin check compares against it and its host name is the WebAuthn RP id.
 * - `PORTAL_DATA_DIR` — KEK, pepper, audit seeds, ACME store (PGlite without `DATABASE_URL`).
 * - `RELAY_ADMIN_ADDRESS` (`host:port` of the relay's admin gRPC API), `RELAY_ADMIN_TOKEN`,
 *   `RELAY_PORTAL_URL` (`https://…` base URL of the relay's portal API), `RELAY_PORTAL_TOKEN`,
 *   `RELAY_CA` (path of the PEM CA that issued the relay's certificate).
 * - `SMTP_HOST`, `SMTP_FROM` — the mail server for sign-in codes and invitations.
 *
 * Optional: `PORTAL_HOST` (default `127.0.0.1`; `0.0.0.0` in a container), `PORTAL_PORT`
 * (8445), `DATABASE_URL` + `PORTAL_DATABASE_SCHEMA` (`portal`), `DATABASE_WAIT_MS` (how long the
 * start waits for an unreachable or read-only database, saying why; 300000),
 * `PORTAL_TRUSTED_PROXIES` (comma-separated addresses or CIDR ranges whose `X-Forwarded-For` is
 * believed, e.g. the edge network's subnet; none by default), `PORTAL_TLS_CERT` +
 * `PORTAL_TLS_KEY` (PEM paths; otherwise a self-signed certificate in `<dataDir>/tls` until
 * the certificates page installs its stored ACME certificate), `SMTP_PORT` (587),
 * `SMTP_SECURE=1` (implicit TLS), `SMTP_USER` + `SMTP_PASS`, `SMTP_CA` (PEM path),
 * `PORTAL_SMS_URL` + `PORTAL_SMS_TOKEN` + `PORTAL_SMS_FROM` (HTTP SMS provider; without it SMS
 * codes are refused), `PORTAL_ADMIN_EMAIL` (the first administrator's invitation is mailed
 * there when there is no user yet), `AMQP_URL` / `NATS_URL` (partner streams), `PORTAL_LOG=1`,
 * `RELAY_ADMIN_CLIENT_CERT` + `RELAY_ADMIN_CLIENT_KEY` (PEM paths: the client certificate for
 * the relay's admin API when it requires mutual TLS, `RELAY_ADMIN_CLIENT_CA_FILE` there).
 * `RELAY_ALERTS_SECRET` (≥ 16 bytes): turns on `POST /internal/relay/v1/alerts`, where the relay
 * posts its alerts signed with the same secret (the relay's `RELAY_ALERTS_URL` points there);
 * without it relay alerts stay in the relay's log.
 * The `PORTAL_ACME_*` / `PORTAL_HTTP01_*` variables of the certificates page apply as well.
 * HTTP timeouts in ms (see `timeouts.ts`): `PORTAL_REQUEST_TIMEOUT_MS` (30000),
 * `PORTAL_HEADERS_TIMEOUT_MS` (10000), `PORTAL_CONNECTION_TIMEOUT_MS` (120000),
 * `PORTAL_KEEP_ALIVE_TIMEOUT_MS` (72000).
 * `PORTAL_KMS_KEY_ID` (a KMS key ARN): person keys and partner secrets are then sealed by that
 * key (AWS KMS `Encrypt`/`Decrypt`; region, credentials and endpoint from the AWS SDK's usual
 * `AWS_REGION`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_PROFILE`/role and
 * `AWS_ENDPOINT_URL_KMS`); the key file `<dataDir>/portal-kek.key` is kept to open what it
 * sealed before. Not an ARN: exit 1. The startup log names the sealing KEK's id.
 *
 * Every secret (`RELAY_ADMIN_TOKEN`, `RELAY_PORTAL_TOKEN`, `RELAY_ALERTS_SECRET`, `DATABASE_URL`,
 * `PGPASSWORD`, `SMTP_PASS`, `PORTAL_SMS_TOKEN`, `AMQP_URL`, `NATS_URL`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`) is also read from the file named by
 * `<NAME>_FILE` (a Docker secret; trimmed). Missing required variables: exit 1, listing them.
 */

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { env } from 'node:process';
import { databaseWaitFromEnv, describeDatabaseWait } from '@fluxel-example/kit/database-start';
import {
  describeKeyring,
  type KmsKekConfig,
  kmsKekFromEnv,
  kmsKeyring,
} from '@fluxel-example/kit/kek';
import { type DevTls, ensureDevTls } from '@fluxel-example/kit/tls';
import { trustedProxies } from '@fluxel-example/kit/trusted-proxies';
import { countUsers, openInvitationsTo } from '../features/users/store.ts';
import { createPortal, portalFileKek } from './app.ts';
import { OPERATOR_TENANT } from './context.ts';
import { smtpTransport } from './mail.ts';
import { httpSmsTransport, SmsSendError, type SmsTransport } from './sms.ts';
import { type PortalTimeouts, portalTimeouts } from './timeouts.ts';

class ConfigError extends Error {}

/** `env[name]`, or the trimmed content of the file `env[name_FILE]` names. */
function envSecret(name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (file === undefined || file === '') return direct === '' ? undefined : direct;
  if (direct !== undefined) throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  try {
    return readFileSync(resolve(file), 'utf8').trim();
  } catch {
    throw new ConfigError(`${name}_FILE=${file} is not readable`);
  }
}

/** The text of the PEM file a variable names. */
function pemFile(name: string, path: string): string {
  try {
    const text = readFileSync(resolve(path), 'utf8');
    if (!text.includes('-----BEGIN')) throw new Error('not PEM');
    return text;
  } catch {
    throw new ConfigError(`${name}=${path} is not a readable PEM file`);
  }
}

function portOf(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new ConfigError(`${name} is not a port`);
  return n;
}

/** The `PORTAL_*_TIMEOUT_MS` variables, checked like `createPortal` checks them. */
function timeoutsOf(): Partial<PortalTimeouts> {
  const vars = {
    requestMs: 'PORTAL_REQUEST_TIMEOUT_MS',
    headersMs: 'PORTAL_HEADERS_TIMEOUT_MS',
    connectionMs: 'PORTAL_CONNECTION_TIMEOUT_MS',
    keepAliveMs: 'PORTAL_KEEP_ALIVE_TIMEOUT_MS',
  } as const;
  const given: Record<string, number> = {};
  for (const [field, name] of Object.entries(vars)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a number of milliseconds`);
    given[field] = Number(value);
  }
  try {
    portalTimeouts(given);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (PORTAL_*_TIMEOUT_MS)`);
  }
  return given;
}

function configure() {
  const secrets = {
    adminToken: envSecret('RELAY_ADMIN_TOKEN'),
    portalToken: envSecret('RELAY_PORTAL_TOKEN'),
    alertsSecret: envSecret('RELAY_ALERTS_SECRET'),
    databaseUrl: envSecret('DATABASE_URL'),
    pgPassword: envSecret('PGPASSWORD'),
    awsSecretAccessKey: envSecret('AWS_SECRET_ACCESS_KEY'),
    awsSessionToken: envSecret('AWS_SESSION_TOKEN'),
    smtpPass: envSecret('SMTP_PASS'),
    smsToken: envSecret('PORTAL_SMS_TOKEN'),
    amqpUrl: envSecret('AMQP_URL'),
    natsUrl: envSecret('NATS_URL'),
  };
  const required: Record<string, string | undefined> = {
    PORTAL_PUBLIC_ORIGIN: env.PORTAL_PUBLIC_ORIGIN,
    PORTAL_DATA_DIR: env.PORTAL_DATA_DIR,
    RELAY_ADMIN_ADDRESS: env.RELAY_ADMIN_ADDRESS,
    RELAY_ADMIN_TOKEN: secrets.adminToken,
    RELAY_PORTAL_URL: env.RELAY_PORTAL_URL,
    RELAY_PORTAL_TOKEN: secrets.portalToken,
    RELAY_CA: env.RELAY_CA,
    SMTP_HOST: env.SMTP_HOST,
    SMTP_FROM: env.SMTP_FROM,
  };
  const missing = Object.entries(required)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0)
    throw new ConfigError(`missing required environment variables: ${missing.join(', ')}`);

  let publicOrigin: URL;
  try {
    publicOrigin = new URL(env.PORTAL_PUBLIC_ORIGIN as string);
  } catch {
    throw new ConfigError('PORTAL_PUBLIC_ORIGIN is not a URL');
  }
  if (publicOrigin.protocol !== 'https:' || publicOrigin.origin !== env.PORTAL_PUBLIC_ORIGIN)
    throw new ConfigError(
      'PORTAL_PUBLIC_ORIGIN must be an https origin without path or trailing slash',
    );
  if (!/^[\w.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(env.RELAY_ADMIN_ADDRESS as string))
    throw new ConfigError('RELAY_ADMIN_ADDRESS must be host:port');
  if (new URL(env.RELAY_PORTAL_URL as string).protocol !== 'https:')
    throw new ConfigError('RELAY_PORTAL_URL must be an https URL');
  if (Boolean(env.SMTP_USER) !== Boolean(secrets.smtpPass))
    throw new ConfigError('SMTP_USER and SMTP_PASS go together');
  if (Boolean(env.PORTAL_TLS_CERT) !== Boolean(env.PORTAL_TLS_KEY))
    throw new ConfigError('PORTAL_TLS_CERT and PORTAL_TLS_KEY go together');
  if (Boolean(env.RELAY_ADMIN_CLIENT_CERT) !== Boolean(env.RELAY_ADMIN_CLIENT_KEY))
    throw new ConfigError('RELAY_ADMIN_CLIENT_CERT and RELAY_ADMIN_CLIENT_KEY go together');
  if (secrets.alertsSecret !== undefined && Buffer.byteLength(secrets.alertsSecret) < 16)
    throw new ConfigError('RELAY_ALERTS_SECRET needs at least 16 bytes');
  const smsVars = [env.PORTAL_SMS_URL, secrets.smsToken, env.PORTAL_SMS_FROM];
  if (smsVars.some(Boolean) && !smsVars.every(Boolean))
    throw new ConfigError('PORTAL_SMS_URL, PORTAL_SMS_TOKEN and PORTAL_SMS_FROM go together');
  let kms: KmsKekConfig | undefined;
  try {
    kms = kmsKekFromEnv('PORTAL_KMS_KEY_ID', {
      // Named here so that `pnpm deploy:check` knows the variables; the SDK reads the rest.
      PORTAL_KMS_KEY_ID: env.PORTAL_KMS_KEY_ID,
      AWS_REGION: env.AWS_REGION,
      AWS_DEFAULT_REGION: env.AWS_DEFAULT_REGION,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }

  const dataDir = resolve(env.PORTAL_DATA_DIR as string);
  let tls: DevTls;
  if (env.PORTAL_TLS_CERT && env.PORTAL_TLS_KEY) {
    const cert = pemFile('PORTAL_TLS_CERT', env.PORTAL_TLS_CERT);
    tls = {
      dir: resolve(env.PORTAL_TLS_CERT, '..'),
      caPath: resolve(env.PORTAL_TLS_CERT),
      ca: cert,
      cert,
      key: pemFile('PORTAL_TLS_KEY', env.PORTAL_TLS_KEY),
    };
  } else {
    // Served until the certificates page installs its stored ACME certificate (at start).
    tls = ensureDevTls(join(dataDir, 'tls'));
  }
  return {
    secrets,
    kms,
    publicOrigin: publicOrigin.origin,
    hostname: publicOrigin.hostname.replace(/^\[|\]$/g, ''),
    dataDir,
    tls,
    relayCa: pemFile('RELAY_CA', env.RELAY_CA as string),
    adminClient:
      env.RELAY_ADMIN_CLIENT_CERT && env.RELAY_ADMIN_CLIENT_KEY
        ? {
            adminClientCert: pemFile('RELAY_ADMIN_CLIENT_CERT', env.RELAY_ADMIN_CLIENT_CERT),
            adminClientKey: pemFile('RELAY_ADMIN_CLIENT_KEY', env.RELAY_ADMIN_CLIENT_KEY),
          }
        : {},
    host: env.PORTAL_HOST || '127.0.0.1',
    port: portOf('PORTAL_PORT', env.PORTAL_PORT, 8445),
    timeouts: timeoutsOf(),
    smtpPort: portOf('SMTP_PORT', env.SMTP_PORT, 587),
    smtpCa: env.SMTP_CA ? pemFile('SMTP_CA', env.SMTP_CA) : undefined,
  };
}

let config: ReturnType<typeof configure>;
try {
  config = configure();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`portal: ${error.message}`);
  process.exit(1);
}
const { secrets } = config;
// node-postgres reads PGPASSWORD itself.
if (secrets.pgPassword !== undefined) env.PGPASSWORD = secrets.pgPassword;
// The AWS SDK (PORTAL_KMS_KEY_ID) reads its keys itself; *_FILE lets them be Docker secrets.
if (secrets.awsSecretAccessKey !== undefined)
  env.AWS_SECRET_ACCESS_KEY = secrets.awsSecretAccessKey;
if (secrets.awsSessionToken !== undefined) env.AWS_SESSION_TOKEN = secrets.awsSessionToken;

const mail = smtpTransport({
  host: env.SMTP_HOST as string,
  port: config.smtpPort,
  from: env.SMTP_FROM as string,
  ...(env.SMTP_SECURE === '1' ? { secure: true } : {}),
  ...(env.SMTP_USER && secrets.smtpPass
    ? { auth: { user: env.SMTP_USER, pass: secrets.smtpPass } }
    : {}),
  ...(config.smtpCa ? { tls: { ca: config.smtpCa } } : {}),
});
const sms: SmsTransport =
  env.PORTAL_SMS_URL && secrets.smsToken && env.PORTAL_SMS_FROM
    ? httpSmsTransport({
        url: env.PORTAL_SMS_URL,
        token: secrets.smsToken,
        from: env.PORTAL_SMS_FROM,
      })
    : {
        async send() {
          throw new SmsSendError('no SMS provider is configured (PORTAL_SMS_URL)');
        },
      };

let databaseWaitMs: number | undefined;
let proxies: string[] | false = false;
try {
  databaseWaitMs = databaseWaitFromEnv(env.DATABASE_WAIT_MS);
  proxies = trustedProxies(env.PORTAL_TRUSTED_PROXIES, 'PORTAL_TRUSTED_PROXIES');
} catch (error) {
  console.error(`portal: ${(error as Error).message}`);
  process.exit(1);
}
// The KEK: the key file alone, or a KMS key sealing with the key file kept to open older rows.
const keyring = config.kms
  ? kmsKeyring({
      ...config.kms,
      fileKek: await portalFileKek(config.dataDir),
      encryptionContext: { fluxel: 'dek-v1', service: 'portal' },
    }).keyring
  : undefined;
const portal = await createPortal({
  dataDir: config.dataDir,
  ...(keyring ? { keyring } : {}),
  ...(databaseWaitMs !== undefined ? { databaseWaitMs } : {}),
  ...(proxies ? { trustedProxies: proxies } : {}),
  onDatabaseWait: (wait) => console.error(`portal: ${describeDatabaseWait(wait)}`),
  tls: config.tls,
  host: config.host,
  port: config.port,
  hostname: config.hostname,
  publicOrigin: config.publicOrigin,
  ...(secrets.databaseUrl
    ? {
        databaseUrl: secrets.databaseUrl,
        databaseSchema: env.PORTAL_DATABASE_SCHEMA ?? 'portal',
      }
    : {}),
  relay: {
    adminAddress: env.RELAY_ADMIN_ADDRESS as string,
    adminToken: secrets.adminToken as string,
    relayUrl: (env.RELAY_PORTAL_URL as string).replace(/\/+$/, ''),
    portalToken: secrets.portalToken as string,
    ca: config.relayCa,
    ...config.adminClient,
  },
  ...(secrets.alertsSecret ? { alerts: { relaySecret: secrets.alertsSecret } } : {}),
  mail,
  sms,
  logger: env.PORTAL_LOG === '1',
  timeouts: config.timeouts,
  partner: {
    ...(secrets.amqpUrl ? { amqpUrl: secrets.amqpUrl } : {}),
    ...(secrets.natsUrl ? { natsUrl: secrets.natsUrl } : {}),
    ...(secrets.amqpUrl || secrets.natsUrl
      ? {
          relayFeed: {
            ...(secrets.amqpUrl ? { amqpUrl: secrets.amqpUrl } : {}),
            ...(secrets.natsUrl ? { natsUrl: secrets.natsUrl } : {}),
          },
        }
      : {}),
  },
}).catch((error: unknown) => {
  // A clear line instead of a stack (the database step has already waited for the database).
  console.error(`portal: could not start: ${(error as Error).message}`);
  process.exit(1);
});

// The first administrator: the invitation goes by mail, so the link never reaches the log.
if ((await countUsers(portal.db)) === 0 && env.PORTAL_ADMIN_EMAIL) {
  if ((await openInvitationsTo(portal.db, env.PORTAL_ADMIN_EMAIL, Date.now())) === 0) {
    const token = await portal.invite(env.PORTAL_ADMIN_EMAIL, 'administrator', OPERATOR_TENANT);
    try {
      await mail.send({
        to: env.PORTAL_ADMIN_EMAIL,
        subject: 'Fluxel portal: your administrator invitation',
        text: `Open ${config.publicOrigin}/invite/${token} within seven days to set up the first administrator account.\n`,
      });
      console.log('portal: first administrator invitation mailed to PORTAL_ADMIN_EMAIL');
    } catch (error) {
      console.error(
        `portal: could not mail the first administrator invitation (${(error as Error).message})`,
      );
    }
  }
}

console.log(
  `portal: ${config.publicOrigin} (listening on ${config.host}:${portal.port}, relay admin ${env.RELAY_ADMIN_ADDRESS})`,
);
console.log(
  `portal: ${keyring ? describeKeyring(keyring) : 'KEK: portal-file-kek seals (the key file; PORTAL_KMS_KEY_ID: a KMS key)'}`,
);
console.log('portal ready');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await portal.close();
      mail.close();
      process.exit(0);
    })();
  });
