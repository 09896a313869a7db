/**
 * `pnpm --filter @fluxel-example/portal dev`: the portal API on https://localhost:8445 behind
 * Vite's dev server on https://localhost:5173 (hot reload; `/api` proxied), the relay reached
 * with the tokens the relay's dev start wrote to `examples/relay/.data/dev-tokens.json`, e-mail
 * to a local SMTP sink, SMS to the console. On first start it prints the invitation link of the
 * first administrator.
 *
 * Mail the sink receives is printed (one line `portal: e-mail to … — subject — first link`, then
 * the text) and listed by the mail viewer: `/dev/mails` in the web app (`GET /api/dev/mails`,
 * `src/features/dev-mail/`), linked from the demo banner. Only here, and only with the sink: with
 * `SMTP_HOST` set, mail goes out and there is no viewer. The root `pnpm dev` (`examples/system`) starts this file
 * with `PORTAL_VITE=0` (the built web app on the API port), its own data folders, the relay's
 * tokens in `RELAY_*` variables, and waits for the `portal ready` line.
 *
 * `RELAY_ALERTS_SECRET`: the relay's alerts arrive in the alerts inbox (the relay started with the
 * same secret and `RELAY_ALERTS_URL=https://127.0.0.1:<PORTAL_PORT>/internal/relay/v1/alerts`;
 * the system demo does both).
 *
 * More settings: `PORTAL_DATABASE_SCHEMA` (with `DATABASE_URL`; default `portal`),
 * `PORTAL_EXTRA_TENANTS` (`id:Name,…` — further customer tenants).
 */

import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join, resolve } from 'node:path';
import { env } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDevTls } from '@fluxel-example/kit/tls';
import { devMailRoutes } from '../features/dev-mail/routes.ts';
import { countUsers } from '../features/users/store.ts';
import { DEV_MAIL_PAGE, firstLink } from '../shared/dev-mail.ts';
import { createPortal } from './app.ts';
import { OPERATOR_TENANT } from './context.ts';
import { smtpTransport, startSmtpSink } from './mail.ts';
import type { SmsTransport } from './sms.ts';

const here = import.meta.dirname;
const dataDir = resolve(env.PORTAL_DATA_DIR ?? join(here, '../../.data'));
const relayData = resolve(env.RELAY_DATA_DIR ?? join(here, '../../../relay/.data'));
const apiPort = Number(env.PORTAL_PORT ?? 8445);
const webPort = Number(env.PORTAL_WEB_PORT ?? 5173);
const useVite = env.PORTAL_VITE !== '0';

interface DevTokens {
  adminToken: string;
  adminPort: number;
  portalToken: string;
  relayUrl: string;
}

async function relayTokens(): Promise<DevTokens> {
  if (env.RELAY_ADMIN_TOKEN && env.RELAY_PORTAL_TOKEN)
    return {
      adminToken: env.RELAY_ADMIN_TOKEN,
      adminPort: Number(env.RELAY_ADMIN_PORT ?? 8444),
      portalToken: env.RELAY_PORTAL_TOKEN,
      relayUrl: env.RELAY_URL ?? 'https://127.0.0.1:8443',
    };
  const file = join(relayData, 'dev-tokens.json');
  for (let i = 0; i < 120 && !existsSync(file); i++) {
    if (i === 0) console.log(`portal: waiting for the relay (${file}) …`);
    await sleep(500);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as DevTokens;
}

const tokens = await relayTokens();
// The portal serves the relay's dev certificate (127.0.0.1 and localhost) so one CA covers both.
const tls = ensureDevTls(join(relayData, 'tls'));
const smtp = await startSmtpSink({ port: Number(env.PORTAL_SMTP_SINK_PORT ?? 0) });
const mail = env.SMTP_HOST
  ? smtpTransport({
      host: env.SMTP_HOST,
      port: Number(env.SMTP_PORT ?? 587),
      from: env.SMTP_FROM ?? 'portal@localhost',
      ...(env.SMTP_USER && env.SMTP_PASS
        ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASS } }
        : {}),
    })
  : smtpTransport({ host: '127.0.0.1', port: smtp.port, from: 'portal@localhost' });
const sms: SmsTransport = {
  async send(message) {
    console.log(`portal: SMS to ${message.to}: ${message.text}`);
  },
};
const origin = useVite ? `https://localhost:${webPort}` : `https://localhost:${apiPort}`;
const portal = await createPortal({
  dataDir,
  tls,
  port: apiPort,
  publicOrigin: origin,
  ...(env.DATABASE_URL
    ? { databaseUrl: env.DATABASE_URL, databaseSchema: env.PORTAL_DATABASE_SCHEMA ?? 'portal' }
    : {}),
  relay: {
    adminAddress: `localhost:${tokens.adminPort}`,
    adminToken: tokens.adminToken,
    relayUrl: tokens.relayUrl,
    portalToken: tokens.portalToken,
    ca: tls.ca,
  },
  ...(env.RELAY_ALERTS_SECRET ? { alerts: { relaySecret: env.RELAY_ALERTS_SECRET } } : {}),
  mail,
  sms,
  logger: env.PORTAL_LOG === '1',
  // The viewer lists the sink: with a real SMTP server nothing lands there to list.
  extraRoutes: env.SMTP_HOST ? [] : [devMailRoutes(smtp)],
  partner: {
    ...(env.AMQP_URL ? { amqpUrl: env.AMQP_URL } : {}),
    ...(env.NATS_URL ? { natsUrl: env.NATS_URL } : {}),
    ...(env.AMQP_URL || env.NATS_URL
      ? {
          relayFeed: {
            ...(env.AMQP_URL ? { amqpUrl: env.AMQP_URL } : {}),
            ...(env.NATS_URL ? { natsUrl: env.NATS_URL } : {}),
          },
        }
      : {}),
  },
});

// Mail that reaches the sink is printed, so codes and links can be used in dev: first one line
// with recipient, subject and the first link (the system demo echoes exactly these lines to its
// console), then the text.
let printed = 0;
setInterval(() => {
  for (const m of smtp.messages.slice(printed)) {
    const link = firstLink(m.text);
    console.log(
      `portal: e-mail to ${m.to.join(', ')} — ${m.subject}${link ? ` — ${link}` : ''}\n${m.text}\n`,
    );
  }
  printed = smtp.messages.length;
}, 500).unref();

await portal.createTenant('demo-merchant', 'Demo Händler GmbH', 'customer');
await portal.createTenant('demo-partner', 'Demo Integrationspartner', 'partner');
await portal.assignPartner('demo-partner', 'demo-merchant');
// PORTAL_EXTRA_TENANTS="id:Name,id2:Name 2": more customer tenants (the system suite needs a
// second customer to prove tenant isolation).
for (const entry of (env.PORTAL_EXTRA_TENANTS ?? '').split(',').filter(Boolean)) {
  const [id, ...name] = entry.split(':');
  if (id) await portal.createTenant(id.trim(), name.join(':').trim() || id.trim(), 'customer');
}
if ((await countUsers(portal.db)) === 0) {
  const token = await portal.invite(
    env.PORTAL_ADMIN_EMAIL ?? 'admin@localhost.test',
    'administrator',
    OPERATOR_TENANT,
  );
  console.log(`portal: first administrator — open ${origin}/invite/${token}`);
}

let vite: { close(): Promise<void> } | undefined;
if (useVite) {
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: join(here, '../../vite.config.ts'),
    root: join(here, '../../web'),
    server: {
      host: 'localhost',
      port: webPort,
      strictPort: true,
      https: { key: tls.key, cert: tls.cert },
      // To the portal API over TLS, verified against the dev CA (never with verification off).
      proxy: Object.fromEntries(
        ['/api', '/sso', '/oauth', '/partner-api'].map((prefix) => [
          prefix,
          { target: `https://localhost:${apiPort}`, agent: new HttpsAgent({ ca: tls.ca }) },
        ]),
      ),
    },
  });
  await server.listen();
  vite = server;
}
console.log(`portal: ${origin} (API ${portal.url}, CA ${tls.caPath})`);
if (!env.SMTP_HOST) console.log(`portal: demo e-mails: ${origin}${DEV_MAIL_PAGE}`);
console.log('portal ready');

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void (async () => {
      await vite?.close();
      await portal.close();
      await smtp.close();
      process.exit(0);
    })();
  });
