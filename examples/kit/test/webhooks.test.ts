/**
 * The one Standard Webhooks implementation: what is signed verifies; a changed body, a
 * timestamp outside the tolerance, a foreign secret or missing headers do not.
 */
import { describe, expect, it } from 'vitest';
import {
  newWebhookSecret,
  signWebhook,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  webhookHeaders,
  webhookKey,
} from '../src/webhooks.ts';

const NOW_S = 1_800_000_000;
const BODY = '{"type":"payment.succeeded","data":{"amount":1200}}';

describe('Standard Webhooks', () => {
  it('signs and verifies a message (round trip), with or without the whsec_ prefix', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_1', NOW_S, BODY);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyWebhook(secret, headers, BODY, NOW_S * 1000)).toEqual({ ok: true });
    expect(verifyWebhook(secret, headers, Buffer.from(BODY), NOW_S * 1000)).toEqual({ ok: true });
    const bare = secret.slice('whsec_'.length);
    expect(verifyWebhook(bare, headers, BODY, NOW_S * 1000)).toEqual({ ok: true });
  });

  it('refuses a tampered body, another secret and a signature with anything appended', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_2', NOW_S, BODY);
    const at = NOW_S * 1000;
    expect(verifyWebhook(secret, headers, `${BODY} `, at)).toEqual({
      ok: false,
      reason: 'signature',
    });
    expect(verifyWebhook(newWebhookSecret(), headers, BODY, at).ok).toBe(false);
    const padded = { ...headers, 'webhook-signature': `${headers['webhook-signature']}AA` };
    expect(verifyWebhook(secret, padded, BODY, at).ok).toBe(false);
  });

  it('accepts one matching signature among several (a rotating secret)', () => {
    const [older, newer] = [newWebhookSecret(), newWebhookSecret()];
    const both = `${signWebhook(older, 'msg_3', NOW_S, BODY)} ${signWebhook(newer, 'msg_3', NOW_S, BODY)}`;
    const headers = { 'webhook-id': 'msg_3', 'webhook-timestamp': String(NOW_S) };
    const signed = { ...headers, 'webhook-signature': both };
    expect(verifyWebhook(newer, signed, BODY, NOW_S * 1000)).toEqual({ ok: true });
    expect(verifyWebhook(older, signed, BODY, NOW_S * 1000)).toEqual({ ok: true });
  });

  it('refuses a timestamp outside the tolerance (old or in the future) and missing headers', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_4', NOW_S, BODY);
    const late = (NOW_S + WEBHOOK_TOLERANCE_SECONDS + 1) * 1000;
    const early = (NOW_S - WEBHOOK_TOLERANCE_SECONDS - 1) * 1000;
    expect(verifyWebhook(secret, headers, BODY, late)).toEqual({ ok: false, reason: 'timestamp' });
    expect(verifyWebhook(secret, headers, BODY, early)).toEqual({ ok: false, reason: 'timestamp' });
    const { 'webhook-id': _id, ...withoutId } = headers;
    expect(verifyWebhook(secret, withoutId, BODY, NOW_S * 1000)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('signs only with a secret a receiver could verify with (canonical base64, ≥ 24 bytes)', () => {
    expect(webhookKey(newWebhookSecret())).toHaveLength(32);
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    expect(webhookKey(short)).toBeUndefined();
    expect(() => signWebhook(short, 'msg_5', NOW_S, BODY)).toThrow(/24 bytes/);
    expect(() => signWebhook('whsec_not base64!', 'msg_5', NOW_S, BODY)).toThrow(/base64/);
  });
});
