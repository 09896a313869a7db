/**
 * `pnpm dev` (root) → this: the whole system on localhost with embedded defaults.
 *
 * First start: relay (8443, admin gRPC 8444), counterpart (4010), portal (8445) and one agent
 * as real processes; a demo administrator and a key user of the demo merchant signed up through
 * the portal's HTTP API (TOTP secrets printed once); a license created through the relay's
 * admin gRPC API; the agent activated with it and its counterpart credentials set; the
 * counterpart sends a signed payment webhook every 20 s and the demo drops an order-status
 * record for the agent every 30 s. Later starts resume from `examples/system/.data/`.
 *
 * Environment: `DATABASE_URL` (PostgreSQL, schemas `fluxel_demo_relay`/`fluxel_demo_portal`;
 * unset → PGlite files), `FLUXEL_DEMO_DATA_DIR` (state folder), `FLUXEL_DEMO_EPHEMERAL_PORTS=1`
 * (any free ports — for the demo's own test), `FLUXEL_DEMO_WEBHOOK_MS` (default 20000),
 * `FLUXEL_DEMO_SEND_MS` (default 30000), `FLUXEL_DEMO_SCHEMA` (schema prefix, default `fluxel_demo`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { scanAlerts } from './alerts.ts';
import { type System, startSystem } from './launch.ts';
import { onLifelineCut } from './lifeline.ts';
import { candidatePort, portInUse } from './ports.ts';
import { repoRoot } from './proc.ts';
import { inviteAndSignUp, type PortalUser, signUpFirstAdmin } from './seed.ts';

interface DemoState {
  readonly admin: { email: string; password: string };
  readonly keyUser: { email: string; password: string };
  readonly licenseId: string;
  readonly keyStore: 'keychain' | 'file';
  readonly createdAt: string;
}

const env = process.env;
const dataDir = resolve(env.FLUXEL_DEMO_DATA_DIR ?? join(import.meta.dirname, '../.data'));
const statePath = join(dataDir, 'demo.json');
const agentDir = join(dataDir, 'agents', 'demo');
const ephemeral = env.FLUXEL_DEMO_EPHEMERAL_PORTS === '1';
const PORTS = { relay: 8443, admin: 8444, portal: 8445, counterpart: 4010 };
// With ephemeral ports the first start picks free ones and keeps them (the activated agent
// remembers the relay's URL, the portal its origin), so a resumed demo comes back on the same.
async function ephemeralPorts(): Promise<typeof PORTS> {
  const file = join(dataDir, 'ports.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as typeof PORTS;
  // Picked once and kept: fixed ports from then on (a port taken at a later start is an error
  // that names it, as with the default ports).
  const taken = new Set<number>();
  const pick = async (): Promise<number> => {
    const port = await candidatePort(taken);
    taken.add(port);
    return port;
  };
  const ports = {
    relay: await pick(),
    admin: await pick(),
    portal: await pick(),
    counterpart: await pick(),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(ports));
  return ports;
}
const say = (text = '') => process.stdout.write(`${text}\n`);
const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
};

function fail(message: string): never {
  process.stderr.write(`\ndemo: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- preflight
for (const pkg of ['crypto', 'license', 'audit', 'acme-lite', 'relay-client'])
  if (!existsSync(join(repoRoot, 'packages', pkg, 'dist')))
    fail(
      `packages/${pkg} is not built. Run \`pnpm build\` at the repository root (the root \`pnpm dev\` does it first).`,
    );
if (!existsSync(join(repoRoot, 'examples/portal/dist/web/index.html')))
  fail(
    'the portal web app is not built. Run `pnpm build` (or `pnpm --filter @fluxel-example/portal build`).',
  );
if (!ephemeral)
  for (const [name, port] of Object.entries(PORTS))
    if (await portInUse(port))
      fail(
        `port ${port} (${name}) is in use on 127.0.0.1. Find the process with \`ss -ltnp 'sport = :${port}'\` and stop it (an earlier \`pnpm dev\` or an example started alone), then run \`pnpm dev\` again.`,
      );

const previous: DemoState | undefined = existsSync(statePath)
  ? (JSON.parse(readFileSync(statePath, 'utf8')) as DemoState)
  : undefined;
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

// ---------------------------------------------------------------- start
say(`demo: ${previous ? 'resuming' : 'first start'} — state in ${rel(dataDir)}`);
say(
  `demo: storage: ${env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL, schemas fluxel_demo_*)' : 'embedded PGlite files (set DATABASE_URL for PostgreSQL)'}`,
);
say('demo: starting relay, counterpart and portal …');
const echo = (component: string, line: string) => {
  // Every mail of the portal's SMTP sink: its one summary line (recipient, subject, first link);
  // the text follows in the portal's log and in the mail viewer. SMS codes: their one line.
  if (
    component === 'portal' &&
    (line.startsWith('portal: e-mail to ') || line.startsWith('portal: SMS to '))
  ) {
    say(`  [portal] ${line.slice('portal: '.length)}`);
    return;
  }
  if (
    (component === 'counterpart' && line.startsWith('counterpart: payment webhook')) ||
    (component === 'agent' && /"msg":"(inbox: |outbox: .* (failed|dead))/.test(line)) ||
    (component === 'agent' && /^(inbox: |outbox: )/.test(line)) ||
    / (Error|error):/.test(line)
  )
    say(`  [${component}] ${summarize(line)}`);
};
function summarize(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: string };
    return parsed.msg ?? line;
  } catch {
    return line;
  }
}

let system: System | undefined;
let stopping = false;
const timers: NodeJS.Timeout[] = [];
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearInterval(t);
  say('\ndemo: stopping (agent, portal, counterpart, relay) …');
  await system?.stop();
  say('demo: stopped.');
  process.exit(code);
}
// Ctrl-C, `kill`, a closed terminal: one clean stop, however many of these arrive. A Ctrl-C in a
// terminal reaches this process twice (from the terminal and passed on by `scripts/dev.mjs`).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => void shutdown(0));
// Started by `scripts/dev.mjs` (or a test): when that process is gone — killed, crashed — stop too.
onLifelineCut(() => {
  say('\ndemo: the process that started the demo is gone');
  void shutdown(1);
});

try {
  system = await startSystem({
    dataDir,
    ports: ephemeral ? await ephemeralPorts() : PORTS,
    ...(env.DATABASE_URL
      ? { databaseUrl: env.DATABASE_URL, databaseSchema: env.FLUXEL_DEMO_SCHEMA ?? 'fluxel_demo' }
      : {}),
    webhookIntervalMs: Number(env.FLUXEL_DEMO_WEBHOOK_MS ?? 20_000),
    onLine: echo,
  });
} catch (error) {
  await system?.stop();
  fail(
    `a component did not start: ${(error as Error).message}\nLogs: ${rel(join(dataDir, 'logs'))}/`,
  );
}
const sys = system as System;
if (stopping) process.exit(0);

// ---------------------------------------------------------------- first start: seed
let state = previous;
let printedSecrets: { admin: PortalUser; keyUser: PortalUser } | undefined;
if (!state) {
  if (!sys.firstAdminInvitation)
    fail(
      `the portal already has users but ${rel(statePath)} is missing, so the demo cannot know their credentials. Delete ${rel(dataDir)} (and the fluxel_demo_* schemas with DATABASE_URL) to start over.`,
    );
  say('demo: signing up the administrator and a key user through the portal API …');
  const admin = await signUpFirstAdmin(sys);
  const keyUser = await inviteAndSignUp(sys, admin.client, {
    email: 'keyuser@demo-merchant.test',
    role: 'key-user',
    tenantId: 'demo-merchant',
    name: 'Kim Keyuser',
  });
  await admin.client.close();
  await keyUser.client.close();
  printedSecrets = { admin: admin.user, keyUser: keyUser.user };

  say('demo: creating a license through the relay admin gRPC API …');
  const { license, licenseKey } = await sys.admin().create({
    tenant: 'demo-merchant',
    product: 'wawi-sync',
    entitlements: ['orders', 'payments'],
  });

  // The device key goes to the OS keychain when a Secret Service answers; else, explicitly,
  // to the encrypted file store with the passphrase kept in system.json.
  let keyStore: DemoState['keyStore'] = 'file';
  const activateWith = (store: 'keychain' | 'file') =>
    sys.activateAgent(agentDir, licenseKey, store);
  let activated = env.DBUS_SESSION_BUS_ADDRESS ? await activateWith('keychain') : undefined;
  if (activated?.code === 0) keyStore = 'keychain';
  else {
    if (activated)
      say(
        `demo: no usable Secret Service (${String(activated.json?.code)}); using the file key store`,
      );
    activated = await activateWith('file');
  }
  if (activated.code !== 0)
    fail(`activating the agent failed: ${String(activated.json?.message ?? activated.stdout)}`);
  const creds = await sys.putAgentCredentials(agentDir);
  if (creds.code !== 0) fail(`setting the counterpart credentials failed: ${creds.stdout}`);

  // Show the alert path once: somebody tries the spent key on another machine.
  const thief = await sys.activateAgent(join(dataDir, 'agents', 'second-machine'), licenseKey);
  say(
    `demo: a second activation with the spent key was ${thief.code === 0 ? 'ACCEPTED (unexpected!)' : 'refused'} (it raises an alert)`,
  );
  state = {
    admin: { email: admin.user.email, password: admin.user.password },
    keyUser: { email: keyUser.user.email, password: keyUser.user.password },
    licenseId: license.id,
    keyStore,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

// The payment provider sends to this license's own hook URL (as a merchant enters it there),
// at every start: the counterpart process starts with the relay's shared URL.
const hook = await sys.agent(agentDir, ['credentials', 'webhook', 'shop-1', '--json']);
if (hook.code !== 0) fail(`reading the connection's webhook URL failed: ${hook.stdout}`);
await sys.useWebhookUrlFrom(hook);

// ---------------------------------------------------------------- agent and traffic
const agent = await sys.startAgent(agentDir);
void agent.exited.then(({ code, signal }) => {
  if (!stopping)
    say(
      `demo: the agent stopped unexpectedly (${code ?? signal}); see ${rel(join(dataDir, 'logs', 'agent.log'))}`,
    );
});
let sent = 0;
const dropOrder = () => {
  sent++;
  const order = `A-${Date.now().toString(36).slice(-6).toUpperCase()}`;
  const name = `order-${Date.now()}`;
  const tmp = join(agentDir, 'outgoing', `.${name}.json`);
  writeFileSync(
    tmp,
    JSON.stringify({
      connection: 'shop-1',
      operation: 'order.status',
      payload: { order, status: sent % 2 ? 'packed' : 'shipped' },
      orderingKey: order,
    }),
  );
  renameSync(tmp, join(agentDir, 'outgoing', `${name}.json`));
  say(`  [demo] dropped order ${order} for the agent to send`);
};
dropOrder();
timers.push(setInterval(dropOrder, Number(env.FLUXEL_DEMO_SEND_MS ?? 30_000)));
let alertsSeen = 0;
const watchAlerts = () => {
  const alerts = scanAlerts(sys.relayAuditDir);
  for (const a of alerts.slice(alertsSeen)) say(`  [alert] ${a.severity} ${a.rule}: ${a.summary}`);
  alertsSeen = alerts.length;
};
timers.push(setInterval(watchAlerts, 5_000));

// ---------------------------------------------------------------- where to look
const s = state as DemoState;
const lines = [
  '',
  '────────────────────────────────────────────────────────────────────────────',
  ` Fluxel demo is running${previous ? ' (resumed)' : ''}.  Portal: ${sys.portalUrl}`,
  '────────────────────────────────────────────────────────────────────────────',
  ` Trust the dev CA in your browser or accept the warning: ${rel(sys.caPath)}`,
  '',
  ` administrator  ${s.admin.email}  password ${s.admin.password}`,
  ` key user       ${s.keyUser.email}  password ${s.keyUser.password}  (customer "demo-merchant")`,
];
if (printedSecrets) {
  lines.push(
    '',
    ' TOTP secrets — shown ONCE, add them to an authenticator app now:',
    `   administrator: ${printedSecrets.admin.totpSecret}`,
    `     ${printedSecrets.admin.otpauthUrl}`,
    `   key user:      ${printedSecrets.keyUser.totpSecret}`,
    `     ${printedSecrets.keyUser.otpauthUrl}`,
  );
} else lines.push(' (TOTP secrets were printed at the first start only.)');
lines.push(
  '',
  ` relay        ${sys.relayUrl}   admin gRPC ${sys.adminAddress}`,
  ` counterpart  ${sys.counterpartUrl}   (sends a signed payment webhook every ${Math.round(Number(env.FLUXEL_DEMO_WEBHOOK_MS ?? 20_000) / 1000)} s)`,
  ` agent        ${rel(agentDir)}  (device key: ${s.keyStore === 'keychain' ? 'OS keychain (Secret Service)' : `encrypted file, passphrase in ${rel(join(dataDir, 'system.json'))}`})`,
  '',
  ' What to look at:',
  `  - device bound:     portal → Licenses → ${s.licenseId} (active, device thumbprint as administrator)`,
  '  - credentials set:  the license detail → connection shop-1 ("set by device"; values never shown)',
  `  - sends:            an order record every ${Math.round(Number(env.FLUXEL_DEMO_SEND_MS ?? 30_000) / 1000)} s in ${rel(join(agentDir, 'outgoing'))} → relay → counterpart`,
  `                      curl -s ${sys.counterpartUrl}/admin/effects -H "authorization: Bearer $(jq -r .counterpartAdminKey ${rel(join(dataDir, 'system.json'))})"`,
  `  - mailbox events:   payments land in ${rel(join(agentDir, 'inbox'))}; the portal's status page shows the mailbox backlog`,
  `  - audit log:        portal → Audit log; the relay's log verifies with`,
  `                      node packages/audit/dist/cli.js verify ${relative(repoRoot, sys.relayAuditDir).startsWith('..') ? sys.relayAuditDir : relative(repoRoot, sys.relayAuditDir)} --live   (from the repository root)`,
  '  - alerts:           printed here as [alert] (second activation) and listed in portal → Alerts',
  '  - e-mails:          none leave the machine; each is printed here as [portal] e-mail to …, and',
  `                      listed at ${sys.portalUrl}/dev/mails (linked from the portal's demo banner)`,
  ` Logs: ${rel(join(dataDir, 'logs'))}/   Stop: Ctrl-C.   Start over: delete ${rel(dataDir)}.`,
  '',
  'demo ready',
);
say(lines.join('\n'));
watchAlerts();
