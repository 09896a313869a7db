/**
 * The load itself: records dropped into the agents' folders (write to a dot-file, rename —
 * as the agent's README asks writers to) and signed payment webhooks the counterpart sends to
 * the relays directly, each retried with the same id until a relay accepted it.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSlot, Topology } from './topology.ts';

export interface Hook {
  readonly id: string;
  /** The agent's index, or `DORMANT`. */
  readonly license: number;
  attempts: number;
  inFlight: boolean;
  accepted: boolean;
  lastSentAt: number;
  lastError?: string;
}

export const DORMANT = -1;

export class Traffic {
  /** Order id → when its record was dropped. */
  readonly dropTimes = new Map<string, number>();
  readonly hooks = new Map<string, Hook>();
  /** Webhooks also go to the dormant license until this is switched off. */
  sendDormant = true;
  #hookSeq = 0;
  readonly #top: Topology;

  constructor(top: Topology) {
    this.#top = top;
    top.counterpart.onLine((line) => {
      if (!line.startsWith('webhook-result ')) return;
      const result = JSON.parse(line.slice('webhook-result '.length)) as {
        id: string;
        status?: number;
        error?: string;
      };
      const hook = this.hooks.get(result.id);
      if (!hook) return;
      hook.inFlight = false;
      if (result.status === 204) hook.accepted = true;
      else hook.lastError = result.error ?? `status ${result.status}`;
    });
  }

  drop(a: AgentSlot): void {
    const seq = ++a.dropped;
    const order = `L${a.index}-${seq}`;
    const name = `${String(seq).padStart(7, '0')}.json`;
    const record = {
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order, status: 'shipped' },
    };
    const tmpName = join(a.dir, 'outgoing', `.${name}`);
    writeFileSync(tmpName, JSON.stringify(record));
    renameSync(tmpName, join(a.dir, 'outgoing', name));
    this.dropTimes.set(order, Date.now());
  }

  newHook(): void {
    const agents = this.#top.agents.length;
    const candidates = this.sendDormant ? agents + 1 : agents;
    const pick = this.#hookSeq % candidates;
    this.#hookSeq++;
    const hook: Hook = {
      id: `msg_load_${this.#hookSeq}_${randomBytes(4).toString('hex')}`,
      license: pick === agents ? DORMANT : pick,
      attempts: 0,
      inFlight: false,
      accepted: false,
      lastSentAt: 0,
    };
    this.hooks.set(hook.id, hook);
    this.#send(hook);
  }

  /** Retries webhooks that failed (relay down) or got no answer within 20 s — same id. */
  retryHooks(): void {
    const now = Date.now();
    for (const hook of this.hooks.values()) {
      if (hook.accepted) continue;
      if (hook.inFlight && now - hook.lastSentAt < 20_000) continue;
      if (!hook.inFlight && now - hook.lastSentAt < 1000) continue;
      this.#send(hook);
    }
  }

  #send(hook: Hook): void {
    const relays = this.#top.relays;
    const relay = relays[(hook.attempts + this.#hookSeq) % relays.length];
    if (!relay) return;
    hook.attempts++;
    hook.inFlight = true;
    hook.lastSentAt = Date.now();
    const slot = hook.license === DORMANT ? undefined : this.#top.agents[hook.license];
    const secret = slot ? slot.secret : this.#top.dormant.secret;
    const hookPath = slot ? slot.hookPath : this.#top.dormant.hookPath;
    this.#top.counterpart.write(
      JSON.stringify({
        id: hook.id,
        url: `${relay.url}${hookPath}`,
        secret,
        payload: { paymentId: hook.id, amount: 1000 + this.#hookSeq, currency: 'EUR' },
      }),
    );
  }
}
