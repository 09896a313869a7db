/** The alerts inbox's routes, and the relay's signed alert webhook (when a secret is set). */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../../server/context.ts';
import { serveAll } from '../../server/route.ts';
import { alertsContract, relayAlertsContract } from './contract.ts';
import { acknowledge, inbox, relayAlert, resolve, summary } from './service.ts';

export interface AlertsOptions {
  /**
   * The secret the relay signs its alert webhooks with (≥ 16 bytes; at the relay:
   * `alerts: { hooks: [webhookHook({ url: '<portal>/internal/relay/v1/alerts', secret })] }`).
   * Without it the webhook is off (404) and relay alerts reach only the relay's log.
   */
  readonly relaySecret?: string;
}

export const RELAY_ALERTS_PATH = relayAlertsContract.receive.path;

export function alertsRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: AlertsOptions = {},
): void {
  serveAll(app, ctx, alertsContract, {
    list: async ({ principal, query }) => inbox(ctx, principal, query.state ?? 'active'),
    summary: async ({ principal }) => summary(ctx, principal),
    acknowledge: async ({ req, principal, params }) => acknowledge(ctx, req, principal, params.id),
    resolve: async ({ req, principal, params }) => resolve(ctx, req, principal, params.id),
  });

  const secret = options.relaySecret;
  if (!secret) return;
  if (Buffer.byteLength(secret) < 16) throw new Error('the relay alert secret needs ≥ 16 bytes');
  void app.register(async (relay) => {
    // The signature covers the body as sent: keep it as the string it was.
    relay.removeAllContentTypeParsers();
    relay.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 32 * 1024 },
      (_req, body, done) => done(null, body),
    );
    serveAll(relay, ctx, relayAlertsContract, {
      receive: async ({ req }) => relayAlert(ctx, secret, req.headers, String(req.body ?? '')),
    });
  });
}
