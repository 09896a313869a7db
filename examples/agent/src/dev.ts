/**
 * `pnpm --filter @fluxel-example/agent dev [-- <command> …]`: the CLI with development
 * defaults — the folder `examples/agent/.data/agent`, the local relay's dev CA — and `run`
 * when no command is given, for running the agent alone next to a relay started with
 * `pnpm --filter @fluxel-example/relay dev`. Until this folder is activated it prints how to
 * activate and exits 0. (The root `pnpm dev` runs the whole-system demo in `examples/system`,
 * which activates its own agent through the CLI.)
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { agentPaths, loadConfig } from './config.ts';
import { main } from './main.ts';

const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
if (args.length === 0) args.push('run');
const config = resolve(
  process.env.FLUXEL_AGENT_CONFIG ?? resolve(import.meta.dirname, '../.data/agent'),
);
if (!args.includes('--config')) args.push('--config', config);
const devCa = resolve(import.meta.dirname, '../../relay/.data/tls/ca.pem');
if (
  args[0] === 'activate' &&
  !args.includes('--ca') &&
  !args.includes('--pin') &&
  existsSync(devCa)
)
  args.push('--ca', devCa);

if (args[0] === 'run' && !loadConfig(agentPaths(config))) {
  console.log(
    [
      `agent: ${config} is not activated yet. With the relay running (it prints a demo license key once):`,
      '  pnpm --filter @fluxel-example/agent dev -- activate <license-key> --key-store file',
      '  (with FLUXEL_AGENT_KEY_PASSPHRASE set; or without --key-store file where an OS keychain exists)',
      '  pnpm --filter @fluxel-example/agent dev -- credentials put shop-1 --field apiKey=dev-counterpart-key \\',
      '    --field webhookSecret=whsec_Zmx1eGVsLWRldi13ZWJob29rLXNlY3JldC0zMmI=',
      '  pnpm --filter @fluxel-example/agent dev',
      `then drop records into ${resolve(config, 'outgoing')}.`,
    ].join('\n'),
  );
} else {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => controller.abort());
  process.exitCode = await main(args, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    signal: controller.signal,
  });
}
