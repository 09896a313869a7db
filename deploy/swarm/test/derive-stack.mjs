/**
 * The stack `pnpm test:swarm` deploys: deploy/swarm/stack.yml with only the changes this host
 * forces (see `deriveStack`). Pure: checked on its own by run.test.mjs.
 */
import { resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** The relay of the i-th customer is published at 18443 + i (never 5432/6379/…). */
export const RELAY_PORT_BASE = 18443;
/** The i-th customer's counterpart stand-in listens on the host at 14010 + i. */
export const COUNTERPART_PORT_BASE = 14010;
/** The i-th customer's portal is published at 18543 + i; its mail goes to the host's 14025 + i. */
export const PORTAL_PORT_BASE = 18543;
export const MAIL_PORT_BASE = 14025;

/**
 * The stack file for this machine, from deploy/swarm/stack.yml. Every change is forced by the
 * host, not by the stack: no registry (no Traefik image: the edge is left out, the relay is
 * published in host mode and balancer.mjs stands in for the edge), no IPVS (dnsrr), no ESP
 * (`encrypted` overlays carry nothing between nodes here: off when `nodes` > 1), and on one
 * node one relay replica per published port. Networks, secrets, volumes, limits, health
 * checks, users and read-only root file systems are the stack's own.
 *
 * - `nodes`: nodes in the swarm. With more than one, the relay keeps its two replicas and
 *   `max_replicas_per_node: 1`, but not `node.role == worker` (this swarm has one manager and
 *   two workers: a relay of a lost worker must find a node without one).
 * - `nodeCpus`: CPUs of each node (reservations are scaled to fit 90 % of them all).
 * - `hostAddress`: where the services reach the host (the counterpart stand-in).
 * - `mailCa`: the certificate file of the SMTP sink on the host (examples/system/swarm/
 *   mail-sink.ts at `hostAddress`:14025 + n, STARTTLS): the portal mails through it instead of
 *   the stack's `smtp.mail.example`, and trusts it by `SMTP_CA`. With it the portal's 8445 is
 *   published in host mode as 18543 + n and its public origin is https://localhost:<that>.
 */
export function deriveStack(text, keep, stackDir, options = {}) {
  const { nodeCpus = Number.POSITIVE_INFINITY, hostAddress, nodes = 1, mailCa } = options;
  // YAML 1.1 as Docker reads it: `mode: 0400` is octal (1.2 would read decimal 400).
  const stack = parseYaml(text, { version: '1.1', merge: true });
  const services = {};
  keep.forEach((c, i) => {
    for (const kind of ['relay', 'portal', 'postgres', 'postgres-standby', 'redis']) {
      const name = kind === 'postgres-standby' ? `postgres-${c}-standby` : `${kind}-${c}`;
      const svc = structuredClone(stack.services[name]);
      if (!svc) throw new Error(`stack.yml has no service ${name} (add the customer to the stack)`);
      svc.deploy.endpoint_mode = 'dnsrr';
      const constraints = (svc.deploy.placement?.constraints ?? []).filter(
        (x) => x !== 'node.role == worker',
      );
      svc.deploy.placement = { ...svc.deploy.placement, constraints };
      if (nodes === 1) delete svc.deploy.placement.max_replicas_per_node;
      if (kind === 'relay') {
        if (nodes === 1) svc.deploy.replicas = 1;
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
      if (kind === 'portal' && mailCa && hostAddress) {
        svc.ports = [
          { target: 8445, published: PORTAL_PORT_BASE + i, protocol: 'tcp', mode: 'host' },
        ];
        svc.environment.PORTAL_PUBLIC_ORIGIN = `https://localhost:${PORTAL_PORT_BASE + i}`;
        svc.environment.SMTP_HOST = hostAddress;
        svc.environment.SMTP_PORT = String(MAIL_PORT_BASE + i);
        svc.environment.SMTP_CA = '/etc/fluxel/smtp-ca.pem';
        svc.configs = [
          ...(svc.configs ?? []),
          { source: 'test_smtp_ca', target: '/etc/fluxel/smtp-ca.pem', mode: 0o444 },
        ];
      }
      services[name] = svc;
    }
  });
  // CPU reservations: the stack reserves 1.85 CPU per customer (relay 0.25 per replica, portal
  // 0.25, PostgreSQL and its standby 0.5 each, Redis 0.1), sized for production nodes. Two customers on this 2-core
  // machine reserve more than it has, and Swarm leaves a task pending ("no suitable node
  // (insufficient resources on 1 node)"): scale every reservation by the same factor to fit
  // 90 % of the nodes. Limits are the stack's own.
  const reserved = Object.values(services).reduce(
    (n, svc) =>
      n + Number(svc.deploy?.resources?.reservations?.cpus ?? 0) * (svc.deploy?.replicas ?? 1),
    0,
  );
  const capacity = 0.9 * nodeCpus * nodes;
  const scale = reserved > capacity ? capacity / reserved : 1;
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
  const configs = pick({ ...stack.configs, test_smtp_ca: { file: mailCa } }, used('configs'));
  for (const cfg of Object.values(configs)) cfg.file = resolve(stackDir, cfg.file);
  const networks = pick(stack.networks, used('networks'));
  if (nodes > 1)
    for (const net of Object.values(networks)) {
      if (net?.driver_opts) delete net.driver_opts.encrypted;
      if (net?.driver_opts && Object.keys(net.driver_opts).length === 0) delete net.driver_opts;
    }
  return stringifyYaml({
    services,
    networks,
    volumes: pick(stack.volumes, used('volumes')),
    configs,
    secrets: pick(stack.secrets, used('secrets')),
  });
}

/**
 * A one-service stack beside the deployed one (`stackName`, whose derived file is `text`): the
 * customer's relay as deployed, but with its standby alone as its database
 * (`postgres-<c>-standby`, a hot standby: read-only), to show that a relay started there waits
 * for a promotion and says so instead of failing its migrations. It joins the deployed stack's
 * networks (external, by their full names) and secrets; its audit directory is a tmpfs (no
 * volume to clean up), nothing is published and no health check restarts it.
 */
export function deriveStandbyProbe(text, customer, stackName) {
  const stack = parseYaml(text, { version: '1.1', merge: true });
  const name = `relay-${customer}`;
  const svc = structuredClone(stack.services[name]);
  if (!svc) throw new Error(`the stack has no service ${name}`);
  // The deployed URL with the standby as its one server (TLS parameters kept).
  const [base, query = ''] = svc.environment.DATABASE_URL.split('?');
  const kept = query
    .split('&')
    .filter((p) => p && !p.startsWith('target_session_attrs='))
    .join('&');
  const standby = base.replace(/@[^/]+\//, `@postgres-${customer}-standby:5432/`);
  svc.environment.DATABASE_URL = kept ? `${standby}?${kept}` : standby;
  delete svc.ports;
  svc.healthcheck = { disable: true };
  svc.deploy = { ...svc.deploy, replicas: 1 };
  delete svc.deploy.update_config;
  delete svc.deploy.rollback_config;
  svc.volumes = (svc.volumes ?? []).map((v) =>
    v.type === 'volume' ? { type: 'tmpfs', target: v.target, tmpfs: { size: 16777216 } } : v,
  );
  const networks = Object.fromEntries(
    svc.networks.map((n) => [n, { external: true, name: `${stackName}_${n}` }]),
  );
  const secrets = Object.fromEntries(svc.secrets.map((s) => [s.source, { external: true }]));
  return stringifyYaml({ services: { [name]: svc }, networks, secrets });
}
