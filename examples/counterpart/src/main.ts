/** `pnpm --filter @fluxel-example/counterpart dev`: starts the counterpart from the environment. */
import { resolve } from 'node:path';
import { counterpartOptionsFromEnv } from './env.ts';
import { createCounterpart } from './index.ts';

const { caPath, ...options } = counterpartOptionsFromEnv(
  process.env,
  resolve(import.meta.dirname, '../../relay/.data/tls/ca.pem'),
);
const counterpart = await createCounterpart(options);
console.log(`counterpart listening on ${counterpart.url}${counterpart.isDown() ? ' (DOWN)' : ''}`);
console.log(`webhooks go to ${options.webhook?.url}, trusting the relay CA at ${caPath}`);
const stop = async () => {
  await counterpart.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
