/** Shared by the webhook tests: a license with its own secret, and exact signed requests. */
import { randomUUID } from 'node:crypto';
import type { NodeRelayClient } from '@fluxel/relay-client/node';
import { generateWebhookSecret, signWebhook } from '@fluxel-example/counterpart';
import { Agent, request } from 'undici';
import { API_KEY, type Harness } from './helpers.ts';

export interface HookedLicense {
  readonly client: NodeRelayClient;
  readonly licenseId: string;
  readonly secret: string;
  /** The connection's webhook URL as the relay shows it. */
  readonly url: string;
}

/**
 * The webhook URL the relay shows for a connection (`webhookEndpoint`); a client without that
 * route (before per-connection hooks) only knows the shared `/v1/hooks/<connection>`.
 */
export async function hookUrlOf(
  h: Harness,
  client: NodeRelayClient,
  connection: string,
): Promise<string> {
  const c = client as unknown as {
    webhookEndpoint?: (input: { connection: string }) => Promise<{ url: string }>;
  };
  if (typeof c.webhookEndpoint !== 'function') return `${h.relay.url}/v1/hooks/${connection}`;
  return (await c.webhookEndpoint({ connection })).url;
}

/** Activates a fresh license of `tenant` and stores `connection` credentials with a new secret. */
export async function hookedLicense(
  h: Harness,
  tenant: string,
  connection = 'shop-1',
): Promise<HookedLicense> {
  const { client } = await h.client();
  const { licenseId } = await client.activate({ body: { licenseKey: await h.issueKey(tenant) } });
  const secret = generateWebhookSecret();
  await client.putCredentials({
    connection,
    body: { kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret: secret } },
  });
  return { client, licenseId, secret, url: await hookUrlOf(h, client, connection) };
}

/** One signed webhook message; `send()` posts exactly these bytes on a connection of its own. */
export function signedWebhook(
  h: Harness,
  url: string,
  secret: string,
  options: { id?: string; timestamp?: number; payload?: unknown } = {},
) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: 'payment.received',
    data: options.payload ?? { paymentId: `pay_${randomUUID()}`, amount: 1999 },
  });
  const signature = signWebhook(secret, id, timestamp, body);
  return {
    id,
    body,
    signature,
    async send(overrides: { signature?: string } = {}): Promise<number> {
      const dispatcher = new Agent({ connect: { ca: h.relay.tls.ca }, pipelining: 0 });
      try {
        const res = await request(url, {
          method: 'POST',
          dispatcher,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': overrides.signature ?? signature,
          },
          body,
        });
        await res.body.text();
        return res.statusCode;
      } finally {
        await dispatcher.close();
      }
    },
  };
}

/** Rows of the mailbox holding event `id`. */
export async function mailboxRows(h: Harness, id: string): Promise<number> {
  const { rows } = await h.relay.database.query(
    'SELECT count(*)::int AS n FROM relay_mailbox WHERE id = $1',
    [id],
  );
  return Number(rows[0]?.n ?? 0);
}
