/** `pnpm --filter @fluxel-example/counterpart dev`: starts the counterpart from the environment. */
import { resolve } from 'node:path';
import { counterpartOptionsFromEnv } from './env.ts';
import { createCounterpart } from './index.ts';

const env = process.env;
const { caPath, ...options } = counterpartOptionsFromEnv(
  env,
  resolve(import.meta.dirname, '../../relay/.data/tls/ca.pem'),
);
const counterpart = await createCounterpart(options);
console.log(`counterpart listening on ${counterpart.url}${counterpart.isDown() ? ' (DOWN)' : ''}`);
console.log(`webhooks go to ${options.webhook?.url}, trusting the relay CA at ${caPath}`);
// COUNTERPART_WEBHOOK_INTERVAL_MS: send a signed payment webhook that often (the demo's
// "a payment arrived"); a failed send (relay down, no credentials yet) is logged and retried
// at the next tick.
const every = Number(env.COUNTERPART_WEBHOOK_INTERVAL_MS ?? 0);
let payments = 0;
const ticker =
  every > 0
    ? setInterval(() => {
        payments++;
        const paymentId = `pay-${Date.now().toString(36)}`;
        counterpart
          .sendPaymentWebhook({ payload: { paymentId, amount: 1000 + payments, currency: 'EUR' } })
          .then((r) => console.log(`counterpart: payment webhook ${paymentId} → relay ${r.status}`))
          .catch((e: Error) => console.log(`counterpart: payment webhook failed: ${e.message}`));
      }, every)
    : undefined;
// COUNTERPART_CONTROL=stdin (for the load suite): each stdin line `{"id","url","secret","payload"?}`
// sends one signed webhook to that target (the secret is never echoed); the outcome is printed
// as `webhook-result {"id","status"}` or `webhook-result {"id","error"}`.
if (env.COUNTERPART_CONTROL === 'stdin') {
  const { createInterface } = await import('node:readline');
  createInterface({ input: process.stdin }).on('line', (line) => {
    let input: { id?: string; url?: string; secret?: string; payload?: unknown };
    try {
      input = JSON.parse(line) as typeof input;
    } catch {
      return;
    }
    const result = (r: Record<string, unknown>) =>
      console.log(`webhook-result ${JSON.stringify({ id: input.id, ...r })}`);
    counterpart
      .sendPaymentWebhook({
        ...(input.id ? { id: input.id } : {}),
        ...(input.url ? { url: input.url } : {}),
        ...(input.secret ? { secret: input.secret } : {}),
        ...(input.payload !== undefined ? { payload: input.payload } : {}),
      })
      .then((r) => result({ status: r.status }))
      .catch((e: { code?: string; message?: string }) => result({ error: e.code ?? e.message }));
  });
}
const stop = async () => {
  if (ticker) clearInterval(ticker);
  await counterpart.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
