/**
 * The mail server of the stack under `pnpm test:swarm` (deploy/swarm/test/run.mjs): an SMTP
 * sink on the host, one port per customer, offering STARTTLS with a certificate the portal
 * trusts by `SMTP_CA` (the portal sends to any non-loopback host over TLS only). Every
 * message is written to `--out` as `<customer>-<n>.json` (to, subject, text, user), where
 * `portal-signin.ts` finds the first administrator's invitation.
 *
 *   node --import tsx swarm/mail-sink.ts --listen 10.215.0.1:14025=alpha [--listen …]
 *     --key <pem file> --cert <pem file> --out <dir>
 *
 * Prints `ready` once every port listens; runs until SIGTERM/SIGINT.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSmtpSink } from '@fluxel-example/portal';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', multiple: true },
    key: { type: 'string' },
    cert: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.listen?.length || !values.key || !values.cert || !values.out)
  throw new Error('--listen host:port=customer (repeatable), --key, --cert and --out are required');
const out = values.out;
mkdirSync(out, { recursive: true });
const tls = { key: readFileSync(values.key, 'utf8'), cert: readFileSync(values.cert, 'utf8') };

const sinks = await Promise.all(
  values.listen.map(async (spec) => {
    const match = /^(.+):(\d+)=([a-z0-9-]+)$/.exec(spec);
    if (!match) throw new Error(`--listen ${spec}: expected host:port=customer`);
    const [, host, port, customer] = match as unknown as [string, string, string, string];
    const sink = await startSmtpSink({ host, port: Number(port), tls });
    let written = 0;
    const poll = setInterval(() => {
      for (; written < sink.messages.length; written++) {
        const m = sink.messages[written];
        if (!m) break;
        writeFileSync(
          join(out, `${customer}-${written + 1}.json`),
          JSON.stringify({ to: m.to, subject: m.subject, text: m.text, user: m.user ?? null }),
          { mode: 0o600 },
        );
      }
    }, 200);
    return { sink, poll };
  }),
);
console.log('ready');
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, async () => {
    for (const { sink, poll } of sinks) {
      clearInterval(poll);
      await sink.close();
    }
    process.exit(0);
  });
