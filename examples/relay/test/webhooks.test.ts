/**
 * Standard Webhooks verification is strict: each `v1,` entry is exactly one 32-byte MAC in
 * canonical base64 (a valid MAC with anything appended does not count), the `whsec_` prefix is
 * optional as the spec allows, and secrets shorter than 24 bytes are refused — when credentials
 * are stored, with a clear problem, and never used to verify.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { generateWebhookSecret } from '@fluxel-example/counterpart';
import { webhookSignedWith } from '@fluxel-example/kit/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type Harness, rawRequest, startHarness } from './helpers.ts';

const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const TIMESTAMP = '1700000000';
const BODY = Buffer.from('{"type":"payment.received","data":{"amount":1999}}');

function mac(key: Buffer, body = BODY): string {
  return createHmac('sha256', key).update(`${ID}.${TIMESTAMP}.`).update(body).digest('base64');
}

function verify(secret: string, signature: string, body = BODY): boolean {
  return webhookSignedWith(secret, { id: ID, timestamp: TIMESTAMP, signature }, body);
}

const key = randomBytes(32);
const secret = `whsec_${key.toString('base64')}`;
const good = mac(key);

describe('webhook signature decoding (strict)', () => {
  it('accepts exactly one canonical MAC per v1 entry', () => {
    expect(verify(secret, `v1,${good}`)).toBe(true);
    expect(verify(secret, `v1,${mac(randomBytes(32))} v1,${good}`)).toBe(true);
    expect(verify(secret, `v1,${good}`, Buffer.from('{"type":"other"}'))).toBe(false);
  });

  it('refuses a valid MAC with junk appended (it was accepted when decoding was lenient)', () => {
    expect(verify(secret, `v1,${good}junk`)).toBe(false);
    expect(verify(secret, `v1,${good}AAAA`)).toBe(false);
    expect(verify(secret, `v1,${good}=`)).toBe(false);
    expect(verify(secret, `v1,${good},v1`)).toBe(false);
    expect(verify(secret, `v1,${good.slice(0, -1)}`)).toBe(false);
  });

  it('refuses non-canonical base64 of the right MAC (spare bits set, no padding, url alphabet)', () => {
    const bytes = Buffer.from(good, 'base64');
    // 32 bytes → 43 characters + "="; the 43rd carries 2 unused bits, zero when canonical.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const spare = alphabet.charAt(alphabet.indexOf(good.charAt(42)) | 1);
    const nonCanonical = `${good.slice(0, 42)}${spare}=`;
    expect(Buffer.from(nonCanonical, 'base64').equals(bytes)).toBe(true);
    expect(verify(secret, `v1,${nonCanonical}`)).toBe(false);
    expect(verify(secret, `v1,${good.replace(/=+$/, '')}`)).toBe(false);
    expect(verify(secret, `v1,${bytes.toString('base64url')}`)).toBe(false);
  });

  it('refuses other versions and malformed entries', () => {
    expect(verify(secret, `v2,${good}`)).toBe(false);
    expect(verify(secret, `v1a,${good}`)).toBe(false);
    expect(verify(secret, good)).toBe(false);
    expect(verify(secret, `v1,`)).toBe(false);
  });

  it('takes the secret with or without the whsec_ prefix (as Standard Webhooks allows)', () => {
    expect(verify(key.toString('base64'), `v1,${good}`)).toBe(true);
  });

  it('never verifies with a key shorter than 24 bytes (16 were accepted)', () => {
    const short = randomBytes(16);
    expect(verify(`whsec_${short.toString('base64')}`, `v1,${mac(short)}`)).toBe(false);
    const k23 = randomBytes(23);
    expect(verify(`whsec_${k23.toString('base64')}`, `v1,${mac(k23)}`)).toBe(false);
    const k24 = randomBytes(24);
    expect(verify(`whsec_${k24.toString('base64')}`, `v1,${mac(k24)}`)).toBe(true);
  });

  it("the counterpart's generated secrets hold at least 24 bytes", () => {
    for (let i = 0; i < 5; i++) {
      const generated = generateWebhookSecret();
      expect(generated.startsWith('whsec_')).toBe(true);
      expect(Buffer.from(generated.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    }
  });
});

describe('storing a webhook secret', () => {
  let h: Harness;
  let device: Awaited<ReturnType<Harness['client']>>['device'];
  let accessToken: string;

  beforeAll(async () => {
    h = await startHarness();
    const opened = await h.client();
    device = opened.device;
    await opened.client.activate({ body: { licenseKey: await h.issueKey('secret-rules') } });
    accessToken = (await opened.client.tokens())?.accessToken as string;
  });

  afterAll(async () => h?.close());

  const put = (webhookSecret: string) =>
    rawRequest(h, 'PUT', '/v1/connections/shop-1/credentials', {
      body: JSON.stringify({ kind: 'api-key', fields: { apiKey: API_KEY, webhookSecret } }),
      device,
      accessToken,
    });

  it('a secret shorter than 24 bytes is refused with a clear problem (it was stored and used)', async () => {
    const res = await put(`whsec_${randomBytes(16).toString('base64')}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json?.code).toBe('ERR_WEBHOOK_SECRET_INVALID');
    expect(String(res.json?.detail)).toContain('24');
  });

  it('a secret that is not base64 is refused', async () => {
    const res = await put('whsec_not base64!');
    expect(res.status).toBe(400);
    expect(res.json?.code).toBe('ERR_WEBHOOK_SECRET_INVALID');
  });

  it('24 bytes and more are stored, with or without the whsec_ prefix', async () => {
    expect((await put(`whsec_${randomBytes(24).toString('base64')}`)).status).toBe(204);
    expect((await put(randomBytes(32).toString('base64'))).status).toBe(204);
  });
});
