#!/usr/bin/env node
/**
 * `pnpm test:swarm`: the stack on a real Docker Swarm of three nodes, on this machine (root,
 * Debian bookworm).
 *
 *   node deploy/swarm/test/run.mjs [--customers alpha,beta] [--nodes 3] [--keep] [--no-build]
 *
 * 1. engine.sh start: Debian's dockerd under $FLUXEL_SWARM_WORK (default /var/tmp/fluxel-swarm),
 *    its own socket and pidfile: the host's engine, which builds the images and runs the nodes.
 * 2. images.sh: Debian base from debootstrap (cached), Node.js and pnpm from the npm registry,
 *    the relay, portal, PostgreSQL and Redis images from deploy/docker/*.Dockerfile, the swarm
 *    node image (swarm-node.Dockerfile: Debian's dockerd) and the relay's next build (the same
 *    image with one more label, for the rolling update).
 * 3. The nodes: `--nodes` containers running their own dockerd (nodes.mjs), each on the
 *    bridge `fluxel-nodes` at its own address, with the images `docker save | docker load`ed
 *    (no registry); node 1 runs `docker swarm init`, the others join as workers.
 * 4. The stack for this swarm, derived from deploy/swarm/stack.yml (see `deriveStack`): the
 *    chosen customers' services only, no edge proxy (no Traefik image without a registry:
 *    balancer.mjs on the host stands in, TCP only, health-checked), `endpoint_mode: dnsrr` (the
 *    kernel has no IPVS), overlays not `encrypted` (no ESP), each relay's 8443 published in
 *    host mode as 18443 + n on the nodes that run one.
 * 5. create-secrets.sh per customer (FLUXEL_SECRETS_OUT into a private directory, which is the
 *    escrow copy the README asks for; the files are then `docker secret create`d), deploy with
 *    the machine's docker 28.x client (the 20.10 client refuses the versionless file).
 * 6. Checks: every service healthy; the relay's /v1/status over HTTPS from the host, verified
 *    against the customer's internal CA; per customer a license issued over the relay's admin
 *    gRPC from inside the portal container, then the end-to-end story from the host
 *    (examples/system/swarm/story.ts: activation, 200 records each delivered once to the
 *    counterpart stand-in, a signed webhook held, picked up and acked); the portal's first
 *    administrator (the invitation mailed to the SMTP sink on the host, mail-sink.ts; TOTP
 *    enrolled, then a sign-in with password and TOTP: portal-signin.ts); customer isolation
 *    (each relay reaches its own PostgreSQL, standby and Redis, not another customer's, by name or by
 *    address; none of them is reachable from the host or on a node's address); no PostgreSQL
 *    or Redis port published; a relay started against the standby alone (it waits for a
 *    promotion, saying so); a rolling update of the relay (`docker service update --image`)
 *    while an agent sends; PostgreSQL failover (the primaries' node killed while an agent
 *    sends, deploy/swarm/failover.sh once Swarm marks it down: every record delivered once,
 *    every acknowledged record on the promoted server, the old primaries fenced); a node
 *    running a relay killed while an agent sends (the task rescheduled, every record
 *    delivered once, the node back, every relay audit log on every node verified).
 * A summary table goes to stdout and to $FLUXEL_SWARM_WORK/report.txt. Everything started is
 * stopped at the end, on failure too (`--keep` leaves the engine and the nodes running for
 * debugging; `engine.sh stop` ends the engine; `--no-build` reuses the images of the last
 * images.sh run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  COUNTERPART_PORT_BASE,
  deriveStack,
  deriveStandbyProbe,
  MAIL_PORT_BASE,
  PORTAL_PORT_BASE,
  RELAY_PORT_BASE,
} from './derive-stack.mjs';
import {
  NODE_GATEWAY,
  NODE_NETWORK,
  NODE_SUBNET,
  nodeAddress,
  nodeName,
  nodeRunArgs,
  nodeSocket,
} from './nodes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
// biome-ignore lint/suspicious/noUndeclaredEnvVars: not a turbo task (pnpm test:swarm runs it directly)
const WORK = process.env.FLUXEL_SWARM_WORK ?? '/var/tmp/fluxel-swarm';
const SOCK = `unix://${WORK}/engine/docker.sock`;
const STACK = 'fluxel';

const { values: opts } = parseArgs({
  options: {
    customers: { type: 'string', default: 'alpha' },
    nodes: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
  strict: false,
});
const customers = String(opts.customers).split(',').filter(Boolean);
const NODES = Number(opts.nodes);
if (!Number.isInteger(NODES) || NODES < 3) {
  // Node 1 is the manager and holds the standbys, node 2 the primaries: a node loss and a
  // failover need a third node to keep the relays' second replica.
  console.error(`--nodes must be a whole number ≥ 3, got ${opts.nodes}`);
  process.exit(2);
}
/** Node numbers 1…NODES; node 1 is the manager. */
const nodes = Array.from({ length: NODES }, (_, i) => i + 1);
/** Where the customers' PostgreSQL primaries and their standbys run (node labels). */
const PRIMARY_NODE = Math.min(2, NODES);
const STANDBY_NODE = 1;
const DB_NODES = [...new Set([STANDBY_NODE, PRIMARY_NODE])];

/** One row per check: what, ok, figure, seconds. */
const rows = [];
const env = { ...process.env, DOCKER_HOST: SOCK, FLUXEL_SWARM_WORK: WORK };

/**
 * SIGTERM or SIGINT (`.ci/run` bounds the run with `timeout`, which signals the whole process
 * group): the current command ends with it, no further command starts, waits end, and the
 * cleanup below still runs (its own commands are new processes).
 */
const interrupted = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'])
  process.once(signal, () => {
    console.error(`test:swarm: ${signal}: stopping, then cleaning up`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
  });

function sh(cmd, args, { input, quiet = false, check = true, cleanup = false, dockerHost } = {}) {
  if (interrupted.signal.aborted && !cleanup) throw interrupted.signal.reason;
  const res = spawnSync(cmd, args, {
    env: dockerHost ? { ...env, DOCKER_HOST: dockerHost } : env,
    input,
    encoding: 'utf8',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (check && res.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr ?? ''}`.trim());
  return res.stdout ?? '';
}
/** `sh` without blocking: for commands that run side by side (the nodes' image loads). */
function shAsync(cmd, args) {
  if (interrupted.signal.aborted) return Promise.reject(interrupted.signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      signal: interrupted.signal,
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`.trim())),
    );
  });
}

/**
 * The 28.x client (stack commands need it: compose spec without `version`). `docker` talks to
 * the host's engine, `on(n, …)` to node n's, `swarm` to the manager's.
 */
const docker = (args, o) => sh('/usr/local/bin/docker', args, o);
const on = (n, args, o) => docker(['--host', nodeSocket(WORK, n), ...args], o);
const swarm = (args, o) => on(1, args, o);

async function step(name, fn) {
  const started = Date.now();
  try {
    const figure = (await fn()) ?? '';
    rows.push({ name, ok: true, figure, s: (Date.now() - started) / 1000 });
  } catch (error) {
    rows.push({
      name,
      ok: false,
      figure: error.message.split('\n')[0],
      s: (Date.now() - started) / 1000,
    });
    throw error;
  }
}

const sleep = (ms) =>
  new Promise((resolve, reject) => {
    if (interrupted.signal.aborted) return reject(interrupted.signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted.signal.reason);
    };
    const timer = setTimeout(() => {
      interrupted.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    interrupted.signal.addEventListener('abort', onAbort, { once: true });
  });

/** Polls `fn` every `everyMs` until it returns a truthy value; throws `what` after `ms`. */
async function until(fn, ms, what, everyMs = 1000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = fn();
    if (got) return got;
    if (Date.now() >= deadline) throw new Error(`${what} (waited ${ms / 1000} s)`);
    await sleep(everyMs);
  }
}

/** HTTPS GET through the balancer on the host, verified against `ca` for the name localhost. */
function httpsGet(port, path, ca) {
  return new Promise((res, rej) => {
    const req = request(
      { host: '127.0.0.1', servername: 'localhost', port, path, ca, timeout: 5000 },
      (r) => {
        let body = '';
        r.on('data', (d) => {
          body += d;
        });
        r.on('end', () => res({ status: r.statusCode, body, type: r.headers['content-type'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** The state Swarm reports for the node `name` (`ready`, `down`, …; '' when unknown). */
const nodeState = (name) =>
  swarm(['node', 'inspect', '--format', '{{.Status.State}}', name], {
    quiet: true,
    check: false,
  }).trim();

/** Waits up to `ms` until Swarm reports the node `name` in `state`. */
const untilNodeState = (name, state, ms) =>
  until(() => nodeState(name) === state, ms, `${name} not ${state}`);

/** Nodes whose engine answers (a killed node does not). */
function liveNodes() {
  return nodes.filter(
    (n) =>
      docker(['inspect', '--format', '{{.State.Running}}', nodeName(n)], {
        quiet: true,
        check: false,
      }).trim() === 'true',
  );
}

/**
 * The running containers of a service of the stack, on every live node: `{ node, id }`.
 * `live`: the live nodes, when the caller looks at several services at once.
 */
function containersOf(service, live = liveNodes()) {
  return live.flatMap((node) =>
    on(node, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`], {
      quiet: true,
    })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((id) => ({ node, id })),
  );
}

/** The container's addresses on each of its networks: `{ network: ip }`. */
function addressesOf({ node, id }) {
  const json = on(node, ['inspect', '--format', '{{json .NetworkSettings.Networks}}', id], {
    quiet: true,
  });
  return Object.fromEntries(
    Object.entries(JSON.parse(json) ?? {})
      .filter(([, n]) => n?.IPAddress)
      .map(([name, n]) => [name, n.IPAddress]),
  );
}

/**
 * Whether a PostgreSQL or Redis server answers at host:port, 3 s at most: `answered` when it
 * speaks its protocol (PostgreSQL answers an SSLRequest with `S` or `N`; Redis, TLS only
 * here, completes a TLS handshake verified against the CA of `customer` — whose Redis the
 * probe looks for — as `redis-<customer>`, and answers `PING` with `+PONG` or an error such
 * as `-NOAUTH`), otherwise what stopped it (`ENOTFOUND`,
 * `EAI_AGAIN`, `ECONNREFUSED`, `EHOSTUNREACH`, `timeout`, or `not postgres: HTTP/1.1 400…`).
 * A bare TCP connect proves nothing here: this machine's egress accepts a connection to any
 * address it routes out (and answers HTTP 400), so the first probe "reached" another
 * customer's database through the gateway bridge. Runs with the relay image's own Node.js
 * inside `container` (`docker exec`), or on the host when `container` is undefined.
 */
const PROBE = `const [host, port, kind] = process.argv.slice(1);
const say = (w) => { console.log(w); process.exit(0); };
const [ca, servername] = process.argv.slice(4);
const s = kind === 'postgres'
  ? require('node:net').connect({ host, port: Number(port) })
  : require('node:tls').connect({ host, port: Number(port), ca, servername });
s.setTimeout(3000, () => say('timeout'));
s.on(kind === 'postgres' ? 'connect' : 'secureConnect', () => s.write(kind === 'postgres' ? Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]) : 'PING\\r\\n'));
s.on('data', (d) => {
  const ok = kind === 'postgres' ? d.length === 1 && (d[0] === 83 || d[0] === 78) : /^[+-]/.test(d.toString('latin1'));
  say(ok ? 'answered' : 'not ' + kind + ': ' + JSON.stringify(d.toString('latin1').slice(0, 16)));
});
s.on('error', (e) => say(e.code || e.message));`;
function probe(container, host, port, kind, customer) {
  const ca = readFileSync(join(WORK, 'escrow', customer, `${customer}_internal_ca`), 'utf8');
  const args = ['-e', PROBE, host, String(port), kind, ca, `redis-${customer}`];
  const out = container
    ? on(container.node, ['exec', container.id, 'node', ...args], { quiet: true, check: false })
    : sh(process.execPath, args, { quiet: true, check: false });
  return out.trim().split('\n').pop() || 'no answer';
}

/**
 * `sql` run by psql as the superuser over the Unix socket inside a PostgreSQL container, in
 * database `db`: its output (unaligned, tuples only), trimmed. `check`: throw on failure
 * (else the failure's output is returned).
 */
function psql(container, db, sql, check = true) {
  return on(
    container.node,
    ['exec', container.id, 'psql', '-U', 'postgres', '-d', db, '-XAtc', sql],
    { quiet: true, check },
  ).trim();
}

/**
 * A license issued the way an operator's tooling does it: the LicenseAdmin gRPC API of the
 * customer's relay, called from inside the customer's portal container (the API is on the
 * customer's overlay only, TLS verified against the internal CA, the admin token from the
 * portal's secret), with the portal image's own Node.js and modules.
 */
const ISSUE = `import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { adminClient } from '@fluxel-example/kit/admin-service';
const env = process.env;
const admin = adminClient({
  address: env.RELAY_ADMIN_ADDRESS,
  credentials: grpc.credentials.createSsl(readFileSync(env.RELAY_CA)),
  token: readFileSync(env.RELAY_ADMIN_TOKEN_FILE, 'utf8').trim(),
});
const { license, license_key } = await admin.create({ tenant: process.argv[1], product: 'wawi-sync', entitlements: ['orders'] });
console.log(JSON.stringify({ id: license.id, key: license_key }));
admin.close();`;
function issueLicense(customer) {
  const [portal] = containersOf(`portal-${customer}`);
  if (!portal) throw new Error(`portal-${customer} has no running container`);
  const out = on(
    portal.node,
    [
      'exec',
      portal.id,
      'node',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      ISSUE,
      `${customer}-merchant`,
    ],
    { quiet: true },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

/** The story's arguments for customer i (examples/system/swarm/story.ts). */
function storyArgs(customer, i, licenseKey, extra = []) {
  return [
    '--relay',
    `https://localhost:${RELAY_PORT_BASE + i}`,
    '--ca',
    join(WORK, 'escrow', customer, `${customer}_internal_ca`),
    '--license-key',
    licenseKey,
    '--counterpart-host',
    NODE_GATEWAY,
    '--counterpart-port',
    String(COUNTERPART_PORT_BASE + i),
    ...extra,
  ];
}

/** `node --import tsx <script> <args>` in examples/system: the scripts of examples/system/swarm. */
const SYSTEM = join(ROOT, 'examples/system');
const systemArgs = (script, args) => ['--import', 'tsx', `swarm/${script}`, ...args];

/** A script's figures: its last line, `{ ok: true, … }`, or the error it printed. */
function scriptResult(script, stdout, stderr, status) {
  const last = (stdout ?? '').trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`${script}: no result (exit ${status}): ${(stderr ?? '').slice(-400)}`);
  }
  if (!result.ok) throw new Error(`${script}: ${result.error}`);
  return result;
}

/** Runs a script of examples/system/swarm to its end; its figures. */
function systemScript(script, args, timeoutMs) {
  if (interrupted.signal.aborted) throw interrupted.signal.reason;
  const res = spawnSync(process.execPath, systemArgs(script, args), {
    cwd: SYSTEM,
    encoding: 'utf8',
    env: process.env,
    timeout: timeoutMs,
  });
  return scriptResult(script, res.stdout, res.stderr, res.status);
}

/** The end-to-end story from the host, 200 records as fast as 8 in flight go; its figures. */
const story = (customer, i, licenseKey) =>
  systemScript('story.ts', storyArgs(customer, i, licenseKey, ['--records', '200']), 300_000);

/**
 * The story sending at `rate` records per second, retrying each failed send with its key for
 * 3 min, until `stop()` (at least 100 records): `{ sending, stop }`. `sending` resolves once
 * the first record went through; `stop()` resolves with the story's figures.
 */
function storyUnderWay(customer, i, licenseKey, rate) {
  const untilFile = join(WORK, `story-${customer}.stop`);
  rmSync(untilFile, { force: true });
  const child = spawn(
    process.execPath,
    systemArgs(
      'story.ts',
      storyArgs(customer, i, licenseKey, [
        '--records',
        '100',
        '--rate',
        String(rate),
        '--until-file',
        untilFile,
        '--retry-ms',
        '180000',
      ]),
    ),
    { cwd: SYSTEM, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (status) => resolve(status)));
  const sending = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      if (line.includes('"phase":"sending"')) resolve();
    });
    exited.then((status) =>
      reject(
        new Error(
          `story ended before sending (exit ${status}): ${stdout.trim().split('\n').pop() ?? ''} ${stderr.slice(-300)}`,
        ),
      ),
    );
  });
  sending.catch(() => {});
  // A step that fails before stop() leaves the story sending: runAll kills what is left.
  stories.add(child);
  child.once('exit', () => stories.delete(child));
  const abort = () => child.kill('SIGKILL');
  interrupted.signal.addEventListener('abort', abort, { once: true });
  return {
    sending,
    async stop() {
      writeFileSync(untilFile, '');
      const timer = setTimeout(abort, 300_000);
      const status = await exited;
      clearTimeout(timer);
      interrupted.signal.removeEventListener('abort', abort);
      return scriptResult('story.ts', stdout, stderr, status);
    },
  };
}

const storyFigures = (r) =>
  `${r.delivered}/${r.records} records delivered once, ${r.duplicated} duplicated; ${r.retries} retried sends, ${r.replayedByCounterpart} duplicate forwards absorbed by the idempotency key`;

async function waitHealthy(services, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const live = liveNodes();
    const states = services.map((s) => {
      const found = containersOf(s, live);
      if (found.length === 0) return `${s}: no container`;
      const health = found.map(({ node, id }) =>
        on(node, ['inspect', '--format', '{{.State.Health.Status}}', id], { quiet: true }).trim(),
      );
      return `${s}: ${health.join(',')}`;
    });
    last = states.join('; ');
    if (states.every((s) => /: (healthy,?)+$/.test(s))) return;
    await sleep(5000);
  }
  throw new Error(`not healthy in ${timeoutMs / 1000} s: ${last}`);
}

/** The tasks of a service meant to run: `[{ node, state }]` (node by hostname). */
function runningTasks(service) {
  return swarm(
    [
      'service',
      'ps',
      '--filter',
      'desired-state=running',
      '--format',
      '{{.Node}}\t{{.CurrentState}}',
      `${STACK}_${service}`,
    ],
    { quiet: true },
  )
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [node, state] = l.split('\t');
      return { node, state };
    });
}

/**
 * Verifies every relay audit volume of `customer` on every live node, with the relay image's
 * own `fluxel-audit verify --live` (a log whose writer was killed has an unsigned tail, not a
 * broken chain), pinned to the key derived from the customer's escrowed `secrets.json`.
 */
async function verifyAudit(customer) {
  // The relay signs its checkpoints with the key derived from `auditSeed` in its secrets.json
  // (examples/relay/src/relay.ts): the verifier pins its public half, from the escrow copy.
  const { publicJwk, signingKeyFromSeed } = await import(
    join(ROOT, 'packages/audit/dist/index.js')
  );
  const secrets = JSON.parse(
    readFileSync(join(WORK, 'escrow', customer, `${customer}_relay_secrets_json`), 'utf8'),
  );
  const key = JSON.stringify(
    publicJwk(signingKeyFromSeed(new Uint8Array(Buffer.from(secrets.auditSeed, 'base64')))),
  );
  const seen = [];
  for (const node of liveNodes()) {
    const volumes = on(
      node,
      ['volume', 'ls', '-q', '--filter', `name=${STACK}_relay-${customer}-audit`],
      {
        quiet: true,
      },
    )
      .trim()
      .split('\n')
      .filter(Boolean);
    for (const volume of volumes) {
      const out = on(
        node,
        [
          'run',
          '--rm',
          '--interactive',
          '--user',
          '10001:10001',
          '--network',
          'none',
          '--entrypoint',
          'node',
          '--volume',
          `${volume}:/data/audit:ro`,
          'fluxel/relay:test',
          '/app/node_modules/@fluxel/audit/dist/cli.js',
          'verify',
          '/data/audit',
          '--live',
          '--json',
          '--public-key',
          '/dev/stdin',
        ],
        { quiet: true, check: false, input: key },
      );
      let report;
      try {
        report = JSON.parse(out);
      } catch {
        throw new Error(`audit ${volume} on ${nodeName(node)}: no report (${out.slice(0, 200)})`);
      }
      if (!report.ok)
        throw new Error(
          `audit ${volume} on ${nodeName(node)}: ${JSON.stringify(report.findings ?? report).slice(0, 300)}`,
        );
      if (report.trust !== 'pinned') throw new Error(`audit ${volume}: trust ${report.trust}`);
      seen.push(`${nodeName(node)}: ${report.records} records, ${report.checkpoints} checkpoints`);
    }
  }
  if (seen.length === 0) throw new Error(`no audit volume of relay-${customer} found`);
  return seen;
}

function table() {
  const lines = [
    '| check | result | figure | seconds |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${r.name} | ${r.ok ? 'ok' : 'FAILED'} | ${r.figure} | ${r.s.toFixed(1)} |`,
    ),
  ];
  return lines.join('\n');
}

/** Processes on the host while the stack runs: the balancer (the edge's stand-in), the mail sink. */
const helpers = {};
/** Stories sending while the deployment is disturbed (storyUnderWay). */
const stories = new Set();

/** Starts a helper process and waits for its `ready` line; its lines are kept in `.log`. */
async function startHelper(name, args, cwd = HERE) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  child.log = [];
  helpers[name] = child;
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      child.log.push(`${new Date().toISOString()} ${line}`);
      if (line === 'ready') resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`${name} exited ${code}: ${child.log.slice(-3).join(' ')}`)),
    );
  });
}

function stopHelpers() {
  for (const story of stories) story.kill('SIGKILL');
  for (const [name, child] of Object.entries(helpers)) {
    child.kill('SIGTERM');
    if (child.log.length) writeFileSync(join(WORK, `${name}.log`), `${child.log.join('\n')}\n`);
  }
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  await step('engine: dockerd 20.10 on the host', () => {
    sh(join(HERE, 'engine.sh'), ['start']);
    return docker(['info', '--format', '{{.ServerVersion}}'], { quiet: true }).trim();
  });
  await step('images: base, node-base, relay, portal, postgres, redis, swarm node', () => {
    // --no-build: the images of the last images.sh run (its image-sizes.tsv and images.env).
    if (!opts['no-build']) sh(join(HERE, 'images.sh'), []);
    const sizes = readFileSync(join(WORK, 'image-sizes.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const mb = (b) => `${(Number(b) / 1e6).toFixed(0)} MB`;
    return sizes.map(([name, bytes]) => `${name.split(':')[0]} ${mb(bytes)}`).join(', ');
  });
  const images = Object.fromEntries(
    readFileSync(join(WORK, 'images.env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('=')),
  );
  await step(`nodes: ${NODES} containers running dockerd on ${NODE_NETWORK}`, async () => {
    removeNodes();
    docker(
      [
        'network',
        'create',
        '--driver',
        'bridge',
        '--subnet',
        NODE_SUBNET,
        '--gateway',
        NODE_GATEWAY,
        NODE_NETWORK,
      ],
      { quiet: true },
    );
    for (const n of nodes) {
      mkdirSync(join(WORK, 'nodes', nodeName(n), 'sock'), { recursive: true });
      docker(nodeRunArgs(WORK, n), { quiet: true });
    }
    for (const n of nodes)
      await until(
        () =>
          on(n, ['info', '--format', '{{.ServerVersion}}'], { quiet: true, check: false }).trim(),
        90_000,
        `${nodeName(n)}'s dockerd did not answer: ${docker(['logs', '--tail', '20', nodeName(n)], { quiet: true, check: false })}`,
      );
    return nodes.map((n) => `${nodeName(n)} ${nodeAddress(n)}`).join(', ');
  });
  await step('images into the nodes (docker save, docker load: no registry)', async () => {
    // PostgreSQL runs where its volumes are (node 2 the primaries, node 1 the standbys).
    const app = [...new Set(Object.values(images))].filter(
      (r) => r !== images.FLUXEL_POSTGRES_IMAGE,
    );
    const tars = { app: join(WORK, 'images-app.tar'), db: join(WORK, 'images-db.tar') };
    docker(['save', '-o', tars.app, ...app], { quiet: true });
    docker(['save', '-o', tars.db, images.FLUXEL_POSTGRES_IMAGE], { quiet: true });
    const load = (n, tar) =>
      shAsync('/usr/local/bin/docker', ['--host', nodeSocket(WORK, n), 'load', '-q', '-i', tar]);
    await Promise.all(nodes.map((n) => load(n, tars.app)));
    await Promise.all(DB_NODES.map((n) => load(n, tars.db)));
    const mb = (tar) => (statSync(tar).size / 1e6).toFixed(0);
    const figure = `${app.length} images (${mb(tars.app)} MB) into ${NODES} nodes, PostgreSQL (${mb(tars.db)} MB) into ${DB_NODES.map(nodeName).join(' and ')}`;
    for (const tar of Object.values(tars)) rmSync(tar, { force: true });
    return figure;
  });
  await step(`swarm: init on ${nodeName(1)}, ${NODES - 1} workers join`, async () => {
    swarm(
      [
        'swarm',
        'init',
        '--advertise-addr',
        nodeAddress(1),
        '--default-addr-pool',
        '10.214.0.0/16',
        '--default-addr-pool-mask-length',
        '24',
      ],
      { quiet: true },
    );
    const token = swarm(['swarm', 'join-token', '-q', 'worker'], { quiet: true }).trim();
    for (const n of nodes.slice(1))
      on(
        n,
        [
          'swarm',
          'join',
          '--advertise-addr',
          nodeAddress(n),
          '--token',
          token,
          `${nodeAddress(1)}:2377`,
        ],
        { quiet: true },
      );
    await until(
      () =>
        swarm(['node', 'ls', '--format', '{{.Status}}'], { quiet: true })
          .trim()
          .split('\n')
          .filter((s) => s === 'Ready').length === NODES,
      60_000,
      'not every node Ready',
    );
    return `${NODES} nodes Ready`;
  });
  await step('node labels', () => {
    const ids = Object.fromEntries(
      swarm(['node', 'ls', '--format', '{{.Hostname}}\t{{.ID}}'], { quiet: true })
        .trim()
        .split('\n')
        .map((l) => l.split('\t')),
    );
    const set = [];
    for (const n of nodes) {
      // Every node is an app node in its own zone. The primaries run on a worker (node 2), so
      // losing their node leaves the swarm its manager; the standbys on node 1 (the manager).
      const labels = ['fluxel.tier=app', `fluxel.zone=z${n}`];
      if (n === PRIMARY_NODE) labels.push(...customers.map((c) => `fluxel.db-${c}=true`));
      if (n === STANDBY_NODE)
        labels.push('fluxel.edge=true', ...customers.map((c) => `fluxel.db-${c}-standby=true`));
      swarm(['node', 'update', ...labels.flatMap((l) => ['--label-add', l]), ids[nodeName(n)]], {
        quiet: true,
      });
      set.push(`${nodeName(n)}: ${labels.join(' ')}`);
    }
    return set.join('; ');
  });
  const escrow = join(WORK, 'escrow');
  await step(`secrets: create-secrets.sh ${customers.join(', ')}`, () => {
    rmSync(escrow, { recursive: true, force: true });
    mkdirSync(escrow, { recursive: true, mode: 0o700 });
    let n = 0;
    for (const c of customers) {
      // The escrow copy (FLUXEL_SECRETS_OUT), then `docker secret create` from it: the host
      // keeps the CA to verify the relay's certificate with.
      const dir = join(escrow, c);
      const smtp = join(escrow, `smtp-${c}`);
      writeFileSync(smtp, 'test-smtp-password-not-used', { mode: 0o600 });
      env.FLUXEL_SECRETS_OUT = dir;
      sh(join(ROOT, 'deploy/swarm/create-secrets.sh'), [c, smtp], { quiet: true });
      delete env.FLUXEL_SECRETS_OUT;
      for (const name of readdirSync(dir)) {
        swarm(['secret', 'create', '--label', `fluxel.customer=${c}`, name, join(dir, name)], {
          quiet: true,
        });
        n++;
      }
    }
    return `${n} secrets`;
  });
  const mailDir = join(WORK, 'mail');
  const mailCa = join(WORK, 'mail-tls', 'cert.pem');
  await step('mail sink on the host (STARTTLS, the portal trusts it by SMTP_CA)', async () => {
    const tlsDir = dirname(mailCa);
    rmSync(tlsDir, { recursive: true, force: true });
    rmSync(mailDir, { recursive: true, force: true });
    mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
    sh(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(tlsDir, 'key.pem'),
        '-out',
        mailCa,
        '-days',
        '1',
        '-subj',
        '/CN=fluxel test mail sink',
        '-addext',
        `subjectAltName=IP:${NODE_GATEWAY}`,
      ],
      { quiet: true },
    );
    const listen = customers.flatMap((c, i) => [
      '--listen',
      `${NODE_GATEWAY}:${MAIL_PORT_BASE + i}=${c}`,
    ]);
    await startHelper(
      'mail-sink',
      systemArgs('mail-sink.ts', [
        ...listen,
        '--key',
        join(tlsDir, 'key.pem'),
        '--cert',
        mailCa,
        '--out',
        mailDir,
      ]),
      SYSTEM,
    );
    return customers.map((c, i) => `${c} ${NODE_GATEWAY}:${MAIL_PORT_BASE + i}`).join(', ');
  });
  const services = customers.flatMap((c) => [
    `postgres-${c}`,
    `postgres-${c}-standby`,
    `redis-${c}`,
    `relay-${c}`,
    `portal-${c}`,
  ]);
  const stackFile = join(WORK, 'stack.yml');
  await step('stack deploy (derived from deploy/swarm/stack.yml)', () => {
    writeFileSync(
      stackFile,
      deriveStack(
        readFileSync(join(ROOT, 'deploy/swarm/stack.yml'), 'utf8'),
        customers,
        join(ROOT, 'deploy/swarm'),
        {
          nodeCpus: Number(swarm(['info', '--format', '{{.NCPU}}'], { quiet: true }).trim()),
          hostAddress: NODE_GATEWAY,
          nodes: NODES,
          mailCa,
        },
      ),
    );
    Object.assign(env, images);
    swarm(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile, STACK], {
      quiet: true,
    });
    return `${services.length} services`;
  });
  await step('balancer on the host (the edge stand-in, TCP, health-checked)', async () => {
    const routes = Object.fromEntries(
      customers.flatMap((_, i) =>
        [RELAY_PORT_BASE + i, PORTAL_PORT_BASE + i].map((port) => [
          `127.0.0.1:${port}`,
          nodes.map((n) => `${nodeAddress(n)}:${port}`),
        ]),
      ),
    );
    await startHelper('balancer', [join(HERE, 'balancer.mjs'), JSON.stringify(routes)]);
    return Object.keys(routes).join(', ');
  });
  await step('every service healthy', async () => {
    const started = Date.now();
    await waitHealthy(services, 10 * 60_000);
    const where = customers
      .map(
        (c) =>
          `relay-${c} on ${runningTasks(`relay-${c}`)
            .map((t) => t.node)
            .join(' + ')}`,
      )
      .join('; ');
    return `${services.length} services in ${((Date.now() - started) / 1000).toFixed(0)} s; ${where}`;
  });
  for (const [i, c] of customers.entries()) {
    await step(`${c}: relay /v1/status over HTTPS from the host`, async () => {
      const ca = readFileSync(join(escrow, c, `${c}_internal_ca`));
      const res = await httpsGet(RELAY_PORT_BASE + i, '/v1/status', ca);
      if (res.status >= 500) throw new Error(`status ${res.status}`);
      return `:${RELAY_PORT_BASE + i} → ${res.status} ${res.type ?? ''} (TLS verified against ${c}'s CA)`;
    });
  }
  /** Each customer's first license (the story's device holds it). */
  const keys = {};
  for (const [i, c] of customers.entries()) {
    await step(
      `${c}: license issued over the relay's admin gRPC (from the portal container)`,
      () => {
        const issued = issueLicense(c);
        keys[c] = issued.key;
        return `license ${issued.id}`;
      },
    );
    await step(`${c}: agent on the host activates, sends, receives a webhook`, () => {
      const r = story(c, i, keys[c]);
      return `activated in ${r.activatedMs} ms; ${r.delivered}/${r.records} records delivered once, ${r.duplicated} duplicated (${r.sendsPerSecond}/s, 8 in flight); webhook → pickup ${r.webhookToPickupMs} ms, acked`;
    });
    await step(
      `${c}: first administrator: invitation by mail, TOTP enrolled, signed in with password + TOTP`,
      () => {
        const r = systemScript(
          'portal-signin.ts',
          [
            '--portal',
            `https://localhost:${PORTAL_PORT_BASE + i}`,
            '--ca',
            join(escrow, c, `${c}_internal_ca`),
            '--mail-dir',
            mailDir,
            '--customer',
            c,
          ],
          180_000,
        );
        return `${r.email}: invitation mailed (SMTP user ${r.mailedBy}, STARTTLS), TOTP enrolled in ${r.enrolMs} ms, signed in with password + TOTP in ${r.signInMs} ms as administrator; a wrong code refused`;
      },
    );
  }
  // TLS to the data stores: every network connection to each primary (the relays', the
  // portal's, the standby's replication stream) is encrypted; Redis has no plaintext port.
  for (const c of customers)
    await step(`${c}: every connection to PostgreSQL is TLS, Redis listens on TLS only`, () => {
      const [primary] = containersOf(`postgres-${c}`);
      if (!primary) throw new Error(`postgres-${c} has no running container`);
      const [total, tls, kinds] = psql(
        primary,
        'postgres',
        "SELECT count(*), count(*) FILTER (WHERE s.ssl), string_agg(DISTINCT coalesce(a.usename, '?') || ':' || s.version, ' ') FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL AND a.client_addr <> '127.0.0.1'",
      ).split('|');
      if (Number(total) === 0 || total !== tls)
        throw new Error(`${tls} of ${total} network connections to postgres-${c} are TLS`);
      const [redis] = containersOf(`redis-${c}`);
      if (!redis) throw new Error(`redis-${c} has no running container`);
      const plain = on(
        redis.node,
        ['exec', redis.id, 'sh', '-c', 'timeout 5 redis-cli -h 127.0.0.1 -p 6379 ping 2>&1; true'],
        { quiet: true },
      ).trim();
      if (/PONG|NOAUTH/.test(plain)) throw new Error(`redis-${c} answered in plaintext: ${plain}`);
      return `postgres-${c}: ${tls}/${total} network connections TLS (${kinds}); redis-${c} in plaintext: "${plain.slice(0, 60)}"`;
    });
  // Customer isolation on the running stack: each relay reaches its own PostgreSQL and Redis
  // (the probe works) and neither another customer's by name (not resolvable: the networks are
  // not shared) nor by address (no route: the db and cache overlays are internal, per customer).
  for (const c of customers) {
    for (const o of customers.filter((x) => x !== c)) {
      await step(`isolation: ${c}'s relay cannot reach ${o}'s PostgreSQL or Redis`, () => {
        const [relay] = containersOf(`relay-${c}`);
        if (!relay) throw new Error(`relay-${c} has no running container`);
        const seen = [];
        for (const [kind, suffix, port] of [
          ['postgres', '', 5432],
          ['postgres', '-standby', 5432],
          ['redis', '', 6379],
        ]) {
          const [own, other] = [`${kind}-${c}${suffix}`, `${kind}-${o}${suffix}`];
          const reached = probe(relay, own, port, kind, c);
          if (reached !== 'answered')
            throw new Error(
              `${c}'s relay cannot reach its own ${own}:${port} (${reached}): the probe proves nothing`,
            );
          const byName = probe(relay, other, port, kind, o);
          if (byName === 'answered') throw new Error(`${other}:${port} reachable by name`);
          const [target] = containersOf(other);
          if (!target) throw new Error(`${other} has no running container`);
          for (const [network, ip] of Object.entries(addressesOf(target))) {
            const byIp = probe(relay, ip, port, kind, o);
            if (byIp === 'answered')
              throw new Error(`${other} reachable at ${ip}:${port} (${network})`);
            seen.push(`${other} ${ip} ${byIp}`);
          }
          seen.unshift(`${other} by name ${byName}`);
        }
        return seen.join('; ');
      });
    }
  }
  await step('isolation: no PostgreSQL or Redis reachable from the host', () => {
    const seen = [];
    for (const s of services.filter((x) => /^(postgres|redis)-/.test(x))) {
      const kind = s.startsWith('postgres') ? 'postgres' : 'redis';
      const port = kind === 'postgres' ? 5432 : 6379;
      const customer = s.split('-')[1];
      for (const container of containersOf(s))
        for (const [network, ip] of Object.entries(addressesOf(container))) {
          const got = probe(undefined, ip, port, kind, customer);
          if (got === 'answered')
            throw new Error(`${s} reachable from the host at ${ip}:${port} (${network})`);
          seen.push(`${s} ${ip} ${got}`);
        }
    }
    // …nor on any node's own address (what a published port would open).
    // (Redis once per customer: a TLS server answers only a probe that trusts its CA.)
    for (const n of nodes)
      for (const [kind, port, customer] of [
        ['postgres', 5432, customers[0]],
        ...customers.map((c) => ['redis', 6379, c]),
      ]) {
        const got = probe(undefined, nodeAddress(n), port, kind, customer);
        if (got === 'answered')
          throw new Error(`${kind} answers on ${nodeName(n)} ${nodeAddress(n)}:${port}`);
        seen.push(`${nodeName(n)}:${port} ${got}`);
      }
    return seen.join('; ');
  });
  await step('no PostgreSQL or Redis port published', () => {
    const published = services
      .filter((s) => /^(postgres|redis)-/.test(s))
      .map((s) => [
        s,
        swarm(['service', 'inspect', '--format', '{{json .Endpoint.Ports}}', `${STACK}_${s}`], {
          quiet: true,
        }).trim(),
      ])
      .filter(([, p]) => p !== 'null' && p !== '[]');
    if (published.length) throw new Error(`published: ${published.map(([s]) => s).join(', ')}`);
    return 'none';
  });

  await step(
    `${customers[0]}: a relay started against the standby alone waits for a promotion, saying why`,
    async () => {
      const c = customers[0];
      const file = join(WORK, 'standby-probe.yml');
      writeFileSync(file, deriveStandbyProbe(readFileSync(stackFile, 'utf8'), c, STACK));
      swarm(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'probe'], { quiet: true });
      try {
        const logs = () =>
          sh('sh', ['-c', `docker service logs --raw probe_relay-${c} 2>&1`], {
            quiet: true,
            check: false,
            dockerHost: nodeSocket(WORK, 1),
          });
        const said = await until(
          () =>
            logs()
              .split('\n')
              .find((l) => l.includes('database is read-only')),
          180_000,
          `probe_relay-${c} did not say it waits for a read-only database`,
          2000,
        );
        // Still waiting, not failed: its task runs and has not been restarted.
        const tasks = swarm(
          ['service', 'ps', '--format', '{{.CurrentState}}', `probe_relay-${c}`],
          { quiet: true },
        )
          .trim()
          .split('\n');
        if (tasks.length !== 1 || !/^Running/.test(tasks[0]))
          throw new Error(`probe_relay-${c} tasks: ${tasks.join('; ')}`);
        if (/could not start|migrat/i.test(logs())) throw new Error(logs().slice(-500));
        return `"${said.trim()}"; its task still running, no migration tried`;
      } finally {
        swarm(['stack', 'rm', 'probe'], { quiet: true, check: false });
      }
    },
  );

  // Disturbances, with customer 0's agent sending throughout (25 records/s, each failed send
  // retried with its key as an outbox does).
  const [c0] = customers;
  const relay0 = `relay-${c0}`;
  await step(
    `${c0}: rolling update of the relay (docker service update --image) while an agent sends`,
    async () => {
      // One license, one device: every new agent needs a license of its own.
      const run = storyUnderWay(c0, 0, issueLicense(c0).key, 25);
      await run.sending;
      await sleep(5000);
      const started = Date.now();
      swarm(
        [
          'service',
          'update',
          '--detach',
          '--no-resolve-image',
          '--image',
          images.FLUXEL_RELAY_NEXT_IMAGE,
          `${STACK}_${relay0}`,
        ],
        { quiet: true },
      );
      const state = await until(
        () => {
          const s = swarm(
            [
              'service',
              'inspect',
              '--format',
              '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}',
              `${STACK}_${relay0}`,
            ],
            { quiet: true },
          ).trim();
          if (/paused|rollback/.test(s)) throw new Error(`the update ended ${s}`);
          return s === 'completed' ? s : undefined;
        },
        8 * 60_000,
        'the update did not complete',
        2000,
      );
      const updateS = (Date.now() - started) / 1000;
      await sleep(5000);
      const r = await run.stop();
      if (r.delivered !== r.records || r.duplicated !== 0) throw new Error(storyFigures(r));
      const now = runningTasks(relay0);
      return `update ${state} in ${updateS.toFixed(0)} s (2 replicas, stop-first, the stack's delay and monitor); ${storyFigures(r)}; relay on ${now.map((t) => t.node).join(' + ')}`;
    },
  );
  await step(
    `PostgreSQL failover: the primaries' node killed while ${c0}'s agent sends; standbys promoted (failover.sh)`,
    async () => {
      const [primary] = containersOf(`postgres-${c0}`);
      if (!primary) throw new Error(`postgres-${c0} has no running container`);
      const victimName = nodeName(primary.node);
      // Before: each primary has its standby attached synchronously.
      for (const c of customers) {
        const [p] = containersOf(`postgres-${c}`);
        const replication = p
          ? psql(
              p,
              'postgres',
              "SELECT application_name || ' ' || sync_state FROM pg_stat_replication",
            )
          : '';
        if (replication !== 'standby sync')
          throw new Error(
            `postgres-${c}: replication before the failover is "${replication}", not "standby sync"`,
          );
      }
      const run = storyUnderWay(c0, 0, issueLicense(c0).key, 25);
      await run.sending;
      await sleep(5000);
      const killed = Date.now();
      // A power cut on the primaries' node (and whatever else runs there).
      docker(['kill', victimName], { quiet: true });
      // The operator's cue: Swarm marks the node down. Then the failover, per customer.
      await untilNodeState(victimName, 'down', 120_000);
      const downS = (Date.now() - killed) / 1000;
      for (const c of customers)
        sh(join(ROOT, 'deploy/swarm/failover.sh'), [c, STACK], {
          quiet: true,
          dockerHost: nodeSocket(WORK, 1),
        });
      const promoted = {};
      for (const c of customers)
        promoted[c] = await until(
          () => {
            const [standby] = containersOf(`postgres-${c}-standby`);
            if (!standby) return undefined;
            const recovery = psql(standby, 'postgres', 'SELECT pg_is_in_recovery()', false);
            return recovery === 'f' ? { ...standby, s: (Date.now() - killed) / 1000 } : undefined;
          },
          180_000,
          `postgres-${c}-standby not promoted`,
          2000,
        );
      // The relays find the promoted server by themselves; the agent's retries carry the
      // records that failed meanwhile.
      await sleep(15_000);
      const r = await run.stop();
      if (r.delivered !== r.records || r.duplicated !== 0) throw new Error(storyFigures(r));
      // Nothing acknowledged lost: every record the relay acknowledged has its delivered
      // idempotency record on the promoted server.
      const kept = Number(
        psql(
          promoted[c0],
          'relay',
          `SELECT count(*) FROM relay.relay_idempotency WHERE license_id = '${r.licenseId}' AND state = 'delivered'`,
        ),
      );
      if (kept !== r.records)
        throw new Error(`${kept} of ${r.records} acknowledged records on the promoted server`);
      docker(['start', victimName], { quiet: true });
      await untilNodeState(victimName, 'ready', 120_000);
      // Fenced: the old primaries stay stopped with their node back (no second primary).
      await sleep(10_000);
      const old = customers.flatMap((c) => containersOf(`postgres-${c}`));
      if (old.length) throw new Error(`an old primary runs again: ${JSON.stringify(old)}`);
      const when = customers.map((c) => `${c} ${promoted[c].s.toFixed(0)} s`).join(', ');
      return `${victimName} killed (primaries of ${customers.join(', ')}, standby sync before); marked down after ${downS.toFixed(0)} s, failover.sh then; standbys writable after the kill: ${when}; ${storyFigures(r)}; longest wait for an acknowledgement ${(r.longestStallMs / 1000).toFixed(0)} s; ${kept}/${r.records} acknowledged records on the promoted server; ${victimName} back, old primaries fenced`;
    },
  );
  await step(`${c0}: a node running a relay killed while an agent sends`, async () => {
    const before = runningTasks(relay0);
    const victimName = before.map((t) => t.node).find((name) => name !== nodeName(1));
    if (!victimName) throw new Error(`no relay of ${c0} on a worker: ${JSON.stringify(before)}`);
    const alsoThere = swarm(
      ['node', 'ps', '--filter', 'desired-state=running', '--format', '{{.Name}}', victimName],
      { quiet: true },
    )
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((t) => t.replace(`${STACK}_`, '').replace(/\.\d+$/, ''));
    const run = storyUnderWay(c0, 0, issueLicense(c0).key, 25);
    await run.sending;
    await sleep(5000);
    const killed = Date.now();
    // A power cut: the node's dockerd and every task on it die at once.
    docker(['kill', victimName], { quiet: true });
    const rescheduled = await until(
      () => {
        const tasks = runningTasks(relay0);
        const running = tasks.filter((t) => t.node !== victimName && /^Running/.test(t.state));
        return running.length >= 2 ? running : undefined;
      },
      5 * 60_000,
      `${relay0} not running twice on the remaining nodes`,
    );
    const rescheduleS = (Date.now() - killed) / 1000;
    await sleep(10_000);
    const r = await run.stop();
    if (r.delivered !== r.records || r.duplicated !== 0) throw new Error(storyFigures(r));
    const downS = nodeState(victimName);
    // The node comes back with its volumes: the killed relay's audit log is on it.
    docker(['start', victimName], { quiet: true });
    await untilNodeState(victimName, 'ready', 120_000);
    return `${victimName} killed (it ran ${alsoThere.join(', ')}; marked ${downS}); ${relay0} running again on ${rescheduled.map((t) => t.node).join(' + ')} ${rescheduleS.toFixed(0)} s after the kill; ${storyFigures(r)}; ${victimName} back`;
  });
  for (const c of customers)
    await step(`${c}: every relay audit log on every node verifies (pinned key)`, async () =>
      (await verifyAudit(c)).join('; '),
    );
}

/** Removes the node containers, their network and their directories (engine data, sockets). */
function removeNodes(cleanup = false) {
  const ids = docker(['ps', '-aq', '--filter', 'label=fluxel.swarm-node=true'], {
    quiet: true,
    check: false,
    cleanup,
  })
    .trim()
    .split('\n')
    .filter(Boolean);
  if (ids.length)
    docker(['rm', '--force', '--volumes', ...ids], { quiet: true, check: false, cleanup });
  docker(['network', 'rm', NODE_NETWORK], { quiet: true, check: false, cleanup });
  rmSync(join(WORK, 'nodes'), { recursive: true, force: true });
  // The nodes' cgroup parents (swarm-node-entrypoint.sh), empty once their tasks are gone.
  sh(
    'sh',
    [
      '-c',
      'for d in /sys/fs/cgroup/*/fluxel-fluxel-node-*; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done; true',
    ],
    { quiet: true, check: false, cleanup },
  );
}

async function cleanup() {
  try {
    removeNodes(true);
  } catch {}
  rmSync(join(WORK, 'escrow'), { recursive: true, force: true });
  sh(join(HERE, 'engine.sh'), ['stop'], { check: false, cleanup: true });
}

async function runAll() {
  let failed = false;
  try {
    await main();
  } catch (error) {
    failed = true;
    console.error(`test:swarm: ${error.message}`);
  } finally {
    const report = `${table()}\n`;
    writeFileSync(join(WORK, 'report.txt'), report);
    console.log(`\n${report}\nreport: ${join(WORK, 'report.txt')}`);
    stopHelpers();
    if (!opts.keep) await cleanup();
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await runAll();
