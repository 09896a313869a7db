/**
 * Pending invitations over the API (issue 19): listed within the tenant scope only, sent again
 * once however many ask at the same moment, the old link answering 410 `invitation_replaced`
 * (and not accepted), revoked links invalid; another tenant's invitation answers 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

let h: PortalHarness;
let acme: SignedUp;
let globex: SignedUp;

interface Invitations {
  invitations: { id: string; email: string; tenantId: string; invitedBy?: string }[];
}

beforeAll(async () => {
  h = await startPortalHarness();
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  await h.portal.createTenant('globex', 'Globex AG', 'customer');
  acme = await h.signUp('key@acme.test', 'key-user', 'acme', 'Kai Key');
  globex = await h.signUp('key@globex.test', 'key-user', 'globex', 'Gina Globex');
});

afterAll(async () => {
  await h?.close();
});

const tokenFor = async (email: string, before: number) => {
  const mail = await h.smtp.waitFor(
    (m) => m.to.includes(email) && h.smtp.messages.indexOf(m) >= before,
  );
  return /\/invite\/([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] as string;
};

describe('pending invitations', () => {
  it('are listed in scope, sent again once, and the old link says it was replaced', async () => {
    let before = h.smtp.messages.length;
    const invited = await acme.client.post<{ id: string }>('/api/invitations', {
      email: 'neu@acme.test',
      role: 'customer',
    });
    expect(invited.status).toBe(200);
    const oldToken = await tokenFor('neu@acme.test', before);

    const listed = await acme.client.get<Invitations>('/api/invitations');
    expect(listed.body.invitations.map((i) => [i.email, i.tenantId, i.invitedBy])).toEqual([
      ['neu@acme.test', 'acme', 'Kai Key'],
    ]);
    expect((await globex.client.get<Invitations>('/api/invitations')).body.invitations).toEqual([]);
    // Another tenant's invitation is not there for them (404, like one that does not exist).
    const id = invited.body.id;
    expect((await globex.client.post(`/api/invitations/${id}/resend`)).status).toBe(404);
    expect((await globex.client.call('DELETE', `/api/invitations/${id}`)).status).toBe(404);

    // Sent again by five requests at once: one new invitation; the others find it replaced
    // (404 when they read it after, 409 when the row lock decided).
    before = h.smtp.messages.length;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => acme.client.post(`/api/invitations/${id}/resend`)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.every((r) => [200, 404, 409].includes(r.status))).toBe(true);
    const newToken = await tokenFor('neu@acme.test', before);
    const after = await acme.client.get<Invitations>('/api/invitations');
    expect(after.body.invitations).toHaveLength(1);
    expect(after.body.invitations[0]?.id).not.toBe(id);

    const anonymous = h.client();
    await anonymous.session();
    const old = await anonymous.get(`/api/invitations/${oldToken}`);
    expect([old.status, old.body.code]).toEqual([410, 'invitation_replaced']);
    const accepted = await anonymous.post(`/api/invitations/${oldToken}/accept`, {
      name: 'Nina Neu',
      password: PASSWORD,
    });
    expect(accepted.status).toBe(404);
    expect((await anonymous.get(`/api/invitations/${newToken}`)).status).toBe(200);
  });

  it('revoked: gone from the list, the link invalid, audited', async () => {
    let before = h.smtp.messages.length;
    const invited = await acme.client.post<{ id: string }>('/api/invitations', {
      email: 'weg@acme.test',
      role: 'customer',
    });
    const token = await tokenFor('weg@acme.test', before);
    before = h.smtp.messages.length;
    const revoked = await acme.client.call('DELETE', `/api/invitations/${invited.body.id}`);
    expect(revoked.status).toBe(204);
    const listed = await acme.client.get<Invitations>('/api/invitations');
    expect(listed.body.invitations.map((i) => i.email)).not.toContain('weg@acme.test');
    const link = await h.client().get(`/api/invitations/${token}`);
    expect([link.status, link.body.code]).toEqual([404, 'invitation_invalid']);
    expect((await acme.client.call('DELETE', `/api/invitations/${invited.body.id}`)).status).toBe(
      404,
    );
    const events = await h.portal.audit.query({
      tenant: 'acme',
      action: 'user.invitation.revoked',
    });
    expect(events.events.map((e) => e.target?.id)).toEqual([invited.body.id]);
  });
});
