import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot, dropRecord } from './helpers.ts';

describe('promise 6: encrypted at rest', () => {
  let sys: Booted;
  let dispatcher: Agent;
  beforeAll(async () => {
    sys = await boot();
    dispatcher = new Agent({ connect: { ca: readFileSync(sys.caPath, 'utf8') } });
  });
  afterAll(async () => {
    await dispatcher?.close();
    await sys?.close();
  });

  it('stored credentials and held events are ciphertext; destroying a tenant key makes that tenant unreadable, others work on', async () => {
    const { dir } = await activatedAgent(sys, 'merchant');
    const marker = `iban-${Math.random().toString(36).slice(2, 10)}`;
    const held = (await sys.counterpartAdmin('POST', '/admin/webhook', {
      payload: { paymentId: marker, payer: 'Erika Mustermann' },
    })) as { id: string; relayStatus: number };
    expect(held.relayStatus).toBe(204);

    const storage = (await sys.relayStorage()).toString('latin1');
    expect(storage).toContain('flx1.'); // sealed values are there …
    for (const plain of [
      sys.secrets.counterpartApiKey,
      sys.secrets.webhookSecret.slice('whsec_'.length),
      marker,
      'Erika Mustermann',
    ])
      expect(storage).not.toContain(plain); // … and no plaintext

    // Control: while the key exists, the stored credentials open and a send is delivered.
    dropRecord(dir, 'before-shred', {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: `${marker}-control`, status: 'packed' },
    });
    const control = await sys.agent(dir, ['run', '--once', '--json']);
    expect(control.json).toMatchObject({ outbox: { depth: 0 }, inbox: { handled: 1 } });
    const before = (await sys.counterpartAdmin('GET', '/admin/effects')) as {
      effects: { body: unknown }[];
    };
    expect(before.effects.some((e) => JSON.stringify(e.body).includes(`${marker}-control`))).toBe(
      true,
    );
    const held2 = (await sys.counterpartAdmin('POST', '/admin/webhook', {
      payload: { paymentId: `${marker}-2` },
    })) as { id: string; relayStatus: number };
    expect(held2.relayStatus).toBe(204);

    // Another customer of the same relay, with its own tenant key.
    const other = await activatedAgent(sys, 'other', { tenant: 'other-merchant' });

    // Crypto-shredding of the customer: its tenant key is destroyed through the relay's portal
    // API (what the portal's erasure of a customer calls). Bad input first: nothing changes.
    const shred = async (tenant: string, body: unknown) => {
      const res = await request(`${sys.relayUrl}/internal/portal/v1/tenants/${tenant}/key`, {
        method: 'DELETE',
        dispatcher,
        headers: {
          authorization: `Bearer ${sys.secrets.portalToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await shred('demo-merchant', { actor: { id: '' } })).toBe(400);
    expect(await shred('demo-merchant', { actor: { id: 'e2e-admin' } })).toBe(204);

    // The ciphertexts are still stored, but nothing of the customer opens any more: the held
    // event never reaches the agent, and a send cannot use the stored credentials — the relay
    // answers 410 (erased), so the agent dead-letters the record instead of retrying forever.
    expect((await sys.relayStorage()).toString('latin1')).toContain('flx1.');
    dropRecord(dir, 'after-shred', {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: `${marker}-order`, status: 'shipped' },
    });
    const once = await sys.agent(dir, ['run', '--once', '--json']);
    expect(once.json).toMatchObject({ outbox: { depth: 0, dead: 1 }, inbox: { handled: 0 } });
    expect(JSON.stringify(once.json)).toContain('410');
    const inbox = existsSync(join(dir, 'inbox')) ? readdirSync(join(dir, 'inbox')) : [];
    expect(inbox.some((f) => f.startsWith(held.id))).toBe(true); // picked up by the control run
    expect(inbox.some((f) => f.startsWith(held2.id))).toBe(false);

    // The other customer is untouched: its send is delivered.
    dropRecord(other.dir, 'other-after-shred', {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: `${marker}-other`, status: 'shipped' },
    });
    const otherRun = await sys.agent(other.dir, ['run', '--once', '--json']);
    expect(otherRun.json).toMatchObject({ outbox: { depth: 0, dead: 0 } });

    const effects = (await sys.counterpartAdmin('GET', '/admin/effects')) as {
      effects: { body: unknown }[];
    };
    const delivered = (text: string) =>
      effects.effects.some((e) => JSON.stringify(e.body).includes(text));
    expect(delivered(`${marker}-order`)).toBe(false);
    expect(delivered(`${marker}-other`)).toBe(true);
  });
});
