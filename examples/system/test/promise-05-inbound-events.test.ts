import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot, relayAuditEvents, waitUntil } from './helpers.ts';

const inbox = (dir: string) =>
  existsSync(join(dir, 'inbox')) ? readdirSync(join(dir, 'inbox')) : [];

describe('promise 5: the one exception — inbound events', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('a signed webhook is held encrypted until the agent picks it up; after seven days it is deleted', async () => {
    const { dir } = await activatedAgent(sys, 'merchant');
    const agent = await sys.startAgent(dir);
    const marker = `pay-${Math.random().toString(36).slice(2, 10)}`;
    const sent = (await sys.counterpartAdmin('POST', '/admin/webhook', {
      payload: { paymentId: marker, amount: 4711 },
    })) as { id: string; relayStatus: number };
    expect(sent.relayStatus).toBe(204);
    const file = await waitUntil('the event in the inbox folder', () =>
      inbox(dir).find((f) => f.startsWith(sent.id)),
    );
    expect(readFileSync(join(dir, 'inbox', file), 'utf8')).toContain(marker);
    expect((await sys.relayStorage()).toString('latin1')).not.toContain(marker);
    await agent.stop();

    // Held while the agent is away: stored (its id visible), the content not.
    const held = (await sys.counterpartAdmin('POST', '/admin/webhook', {
      payload: { paymentId: `${marker}-held`, amount: 1 },
    })) as { id: string; relayStatus: number };
    expect(held.relayStatus).toBe(204);
    const storage = (await sys.relayStorage()).toString('latin1');
    expect(storage).toContain(held.id);
    expect(storage).not.toContain(`${marker}-held`);

    // Eight days later (the relay's clock moved on through its dev option): purged and audited.
    await sys.stopComponent('relay');
    await sys.startComponent('relay', {
      RELAY_CLOCK_OFFSET_MS: String(8 * 86_400_000),
      RELAY_PURGE_INTERVAL_MS: '500',
    });
    await waitUntil(
      'mailbox.expire in the audit log',
      () => relayAuditEvents(sys).some((e) => e.action === 'mailbox.expire') || undefined,
    );
    expect((await sys.relayStorage()).toString('latin1')).not.toContain(held.id);
    const once = await sys.agent(dir, ['run', '--once', '--json']);
    expect(once.code).toBe(0);
    expect(inbox(dir).some((f) => f.startsWith(held.id))).toBe(false);
    expect(inbox(dir)).toHaveLength(1);
  });
});
