/**
 * Every refused input answers with a stable reason per field (`fields[].reason`, one of
 * FIELD_REASONS) that the web app translates: a malformed sign-in code, each reason of the
 * password policy, a maintenance window ending before it starts, a webhook to an internal
 * address. The English `message` stays for logs and API clients; the reason is the contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderFailure } from '../src/features/certificates/service.ts';
import { deliveryError } from '../src/features/partner/model.ts';
import { FIELD_REASONS, type FieldProblem, type Problem } from '../src/shared/api.ts';
import { PASSWORD, type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

let h: PortalHarness;
let admin: SignedUp;
let partner: SignedUp;
const USER = 'reasons@acme.test';

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('partner-co', 'Partner GmbH', 'partner');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  partner = await h.signUp('partner@partner.test', 'partner', 'partner-co', 'Paul Partner');
  await h.signUp(USER, 'customer', 'acme', 'Rita Reason');
});

afterAll(async () => {
  await h?.close();
});

/** The reasons of a problem answer, by field, after checking each one is from the list. */
function reasons(body: unknown): { path: string; reason: string }[] {
  const fields = (body as Problem).fields ?? [];
  for (const f of fields) expect(FIELD_REASONS).toContain(f.reason);
  return fields.map(({ path, reason }: FieldProblem) => ({ path, reason }));
}

describe('refused fields carry stable reasons', () => {
  it('a malformed second-factor code is invalid_format on `code`', async () => {
    const c = h.client();
    await c.session();
    expect((await c.post('/api/auth/login', { email: USER, password: PASSWORD })).status).toBe(200);
    const res = await c.post<Problem>('/api/auth/second-factor', {
      method: 'totp',
      code: '12 ab!',
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('bad_request');
    expect(reasons(res.body)).toEqual([{ path: 'code', reason: 'invalid_format' }]);
    const missing = await c.post('/api/auth/second-factor', { method: 'totp' });
    expect(reasons(missing.body)).toEqual([{ path: 'code', reason: 'required' }]);
  });

  it('each reason of the password policy is a reason on `password`', async () => {
    const token = await h.portal.invite('petra@acme.test', 'customer', 'acme');
    const c = h.client();
    await c.session();
    const tries: [string, string][] = [
      ['kurz', 'weak_password_too_short'],
      ['x'.repeat(129), 'weak_password_too_long'],
      ['password1234', 'weak_password_common'],
      ['Petra Passwortmann 2026', 'weak_password_contains_identity'],
    ];
    for (const [password, reason] of tries) {
      const res = await c.post<Problem>(`/api/invitations/${token}/accept`, {
        name: 'Petra Passwortmann',
        password,
      });
      expect({ reason, code: res.body.code }).toEqual({
        reason,
        code: 'weak_password',
      });
      expect(reasons(res.body)).toEqual([{ path: 'password', reason }]);
    }
  });

  it('a maintenance window ending before it starts is not_after_start on `endsAt`', async () => {
    const start = Date.now() + h.clock.offsetMs + 3_600_000;
    const res = await admin.client.post('/api/status/maintenance', {
      title: { de: 'Wartung', en: 'Maintenance' },
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start - 60_000).toISOString(),
      components: ['relay'],
    });
    expect(res.status).toBe(400);
    expect(reasons(res.body)).toEqual([{ path: 'endsAt', reason: 'not_after_start' }]);
    const long = await admin.client.post('/api/status/maintenance', {
      title: { de: 'Wartung', en: 'Maintenance' },
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 40 * 86_400_000).toISOString(),
      components: ['relay'],
      colour: 'red',
    });
    expect(reasons(long.body)).toEqual(
      expect.arrayContaining([
        { path: 'endsAt', reason: 'window_too_long' },
        { path: '(body)', reason: 'unknown_field' },
      ]),
    );
  });

  it('a webhook to an internal address is internal_address on `url`', async () => {
    const tries: [string, string][] = [
      ['https://10.1.2.3/hook', 'internal_address'],
      ['https://169.254.169.254/latest/meta-data', 'internal_address'],
      ['http://hooks.example.com/x', 'https_required'],
      ['https://user:pw@hooks.example.com/x', 'url_credentials'],
    ];
    for (const [url, reason] of tries) {
      const res = await partner.client.post('/api/partner/subscriptions', {
        url,
        eventTypes: ['license.locked'],
      });
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(reasons(res.body)).toEqual([{ path: 'url', reason }]);
    }
  });
});

describe('certificate orders fail with a stable code', () => {
  it('the stored technical message maps to the code the page explains', () => {
    const cases: [string, string][] = [
      [
        'ERR_ACME_PROBLEM: request to https://acme-staging-v02.api.letsencrypt.org/directory failed',
        'acme_unreachable',
      ],
      [
        'ERR_ACME_UNREACHABLE: request to https://ca.example/dir failed: connection refused (ECONNREFUSED)',
        'acme_unreachable',
      ],
      ['ERR_ACME_PROBLEM: https://ca.example/dir is not an ACME directory', 'acme_unreachable'],
      [
        'ERR_ACME_PROBLEM: validation of portal.example.com failed: connection refused',
        'validation_failed',
      ],
      ['ERR_ACME_RATE_LIMITED: too many certificates', 'acme_rate_limited'],
      ['ERR_ACME_TIMEOUT: gave up waiting for the order', 'acme_timeout'],
      ['ERR_ACME_PROBLEM: order https://ca.example/o/1 is invalid', 'acme_refused'],
      ['the HTTP-01 listener cannot open port 80 (EACCES)', 'listener_port'],
      ['interrupted', 'interrupted'],
      ['something else', 'error'],
    ];
    expect(cases.map(([message]) => [message, orderFailure(message)])).toEqual(cases);
  });
});

describe('webhook deliveries fail with a stable code', () => {
  it('the stored last error maps to the code the delivery log explains', () => {
    const cases: [string, string][] = [
      ['target refused: internal address', 'internal_address'],
      ['target refused: https is required', 'target_refused'],
      ['connection refused', 'connection_refused'],
      ['HTTP 500', 'http_status'],
      ['timeout', 'timeout'],
      ['ENOTFOUND', 'unreachable'],
      ['subscription inactive', 'inactive'],
      ['subscription or event gone', 'gone'],
      ['delivery failed', 'failed'],
    ];
    expect(cases.map(([text]) => [text, deliveryError(text)])).toEqual(cases);
  });
});
