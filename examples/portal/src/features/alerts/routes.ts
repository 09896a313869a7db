/** The alerts inbox's routes, and the relay's signed alert webhook (when a secret is set). */
import type { FastifyInstance } from 'fastify';
import { authorize, type Context } from '../../server/context.ts';
import { parse } from '../../server/http.ts';
import { alertsQuery } from './contract.ts';
import { acknowledge, inbox, relayAlert, resolve, summary } from './service.ts';

export interface AlertsOptions {
  /**
   * The secret the relay signs its alert webhooks with (≥ 16 bytes; the relay's
   * `alerts.hooks: [webhookHook({ url: '<portal>/internal/relay/v1/alerts', secret })]`).
   * Without it the webhook is off (404) and relay alerts reach only the relay's log.
   */
  readonly relaySecret?: string;
}

/** Where the relay posts its alerts: outside `/api`, a machine call without session or CSRF. */
export const RELAY_ALERTS_PATH = '/internal/relay/v1/alerts';

export function alertsRoutes(
  app: FastifyInstance,
  ctx: Context,
  options: AlertsOptions = {},
): void {
  app.get('/api/alerts', async (req) => {
    const p = await authorize(ctx, req, 'alerts.read');
    return inbox(ctx, p, parse(alertsQuery, req.query).state ?? 'active');
  });

  app.get('/api/alerts/summary', async (req) => {
    const p = await authorize(ctx, req, 'alerts.read');
    return summary(ctx, p);
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/acknowledge', async (req) => {
    const p = await authorize(ctx, req, 'alerts.manage');
    return acknowledge(ctx, req, p, req.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/resolve', async (req) => {
    const p = await authorize(ctx, req, 'alerts.manage');
    return resolve(ctx, req, p, req.params.id);
  });

  const secret = options.relaySecret;
  if (!secret) return;
  if (Buffer.byteLength(secret) < 16) throw new Error('the relay alert secret needs ≥ 16 bytes');
  void app.register(async (relay) => {
    // The signature covers the body as sent: keep it as a string.
    relay.removeAllContentTypeParsers();
    relay.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: 32 * 1024 },
      (_req, body, done) => done(null, body),
    );
    relay.post(RELAY_ALERTS_PATH, async (req, reply) => {
      await relayAlert(ctx, secret, req.headers, String(req.body ?? ''));
      return reply.code(204).send();
    });
  });
}
