// The stack `pnpm test:swarm` deploys is deploy/swarm/stack.yml with only the host's forced
// changes (deriveStack in derive-stack.mjs). Run: node --test deploy/swarm/test/run.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { deriveStack, deriveStandbyProbe } from './derive-stack.mjs';

const SWARM = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const text = readFileSync(join(SWARM, 'stack.yml'), 'utf8');
const derive = (customers, options) =>
  parse(deriveStack(text, customers, SWARM, options), { version: '1.1', merge: true });
const cpusReserved = (stack) =>
  Object.values(stack.services).reduce(
    (n, s) => n + Number(s.deploy.resources?.reservations?.cpus ?? 0) * (s.deploy.replicas ?? 1),
    0,
  );

test("the chosen customers' five services, dnsrr, the relay published in host mode", () => {
  const stack = derive(['alpha', 'beta']);
  assert.deepEqual(Object.keys(stack.services).sort(), [
    'portal-alpha',
    'portal-beta',
    'postgres-alpha',
    'postgres-alpha-standby',
    'postgres-beta',
    'postgres-beta-standby',
    'redis-alpha',
    'redis-beta',
    'relay-alpha',
    'relay-beta',
  ]);
  for (const s of Object.values(stack.services)) assert.equal(s.deploy.endpoint_mode, 'dnsrr');
  assert.deepEqual(
    stack.services['relay-beta'].ports.map((p) => [p.published, p.mode]),
    [[18444, 'host']],
  );
  assert.equal(stack.services['postgres-alpha'].ports, undefined);
});

test('two customers on a 2-core node: CPU reservations scaled to 90 % of it (Swarm left a relay pending)', () => {
  const full = derive(['alpha', 'beta']);
  assert.ok(cpusReserved(full) > 2, `the stack reserves ${cpusReserved(full)} CPUs`);
  const fitted = derive(['alpha', 'beta'], { nodeCpus: 2 });
  assert.ok(cpusReserved(fitted) <= 1.8 + 1e-9, `reserved ${cpusReserved(fitted)}`);
  assert.ok(cpusReserved(fitted) > 1.7);
  // limits are the stack's own
  assert.deepEqual(
    fitted.services['relay-alpha'].deploy.resources.limits,
    full.services['relay-alpha'].deploy.resources.limits,
  );
  // one customer fits unchanged
  assert.deepEqual(derive(['alpha'], { nodeCpus: 2 }), derive(['alpha']));
  // three such nodes hold two customers unscaled
  assert.equal(
    cpusReserved(derive(['alpha', 'beta'], { nodeCpus: 2, nodes: 3 })),
    cpusReserved(derive(['alpha', 'beta'], { nodes: 3 })),
  );
});

test("agents on the host: the relay's public URL is its published localhost port; the marketplace is the stand-in on the gateway bridge", () => {
  const stack = derive(['alpha', 'beta'], { nodeCpus: 2, hostAddress: '172.18.0.1' });
  assert.equal(
    stack.services['relay-beta'].environment.RELAY_PUBLIC_URL,
    'https://localhost:18444',
  );
  assert.equal(stack.services['relay-beta'].environment.COUNTERPART_URL, 'http://172.18.0.1:14011');
  // without a host address the stack's own marketplace URL stays
  assert.equal(
    derive(['alpha']).services['relay-alpha'].environment.COUNTERPART_URL,
    'https://api.marketplace.example',
  );
});

test("on three nodes: two relay replicas, at most one per node, on any node (a lost worker's relay must find a node without one); overlays not encrypted (no ESP here)", () => {
  const one = derive(['alpha', 'beta']);
  const three = derive(['alpha', 'beta'], { nodes: 3 });
  const relay = three.services['relay-alpha'].deploy;
  assert.equal(relay.replicas, 2);
  assert.equal(relay.placement.max_replicas_per_node, 1);
  assert.ok(!relay.placement.constraints.includes('node.role == worker'));
  assert.ok(relay.placement.constraints.includes('node.labels.fluxel.tier == app'));
  assert.equal(one.services['relay-alpha'].deploy.replicas, 1);
  // the stack's update order stays: a slot's audit volume never has two writers
  assert.equal(relay.update_config.order, 'stop-first');
  for (const [name, net] of Object.entries(three.networks)) {
    assert.equal(net.driver, 'overlay', name);
    assert.equal(net.driver_opts?.encrypted, undefined, name);
  }
  assert.equal(one.networks['alpha-db'].driver_opts.encrypted, 'true');
  assert.equal(three.networks['alpha-db'].internal, true);
  assert.deepEqual(three.networks['alpha-edge'].ipam, one.networks['alpha-edge'].ipam);
});

test('the standby probe: the relay as deployed, on its standby alone, nothing published or kept', () => {
  const derived = deriveStack(text, ['alpha'], SWARM);
  const probe = parse(deriveStandbyProbe(derived, 'alpha', 'fluxel'), { version: '1.1' });
  const relay = probe.services['relay-alpha'];
  // The standby alone, over verified TLS as deployed (the standby takes TLS clients only).
  assert.equal(
    relay.environment.DATABASE_URL,
    'postgres://relay@postgres-alpha-standby:5432/relay?sslmode=verify-full&sslrootcert=/data/tls/ca.pem',
  );
  assert.equal(relay.ports, undefined);
  assert.deepEqual(relay.healthcheck, { disable: true });
  assert.equal(relay.volumes.filter((v) => v.type === 'volume').length, 0);
  assert.deepEqual(probe.networks['alpha-db'], { external: true, name: 'fluxel_alpha-db' });
  assert.deepEqual(probe.secrets.alpha_relay_kek, { external: true });
  assert.equal(relay.environment.RELAY_ADMIN_TOKEN_FILE, '/run/secrets/relay_admin_token');
});
