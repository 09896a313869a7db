/**
 * The contract kit (src/shared/contract.ts, src/server/route.ts): a route is served with its
 * access checked, its query and body parsed, 204 for a void answer, and an answer that drifts
 * from the route's schema refused outside production — over the real portal, through
 * `extraRoutes`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serve, serveAll } from '../src/server/route.ts';
import { pathOf, queryString, route } from '../src/shared/contract.ts';
import { type PortalHarness, type SignedUp, startPortalHarness } from './helpers.ts';

const testContract = {
  echo: route({
    method: 'GET',
    path: '/api/test/echo/:id',
    access: 'public',
    query: z.object({ n: z.coerce.number().int().min(1) }).strict(),
    response: z.object({ id: z.string(), n: z.number() }),
  }),
  audited: route({
    method: 'GET',
    path: '/api/test/audited',
    access: 'audit.read',
    response: z.object({ who: z.string() }),
  }),
  touch: route({
    method: 'POST',
    path: '/api/test/touch',
    access: 'session',
    body: z.object({ name: z.string().min(2) }).strict(),
    response: z.void(),
  }),
} as const;

const drifting = route({
  method: 'GET',
  path: '/api/test/drift',
  access: 'public',
  response: z.object({ count: z.number() }),
});

let h: PortalHarness;
let admin: SignedUp;
let customer: SignedUp;
const touched: string[] = [];

beforeAll(async () => {
  h = await startPortalHarness({
    extraRoutes: [
      (app, ctx) =>
        serveAll(app, ctx, testContract, {
          echo: async ({ params, query }) => ({ id: params.id, n: query.n }),
          audited: async ({ principal }) => ({ who: principal.user.email }),
          touch: async ({ body, principal }) => {
            touched.push(`${principal.user.email}:${body.name}`);
          },
        }),
      // The handler's type would refuse `{ count: 'many' }`; a cast stands for a drifted server.
      (app, ctx) => serve(app, ctx, drifting, async () => ({ count: 'many' }) as never),
    ],
  });
  await h.portal.createTenant('acme', 'Acme GmbH', 'customer');
  admin = await h.signUp('admin@fluxel.test', 'administrator', 'fluxel-operator', 'Ada Admin');
  customer = await h.signUp('kunde@acme.test', 'customer', 'acme', 'Kim Kunde');
});

afterAll(async () => {
  await h?.close();
});

describe('contract routes', () => {
  it('parse path parameters and the query; a bad query is a 400 naming the field', async () => {
    const anonymous = h.client();
    const ok = await anonymous.get('/api/test/echo/a%20b?n=3');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 'a b', n: 3 });
    const bad = await anonymous.get<{ code: string; fields: { path: string }[] }>(
      '/api/test/echo/x?n=0',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('bad_request');
    expect(bad.body.fields.map((f) => f.path)).toEqual(['n']);
  });

  it("check the route's permission (403 for a customer, audited) and sign-in", async () => {
    expect((await admin.client.get('/api/test/audited')).body).toEqual({
      who: 'admin@fluxel.test',
    });
    const denied = await customer.client.get<{ code: string }>('/api/test/audited');
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
    const page = await h.portal.audit.query({ tenant: 'acme', action: 'access.denied' });
    expect(page.events.some((e) => e.actor.id === customer.userId)).toBe(true);
    expect((await h.client().get('/api/test/audited')).status).toBe(401);
  });

  it('answer 204 for a void response, and refuse a bad body without calling the handler', async () => {
    const ok = await customer.client.post('/api/test/touch', { name: 'Kim' });
    expect(ok.status).toBe(204);
    expect(ok.text).toBe('');
    const bad = await customer.client.post('/api/test/touch', { name: 'K', extra: 1 });
    expect(bad.status).toBe(400);
    expect(touched).toEqual(['kunde@acme.test:Kim']);
  });

  it('refuse an answer that drifted from the contract (outside production)', async () => {
    const res = await h.client().get<{ code: string }>('/api/test/drift');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal');
  });
});

describe('paths and queries', () => {
  it('fill and encode parameters, and leave out empty query values', () => {
    expect(pathOf(testContract.echo, { id: 'a/b c' })).toBe('/api/test/echo/a%2Fb%20c');
    expect(() => pathOf(testContract.echo, {})).toThrow(/parameter id is missing/);
    expect(queryString({ a: 'x y', b: '', c: undefined, d: 2, e: ['p', 'q'] })).toBe(
      '?a=x+y&d=2&e=p&e=q',
    );
    expect(queryString({})).toBe('');
  });
});
