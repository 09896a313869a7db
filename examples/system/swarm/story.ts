/**
 * The end-to-end story against a relay deployed on Docker Swarm (`pnpm test:swarm`,
 * deploy/swarm/test/run.mjs), from the host, as an agent next to the ERP would live it:
 *
 *   node --import tsx swarm/story.ts --relay https://localhost:18443 --ca <internal CA file>
 *     --license-key <key> --counterpart-host <address the relay's containers reach the host at>
 *     --counterpart-port <port> [--records 100]
 *     [--rate 25 --until-file <path> --retry-ms 180000]
 *
 * 1. The marketplace stand-in (`@fluxel-example/counterpart`, deduplicating by
 *    `Idempotency-Key` as payment providers do) listens on loopback; a TCP forwarder makes it
 *    reachable at `--counterpart-host:--counterpart-port`, the stack's `COUNTERPART_URL`.
 * 2. A new device (P-256 key) activates the license over HTTPS against the published relay
 *    port, verified against the customer's internal CA (and pinned to it), and stores the
 *    connection's credentials with a webhook secret.
 * 3. `--records` sends, eight in flight, each with its own idempotency key: every one must
 *    arrive at the counterpart exactly once (effects counted by key). While the deployment is
 *    disturbed (a node lost, a rolling update: run.mjs), `--until-file` keeps sending at
 *    `--rate` records per second until that file exists (at least `--records`), and
 *    `--retry-ms` retries a failed send with the same key, as an agent's outbox does, for that
 *    long: a relay that died with the send in flight leaves it pending for its lease (60 s),
 *    then a retry takes it over. Prints `{"phase":"sending"}` once the first send succeeded;
 *    reports the longest wait for an acknowledgement (`longestStallMs`: the outage as the
 *    agent saw it).
 * 4. A signed payment webhook to the connection's hook URL at the relay is held in the
 *    mailbox; the device picks it up (long-poll) and acknowledges it; a second pickup is empty.
 *
 * Prints one JSON line with the figures and exits 1 on the first failed expectation.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { parseArgs } from 'node:util';
import { createDpopSigner, generateKeyPair } from '@fluxel/license';
import { createRelayClient, spkiPin } from '@fluxel/relay-client/node';
import { createCounterpart, generateWebhookSecret } from '@fluxel-example/counterpart';
import { printResult, required } from './script.ts';

const { values } = parseArgs({
  options: {
    relay: { type: 'string' },
    ca: { type: 'string' },
    'license-key': { type: 'string' },
    'counterpart-host': { type: 'string' },
    'counterpart-port': { type: 'string' },
    records: { type: 'string', default: '100' },
    rate: { type: 'string', default: '0' },
    'until-file': { type: 'string' },
    'retry-ms': { type: 'string', default: '0' },
  },
});
const need = (name: keyof typeof values): string => required(values, name);

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Forwards TCP connections from `host:port` to the loopback port `to`. */
function forward(host: string, port: number, to: number): Promise<{ close(): void }> {
  const server = createServer((socket) => {
    const upstream = tcpConnect({ host: '127.0.0.1', port: to });
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ close: () => server.close() }));
  });
}

async function main(): Promise<Record<string, unknown>> {
  const relayUrl = need('relay');
  const ca = readFileSync(need('ca'), 'utf8');
  const minimum = Number(values.records);
  expect(Number.isInteger(minimum) && minimum > 0, '--records must be a positive integer');
  const rate = Number(values.rate);
  expect(Number.isFinite(rate) && rate >= 0, '--rate must be a number ≥ 0 (0: no pacing)');
  const retryMs = Number(values['retry-ms']);
  expect(Number.isInteger(retryMs) && retryMs >= 0, '--retry-ms must be an integer ≥ 0');
  const untilFile = values['until-file'];
  const apiKey = `cp-${randomUUID()}`;
  const webhookSecret = generateWebhookSecret();
  const counterpart = await createCounterpart({
    apiKey,
    idempotent: true,
    webhook: { url: `${relayUrl}/v1/hooks/unset`, secret: webhookSecret, ca },
  });
  const forwarder = await forward(
    need('counterpart-host'),
    Number(need('counterpart-port')),
    Number(new URL(counterpart.url).port),
  );
  const device = createDpopSigner((await generateKeyPair()).privateJwk);
  const client = createRelayClient({
    baseUrl: relayUrl,
    ca,
    pins: [spkiPin(ca)],
    proxy: false,
    device,
  });
  try {
    const started = Date.now();
    const { licenseId } = await client.activate({
      body: { licenseKey: need('license-key') },
    });
    const activatedMs = Date.now() - started;
    const connection = 'shop-1';
    await client.putCredentials({
      connection,
      body: { kind: 'api-key', fields: { apiKey, webhookSecret } },
    });

    // Records are taken one by one: the first `minimum` always, more while `--until-file`
    // does not exist yet; the n-th starts no earlier than n / rate seconds after the first.
    const keys: string[] = [];
    const take = (): number | undefined => {
      if (keys.length >= minimum && (untilFile === undefined || existsSync(untilFile)))
        return undefined;
      keys.push(randomUUID());
      return keys.length - 1;
    };
    const sendStarted = Date.now();
    const failures: string[] = [];
    let retries = 0;
    let announced = false;
    // The longest time the agent waited for the next acknowledgement while sending.
    let lastAckAt = sendStarted;
    let longestStallMs = 0;
    const sendOne = async (i: number): Promise<void> => {
      const deadline = Date.now() + retryMs;
      for (let attempt = 1; ; attempt++) {
        const sent = await client.send.safe({
          connection,
          idempotencyKey: keys[i] as string,
          body: { operation: 'order.status', payload: { order: `A-${i}`, status: 'shipped' } },
        });
        if (sent.ok) {
          const now = Date.now();
          longestStallMs = Math.max(longestStallMs, now - lastAckAt);
          lastAckAt = now;
          if (!announced) {
            announced = true;
            console.log(JSON.stringify({ phase: 'sending' }));
          }
          return;
        }
        if (Date.now() >= deadline) {
          failures.push(`${keys[i]}: ${sent.error.code} after ${attempt} attempt(s)`);
          return;
        }
        retries++;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = take(); i !== undefined; i = take()) {
          const due = rate > 0 ? sendStarted + (i * 1000) / rate : 0;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          await sendOne(i);
        }
      }),
    );
    const sendMs = Date.now() - sendStarted;
    const records = keys.length;
    expect(failures.length === 0, `sends failed: ${failures.slice(0, 3).join('; ')}`);
    const byKey = new Map<string, number>();
    for (const effect of counterpart.effects)
      if (effect.idempotencyKey)
        byKey.set(effect.idempotencyKey, (byKey.get(effect.idempotencyKey) ?? 0) + 1);
    const delivered = keys.filter((k) => byKey.get(k) === 1).length;
    const duplicated = keys.filter((k) => (byKey.get(k) ?? 0) > 1).length;
    expect(
      delivered === records && duplicated === 0,
      `${delivered}/${records} delivered once, ${duplicated} more than once`,
    );

    const { url: hookUrl } = await client.webhookEndpoint({ connection });
    const hookStarted = Date.now();
    const pickup = client.pickup({ wait: 20, limit: 10 });
    const hook = await counterpart.sendPaymentWebhook({
      url: hookUrl.replace(/^https:\/\/[^/]+/, relayUrl),
      payload: { paymentId: `pay-${randomUUID()}`, amount: 1999 },
    });
    expect(hook.status === 204, `the webhook was answered ${hook.status}`);
    const { events } = await pickup;
    const pickedMs = Date.now() - hookStarted;
    expect(
      events.length === 1 && events[0]?.id === hook.id,
      `picked up ${JSON.stringify(events.map((e) => e.id))}, expected [${hook.id}]`,
    );
    const { acked } = await client.ack({ body: { ids: [hook.id] } });
    expect(acked === 1, `acked ${acked}`);
    const again = await client.pickup({ wait: 0 });
    expect(again.events.length === 0, 'the acknowledged event was handed out again');

    return {
      licenseId,
      activatedMs,
      records,
      delivered,
      duplicated,
      retries,
      replayedByCounterpart: counterpart.replayed,
      longestStallMs,
      sendsPerSecond: Math.round((records / sendMs) * 1000),
      webhookToPickupMs: pickedMs,
    };
  } finally {
    client.close?.();
    forwarder.close();
    await counterpart.close();
  }
}

await printResult(main);
