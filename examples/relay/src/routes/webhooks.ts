/**
 * Inbound webhooks: a third party posts a signed event (Standard Webhooks) to a connection's
 * own hook URL `/v1/hooks/<connection>/<hookId>` — the hook id names one connection of one
 * license, so a webhook costs one indexed row and one decryption, whoever else uses the
 * connection name — or, deprecated, to the shared `/v1/hooks/<connection>`. A verified event
 * goes into the license's {@link Mailbox}; every outcome is audited.
 */

import type { AuditEventInput } from '@fluxel/audit';
import { ConnectionId, JsonValue } from '@fluxel/relay-client/contract';
import { checkWebhookHeaders, webhookSignedWith } from '@fluxel-example/kit/webhooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventFeed } from '../feed.ts';
import { header, invalid, type RelayHttpServer } from '../http.ts';
import type { Mailbox } from '../mailbox.ts';
import { HttpProblem } from '../problem.ts';
import { HOOK_ID, type Vault, type WebhookSecret } from '../vault.ts';

export interface WebhookRouteDeps {
  readonly vault: Vault;
  readonly mailbox: Mailbox;
  readonly feed: Pick<EventFeed, 'publish'>;
  readonly record: (event: AuditEventInput) => Promise<void>;
  /** Clock (ms) of the signature window. */
  readonly clock: () => number;
  /** Whether the deprecated shared hook URL still takes webhooks (see `RelayOptions`). */
  readonly legacyWebhooks: boolean;
}

/** The audit log's names for why a webhook was refused (stable: operators filter on them). */
const AUDIT_REASONS = {
  missing: 'missing-headers',
  timestamp: 'stale-timestamp',
  signature: 'bad-signature',
} as const;

/** Registers `POST /v1/hooks/:connection/:hookId` and the deprecated `POST /v1/hooks/:connection`. */
export function registerWebhookRoutes(app: RelayHttpServer, deps: WebhookRouteDeps): void {
  const { vault, mailbox, feed, record, clock } = deps;

  app.post('/v1/hooks/:connection/:hookId', async (req, reply) => {
    const params = req.params as { connection: string; hookId: string };
    const connection = ConnectionId.safeParse(params.connection);
    if (!connection.success) throw invalid('params.connection', connection.error);
    return receiveWebhook(req, reply, connection.data, params.hookId);
  });

  // Deprecated: routing by connection name alone. Only rows stored before hook ids existed
  // (marked legacy by the migration; new rows never are) are tried, at most
  // LEGACY_HOOK_CANDIDATES; every use is audited (`legacyHook: true`) so operators can see who
  // still has to switch the third party to the connection's own URL.
  app.post('/v1/hooks/:connection', async (req, reply) => {
    if (!deps.legacyWebhooks)
      throw new HttpProblem(404, 'no such hook: use the connection webhook URL', {
        code: 'ERR_NOT_FOUND',
      });
    const connection = ConnectionId.safeParse((req.params as { connection: string }).connection);
    if (!connection.success) throw invalid('params.connection', connection.error);
    return receiveWebhook(req, reply, connection.data, undefined);
  });

  async function receiveWebhook(
    req: FastifyRequest,
    reply: FastifyReply,
    connection: string,
    hookId: string | undefined,
  ) {
    const raw = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
    const headers = {
      id: header(req, 'webhook-id'),
      timestamp: header(req, 'webhook-timestamp'),
      signature: header(req, 'webhook-signature'),
    };
    const actor = { type: 'service' as const, id: `webhook:${connection}`, ip: req.ip };
    const denied = async (reason: string, tenant = 'unknown') => {
      await record({
        tenant,
        actor,
        action: 'webhook.receive',
        target: { type: 'connection', id: connection },
        outcome: 'denied',
        reason,
        requestId: req.id,
        ...(hookId === undefined ? { data: { legacyHook: true } } : {}),
      });
      return new HttpProblem(401, 'webhook refused', { code: 'ERR_WEBHOOK_REFUSED' });
    };
    const check = checkWebhookHeaders(headers, clock());
    if (!check.ok) throw await denied(AUDIT_REASONS[check.reason]);
    let match: WebhookSecret | undefined;
    if (hookId === undefined) {
      const candidates = await vault.legacyWebhookSecrets(connection);
      match = candidates.find(({ secret }) => webhookSignedWith(secret, headers, raw));
    } else {
      if (!HOOK_ID.test(hookId)) throw await denied('unknown-hook');
      const candidate = await vault.webhookSecret(connection, hookId);
      if (!candidate) throw await denied('unknown-hook');
      if (webhookSignedWith(candidate.secret, headers, raw)) match = candidate;
    }
    if (!match) throw await denied(AUDIT_REASONS.signature);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpProblem(400, 'body is not JSON', { code: 'ERR_VALIDATION' });
    }
    const payload = JsonValue.safeParse(json);
    if (!payload.success) throw invalid('body', payload.error);
    const rawType = (json as { type?: unknown } | null)?.type;
    const type =
      typeof rawType === 'string' && rawType.length >= 1 && rawType.length <= 128
        ? rawType
        : 'webhook';
    const id = headers.id as string;
    const { owner } = match;
    const { stored, receivedAt } = await mailbox.receive(owner, {
      connection,
      id,
      type,
      payload: payload.data,
      signedAt: Number(headers.timestamp) * 1000,
    });
    await record({
      tenant: owner.tenant,
      actor,
      action: 'mailbox.receive',
      target: { type: 'mailbox-event', id },
      outcome: 'success',
      requestId: req.id,
      data: {
        license: owner.licenseId,
        connection,
        type,
        duplicate: !stored,
        ...(hookId === undefined ? { legacyHook: true } : {}),
      },
    });
    if (stored) {
      feed.publish({
        type: 'mailbox.received',
        outcome: 'success',
        tenant: owner.tenant,
        licenseId: owner.licenseId,
        connection,
        mailboxEventId: id,
        time: receivedAt,
      });
      mailbox.arrived(owner.licenseId);
    }
    // A duplicate is answered like the first delivery: the sender has nothing to retry.
    return reply.code(204).send();
  }
}
