import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot, dropRecord } from './helpers.ts';

describe('promise 6: encrypted at rest', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  }, 120_000);
  afterAll(async () => sys?.close());

  it('stored credentials and held events are ciphertext; destroying the key makes them unreadable', async () => {
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

    // Crypto-shredding: the relay's key-encryption key (the dev key file) is destroyed.
    await sys.stopComponent('relay');
    rmSync(join(sys.relayDataDir, 'kek.key'));
    await sys.startComponent('relay');
    // The ciphertexts are still stored, but nothing opens: the held event never reaches the
    // agent and a send cannot use the stored credentials.
    expect((await sys.relayStorage()).toString('latin1')).toContain('flx1.');
    dropRecord(dir, 'after-shred', {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order: `${marker}-order`, status: 'shipped' },
    });
    const once = await sys.agent(dir, ['run', '--once', '--json']);
    // The record stays in the agent's outbox (not delivered), the pickup fails.
    expect(once.json).toMatchObject({ outbox: { depth: 1 }, inbox: { handled: 0 } });
    expect(String((once.json?.inbox as { error?: string } | undefined)?.error)).toMatch(
      /ERR_RELAY/,
    );
    const inbox = existsSync(join(dir, 'inbox')) ? readdirSync(join(dir, 'inbox')) : [];
    expect(inbox.some((f) => f.startsWith(held.id))).toBe(true); // picked up by the control run
    expect(inbox.some((f) => f.startsWith(held2.id))).toBe(false);
    const effects = (await sys.counterpartAdmin('GET', '/admin/effects')) as {
      effects: { body: unknown }[];
    };
    expect(effects.effects.some((e) => JSON.stringify(e.body).includes(`${marker}-order`))).toBe(
      false,
    );
  }, 150_000);
});
