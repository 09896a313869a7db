/**
 * Found by the load and fault suite (issue 21, "each delivery audited as relay.send success"):
 * the relay recorded a send's outcome and audited it at the same time, so a relay killed with
 * the audit write in flight could leave a delivery on record that no audit event shows — and
 * the agent's retry was then a replay, which audits nothing. Now the outcome is audited
 * first and recorded after: with the audit write held (a relay that dies here never finishes
 * it), the key stays pending, so the send is forwarded again after the lease (same
 * Idempotency-Key) and audited then.
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore, type StoredRecord } from '@fluxel/audit';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedClient, type Harness, idempotencyStates, startHarness } from './helpers.ts';

/** An audit store whose writes can be held (as if the process stopped mid-write) and let go. */
class HeldStore extends MemoryStore {
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  holding = 0;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  override async append(records: readonly StoredRecord[]): Promise<void> {
    if (this.#gate) {
      this.holding++;
      await this.#gate;
    }
    await super.append(records);
  }
}

const CONNECTION = 'shop-1';
const body = { operation: 'order.status', payload: { order: 'A-3101', status: 'shipped' } };

let current: Harness | undefined;
let store: HeldStore | undefined;
afterEach(async () => {
  store?.release();
  await current?.close();
  current = undefined;
});

describe('send: audited before recorded (issue 21)', () => {
  it('regression: a delivery recorded while its audit write was still in flight (a relay killed then left an unaudited delivery)', async () => {
    store = new HeldStore();
    const h = await startHarness({ relay: { auditStore: store } });
    current = h;
    const client = await connectedClient(h, CONNECTION);
    const idempotencyKey = randomUUID();
    const stateOf = () => idempotencyStates(h, idempotencyKey);

    store.hold();
    const sent = client.send.safe({ connection: CONNECTION, idempotencyKey, body });
    // The counterpart executed it; the relay is now writing the outcome's audit event.
    await expect
      .poll(() => h.counterpart.effects.filter((e) => e.idempotencyKey === idempotencyKey).length)
      .toBe(1);
    await expect.poll(() => store?.holding ?? 0).toBeGreaterThan(0);
    // Whatever the ledger's group commit does meanwhile, the key is not on record as
    // delivered while no audit event says so (before the fix: 'delivered' within a cycle).
    for (let i = 0; i < 20; i++) {
      expect(await stateOf()).toEqual(['pending']);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    store.release();
    const answer = await sent;
    expect(answer.ok).toBe(true);
    expect(await stateOf()).toEqual(['delivered']);
    expect(
      store.records
        .filter(
          (r) =>
            r.kind === 'e' &&
            r.event?.action === 'relay.send' &&
            r.event.data?.idempotencyKey === idempotencyKey,
        )
        .map((r) => r.event?.outcome),
    ).toEqual(['success']);
  });
});
