#!/usr/bin/env node
/**
 * `pnpm test:swarm`: the stack on a real Docker Swarm, on this machine (root, Debian bookworm).
 *
 *   node deploy/swarm/test/run.mjs [--customers alpha] [--keep]
 *
 * 1. engine.sh start: Debian's dockerd under $FLUXEL_SWARM_WORK (default /var/tmp/fluxel-swarm),
 *    its own socket and pidfile, `docker swarm init` (one node).
 * 2. images.sh: Debian base from debootstrap (cached), Node.js and pnpm from the npm registry,
 *    then the relay, portal, PostgreSQL and Redis images from deploy/docker/*.Dockerfile.
 * 3. The stack for this swarm, derived from deploy/swarm/stack.yml (see `deriveStack`): the
 *    chosen customers' services only, no edge proxy (no Traefik image without a registry),
 *    `endpoint_mode: dnsrr` (the kernel has no IPVS), the relay's 8443 published in host mode
 *    on 127.0.0.1-reachable port 18443 + n, placement relaxed to one node, CPU reservations
 *    scaled to fit the node (two customers reserve 2.2 CPUs; this machine has 2).
 * 4. create-secrets.sh per customer (FLUXEL_SECRETS_OUT into a private directory, which is the
 *    escrow copy the README asks for; the files are then `docker secret create`d), deploy with
 *    the machine's docker 28.x client (the 20.10 client refuses the versionless file).
 * 5. Checks: every service of the stack healthy; the relay's /v1/status over HTTPS from the
 *    host, verified against the customer's internal CA; per customer a license issued over the
 *    relay's admin gRPC from inside the portal container, then the end-to-end story from the
 *    host (examples/system/swarm/story.ts: activation, 200 records each delivered once to the
 *    counterpart stand-in, a signed webhook held, picked up and acked); customer isolation (each relay reaches
 *    its own PostgreSQL and Redis, not another customer's, by name or by address; none of them
 *    is reachable from the host); no PostgreSQL or Redis port published.
 * A summary table goes to stdout and to $FLUXEL_SWARM_WORK/report.txt. Everything started is
 * stopped at the end, on failure too (`--keep` leaves the engine running for debugging;
 * `engine.sh stop` ends it; `--no-build` reuses the images of the last images.sh run).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
// biome-ignore lint/suspicious/noUndeclaredEnvVars: not a turbo task (pnpm test:swarm runs it directly)
const WORK = process.env.FLUXEL_SWARM_WORK ?? '/var/tmp/fluxel-swarm';
const SOCK = `unix://${WORK}/engine/docker.sock`;
const STACK = 'fluxel';
/** The relay of the i-th customer is published on the host at 18443 + i (never 5432/6379/…). */
const RELAY_PORT_BASE = 18443;
/** The i-th customer's counterpart stand-in listens on the host at 14010 + i (gateway bridge). */
const COUNTERPART_PORT_BASE = 14010;

const { values: opts } = parseArgs({
  options: {
    customers: { type: 'string', default: 'alpha' },
    keep: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
  },
  strict: false,
});
const customers = String(opts.customers).split(',').filter(Boolean);

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

function sh(cmd, args, { input, quiet = false, check = true, cleanup = false } = {}) {
  if (interrupted.signal.aborted && !cleanup) throw interrupted.signal.reason;
  const res = spawnSync(cmd, args, {
    env,
    input,
    encoding: 'utf8',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (check && res.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr ?? ''}`.trim());
  return res.stdout ?? '';
}
/** The 28.x client for stack commands (compose spec without `version`), 20.10 otherwise. */
const docker = (args, o) => sh('/usr/local/bin/docker', args, o);

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
    const timer = setTimeout(resolve, ms);
    interrupted.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(interrupted.signal.reason);
      },
      { once: true },
    );
  });

/**
 * The stack file for this machine, from deploy/swarm/stack.yml. Every change is forced by the
 * host, not by the stack: no registry (no Traefik image: the edge is left out and the relay is
 * published directly), no IPVS (dnsrr), one node (no worker role, one relay replica per
 * published port). Networks, secrets, volumes, limits, healthchecks, users and read-only root
 * file systems are the stack's own.
 */
export function deriveStack(
  text,
  keep,
  stackDir,
  nodeCpus = Number.POSITIVE_INFINITY,
  hostAddress = undefined,
) {
  // YAML 1.1 as Docker reads it: `mode: 0400` is octal (1.2 would read decimal 400).
  const stack = parseYaml(text, { version: '1.1', merge: true });
  const services = {};
  keep.forEach((c, i) => {
    for (const kind of ['relay', 'portal', 'postgres', 'redis']) {
      const name = `${kind}-${c}`;
      const svc = structuredClone(stack.services[name]);
      if (!svc) throw new Error(`stack.yml has no service ${name} (add the customer to the stack)`);
      svc.deploy.endpoint_mode = 'dnsrr';
      const constraints = (svc.deploy.placement?.constraints ?? []).filter(
        (x) => x !== 'node.role == worker',
      );
      svc.deploy.placement = { ...svc.deploy.placement, constraints };
      delete svc.deploy.placement.max_replicas_per_node;
      if (kind === 'relay') {
        svc.deploy.replicas = 1;
        svc.ports = [
          { target: 8443, published: RELAY_PORT_BASE + i, protocol: 'tcp', mode: 'host' },
        ];
        // No public name and no edge here: agents on the host reach the relay at
        // https://localhost:<published port> (a name its internal certificate carries), and
        // DPoP binds proofs to that URL. The marketplace is the counterpart stand-in on the
        // host, reached through the swarm's gateway bridge.
        svc.environment.RELAY_PUBLIC_URL = `https://localhost:${RELAY_PORT_BASE + i}`;
        if (hostAddress)
          svc.environment.COUNTERPART_URL = `http://${hostAddress}:${COUNTERPART_PORT_BASE + i}`;
      }
      services[name] = svc;
    }
  });
  // CPU reservations: the stack reserves 1.1 CPU per customer (relay 0.25 per replica, portal
  // 0.25, PostgreSQL 0.5, Redis 0.1), sized for production nodes. Two customers on this 2-core
  // machine reserve more than it has, and Swarm leaves a task pending ("no suitable node
  // (insufficient resources on 1 node)"): scale every reservation by the same factor to fit
  // 90 % of the node. Limits are the stack's own.
  const reserved = Object.values(services).reduce(
    (n, svc) =>
      n + Number(svc.deploy?.resources?.reservations?.cpus ?? 0) * (svc.deploy?.replicas ?? 1),
    0,
  );
  const scale = reserved > 0.9 * nodeCpus ? (0.9 * nodeCpus) / reserved : 1;
  if (scale < 1)
    for (const svc of Object.values(services)) {
      const r = svc.deploy?.resources?.reservations;
      if (r?.cpus !== undefined) r.cpus = String(Math.floor(Number(r.cpus) * scale * 1000) / 1000);
    }
  const used = (key) =>
    new Set(
      Object.values(services).flatMap((s) =>
        (s[key] ?? []).map((x) => (typeof x === 'string' ? x : x.source)),
      ),
    );
  const pick = (all, names) =>
    Object.fromEntries(Object.entries(all).filter(([k]) => names.has(k)));
  const configs = pick(stack.configs, used('configs'));
  for (const cfg of Object.values(configs)) cfg.file = resolve(stackDir, cfg.file);
  return stringifyYaml({
    services,
    networks: pick(stack.networks, used('networks')),
    volumes: pick(stack.volumes, used('volumes')),
    configs,
    secrets: pick(stack.secrets, used('secrets')),
  });
}

function httpsGet(port, path, ca) {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, ca, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d) => {
        body += d;
      });
      r.on('end', () => res({ status: r.statusCode, body, type: r.headers['content-type'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** The running containers of a service of the stack (ids). */
function containersOf(service) {
  return docker(
    ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_${service}`],
    {
      quiet: true,
    },
  )
    .trim()
    .split('\n')
    .filter(Boolean);
}

/** The container's addresses on each of its networks: `{ network: ip }`. */
function addressesOf(container) {
  const json = docker(['inspect', '--format', '{{json .NetworkSettings.Networks}}', container], {
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
 * speaks its protocol (PostgreSQL answers an SSLRequest with `S` or `N`; Redis answers `PING`
 * with `+PONG` or an error such as `-NOAUTH`), otherwise what stopped it (`ENOTFOUND`,
 * `EAI_AGAIN`, `ECONNREFUSED`, `EHOSTUNREACH`, `timeout`, or `not postgres: HTTP/1.1 400…`).
 * A bare TCP connect proves nothing here: this machine's egress accepts a connection to any
 * address it routes out (and answers HTTP 400), so the first probe "reached" another
 * customer's database through the gateway bridge. Runs with the relay image's own Node.js
 * inside `container` (`docker exec`), or on the host when `container` is undefined.
 */
const PROBE = `const [host, port, kind] = process.argv.slice(1);
const say = (w) => { console.log(w); process.exit(0); };
const s = require('node:net').connect({ host, port: Number(port) });
s.setTimeout(3000, () => say('timeout'));
s.on('connect', () => s.write(kind === 'postgres' ? Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]) : 'PING\\r\\n'));
s.on('data', (d) => {
  const ok = kind === 'postgres' ? d.length === 1 && (d[0] === 83 || d[0] === 78) : /^[+-]/.test(d.toString('latin1'));
  say(ok ? 'answered' : 'not ' + kind + ': ' + JSON.stringify(d.toString('latin1').slice(0, 16)));
});
s.on('error', (e) => say(e.code || e.message));`;
function probe(container, host, port, kind) {
  const args = ['-e', PROBE, host, String(port), kind];
  const out = container
    ? docker(['exec', container, 'node', ...args], { quiet: true, check: false })
    : sh(process.execPath, args, { quiet: true, check: false });
  return out.trim().split('\n').pop() || 'no answer';
}

/** The host's address on the swarm's gateway bridge: what the services' egress reaches it at. */
function gatewayAddress() {
  return docker(
    ['network', 'inspect', 'docker_gwbridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'],
    { quiet: true },
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
  const out = docker(
    [
      'exec',
      portal,
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

/** The end-to-end story from the host (examples/system/swarm/story.ts); its figures. */
function story(customer, i, licenseKey) {
  if (interrupted.signal.aborted) throw interrupted.signal.reason;
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'swarm/story.ts',
      '--relay',
      `https://localhost:${RELAY_PORT_BASE + i}`,
      '--ca',
      join(WORK, 'escrow', customer, `${customer}_internal_ca`),
      '--license-key',
      licenseKey,
      '--counterpart-host',
      gatewayAddress(),
      '--counterpart-port',
      String(COUNTERPART_PORT_BASE + i),
      '--records',
      '200',
    ],
    { cwd: join(ROOT, 'examples/system'), encoding: 'utf8', env: process.env, timeout: 300_000 },
  );
  const last = (res.stdout ?? '').trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`story: no result (exit ${res.status}): ${(res.stderr ?? '').slice(-400)}`);
  }
  if (!result.ok) throw new Error(`story: ${result.error}`);
  return result;
}

async function waitHealthy(services, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const states = services.map((s) => {
      const ids = containersOf(s);
      if (ids.length === 0) return `${s}: no container`;
      const health = docker(['inspect', '--format', '{{.State.Health.Status}}', ...ids], {
        quiet: true,
      }).trim();
      return `${s}: ${health.split('\n').join(',')}`;
    });
    last = states.join('; ');
    if (states.every((s) => /: (healthy,?)+$/.test(s))) return;
    await sleep(5000);
  }
  throw new Error(`not healthy in ${timeoutMs / 1000} s: ${last}`);
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

async function main() {
  mkdirSync(WORK, { recursive: true });
  await step('engine: dockerd 20.10 + swarm init', () => {
    sh(join(HERE, 'engine.sh'), ['start']);
    return docker(['info', '--format', '{{.ServerVersion}}'], { quiet: true }).trim();
  });
  await step('images: base, node-base, relay, portal, postgres, redis', () => {
    // --no-build: the images of the last images.sh run (its image-sizes.tsv and images.env).
    if (!opts['no-build']) sh(join(HERE, 'images.sh'), []);
    const sizes = readFileSync(join(WORK, 'image-sizes.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const mb = (b) => `${(Number(b) / 1e6).toFixed(0)} MB`;
    return sizes.map(([name, bytes]) => `${name.split(':')[0]} ${mb(bytes)}`).join(', ');
  });
  const node = docker(['info', '--format', '{{.Swarm.NodeID}}'], { quiet: true }).trim();
  await step('node labels', () => {
    const labels = [
      'fluxel.tier=app',
      'fluxel.zone=z1',
      'fluxel.edge=true',
      ...customers.map((c) => `fluxel.db-${c}=true`),
    ];
    docker(['node', 'update', ...labels.flatMap((l) => ['--label-add', l]), node], { quiet: true });
    return labels.join(' ');
  });
  await step('no stack or volume left from an earlier run', async () => {
    docker(['stack', 'rm', STACK], { quiet: true, check: false });
    await removeVolumes();
    return 'none';
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
        docker(['secret', 'rm', name], { quiet: true, check: false });
        docker(['secret', 'create', '--label', `fluxel.customer=${c}`, name, join(dir, name)], {
          quiet: true,
        });
        n++;
      }
    }
    return `${n} secrets`;
  });
  const stackFile = join(WORK, 'stack.yml');
  await step('stack deploy (derived from deploy/swarm/stack.yml)', () => {
    writeFileSync(
      stackFile,
      deriveStack(
        readFileSync(join(ROOT, 'deploy/swarm/stack.yml'), 'utf8'),
        customers,
        join(ROOT, 'deploy/swarm'),
        Number(docker(['info', '--format', '{{.NCPU}}'], { quiet: true }).trim()),
        gatewayAddress(),
      ),
    );
    const images = Object.fromEntries(
      readFileSync(join(WORK, 'images.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split('=')),
    );
    Object.assign(env, images);
    docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile, STACK], {
      quiet: true,
    });
    return `${customers.length * 4} services`;
  });
  const services = customers.flatMap((c) =>
    ['postgres', 'redis', 'relay', 'portal'].map((k) => `${k}-${c}`),
  );
  await step('every service healthy', async () => {
    const started = Date.now();
    await waitHealthy(services, 10 * 60_000);
    return `${services.length} services in ${((Date.now() - started) / 1000).toFixed(0)} s`;
  });
  for (const [i, c] of customers.entries()) {
    await step(`${c}: relay /v1/status over HTTPS from the host`, async () => {
      const ca = readFileSync(join(escrow, c, `${c}_internal_ca`));
      const res = await httpsGet(RELAY_PORT_BASE + i, '/v1/status', ca);
      if (res.status >= 500) throw new Error(`status ${res.status}`);
      return `:${RELAY_PORT_BASE + i} → ${res.status} ${res.type ?? ''} (TLS verified against ${c}'s CA)`;
    });
  }
  for (const [i, c] of customers.entries()) {
    let key;
    await step(
      `${c}: license issued over the relay's admin gRPC (from the portal container)`,
      () => {
        const issued = issueLicense(c);
        key = issued.key;
        return `license ${issued.id}`;
      },
    );
    await step(`${c}: agent on the host activates, sends, receives a webhook`, () => {
      const r = story(c, i, key);
      return `activated in ${r.activatedMs} ms; ${r.delivered}/${r.records} records delivered once, ${r.duplicated} duplicated (${r.sendsPerSecond}/s, 8 in flight); webhook → pickup ${r.webhookToPickupMs} ms, acked`;
    });
  }
  // Customer isolation on the running stack: each relay reaches its own PostgreSQL and Redis
  // (the probe works) and neither another customer's by name (not resolvable: the networks are
  // not shared) nor by address (no route: the db and cache overlays are internal, per customer).
  for (const c of customers) {
    for (const o of customers.filter((x) => x !== c)) {
      await step(`isolation: ${c}'s relay cannot reach ${o}'s PostgreSQL or Redis`, () => {
        const [relay] = containersOf(`relay-${c}`);
        if (!relay) throw new Error(`relay-${c} has no running container`);
        const seen = [];
        for (const [kind, port] of [
          ['postgres', 5432],
          ['redis', 6379],
        ]) {
          const own = probe(relay, `${kind}-${c}`, port, kind);
          if (own !== 'answered')
            throw new Error(
              `${c}'s relay cannot reach its own ${kind}-${c}:${port} (${own}): the probe proves nothing`,
            );
          const byName = probe(relay, `${kind}-${o}`, port, kind);
          if (byName === 'answered') throw new Error(`${kind}-${o}:${port} reachable by name`);
          const [target] = containersOf(`${kind}-${o}`);
          if (!target) throw new Error(`${kind}-${o} has no running container`);
          for (const [network, ip] of Object.entries(addressesOf(target))) {
            const byIp = probe(relay, ip, port, kind);
            if (byIp === 'answered')
              throw new Error(`${kind}-${o} reachable at ${ip}:${port} (${network})`);
            seen.push(`${kind} ${ip} ${byIp}`);
          }
          seen.unshift(`${kind}-${o} by name ${byName}`);
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
      for (const id of containersOf(s))
        for (const [network, ip] of Object.entries(addressesOf(id))) {
          const got = probe(undefined, ip, port, kind);
          if (got === 'answered')
            throw new Error(`${s} reachable from the host at ${ip}:${port} (${network})`);
          seen.push(`${s} ${ip} ${got}`);
        }
    }
    return seen.join('; ');
  });
  await step('no PostgreSQL or Redis port published', () => {
    const published = services
      .filter((s) => /^(postgres|redis)-/.test(s))
      .map((s) => [
        s,
        docker(['service', 'inspect', '--format', '{{json .Endpoint.Ports}}', `${STACK}_${s}`], {
          quiet: true,
        }).trim(),
      ])
      .filter(([, p]) => p !== 'null' && p !== '[]');
    if (published.length) throw new Error(`published: ${published.map(([s]) => s).join(', ')}`);
    return 'none';
  });
}

/**
 * Removes the stack's volumes (`fluxel_*`), waiting up to 60 s for the containers using them
 * to go. Each run creates new secrets, and a PostgreSQL volume initialised with an earlier
 * run's passwords refuses the new ones (the relay said "password authentication failed for
 * user relay" on the second run): the test always starts from empty volumes.
 */
async function removeVolumes(cleanup = false) {
  const deadline = Date.now() + 60_000;
  const volumes = () =>
    docker(['volume', 'ls', '-q', '--filter', `name=${STACK}_`], { quiet: true, cleanup })
      .trim()
      .split('\n')
      .filter((v) => v.startsWith(`${STACK}_`));
  let left = volumes();
  while (left.length > 0) {
    for (const v of left) docker(['volume', 'rm', v], { quiet: true, check: false, cleanup });
    left = volumes();
    if (left.length === 0) break;
    if (Date.now() >= deadline)
      throw new Error(`volumes still in use after 60 s: ${left.join(', ')}`);
    await (cleanup ? new Promise((r) => setTimeout(r, 2000)) : sleep(2000));
  }
}

async function cleanup() {
  try {
    docker(['stack', 'rm', STACK], { quiet: true, check: false, cleanup: true });
    await removeVolumes(true);
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
    if (!opts.keep) await cleanup();
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await runAll();
