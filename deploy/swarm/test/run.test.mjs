// The stack `pnpm test:swarm` deploys is deploy/swarm/stack.yml with only the host's forced
// changes (deriveStack in run.mjs). Run: node --test deploy/swarm/test/run.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { deriveStack } from './run.mjs';

const SWARM = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const text = readFileSync(join(SWARM, 'stack.yml'), 'utf8');
const derive = (customers, cpus) =>
  parse(deriveStack(text, customers, SWARM, cpus), { version: '1.1', merge: true });
const cpusReserved = (stack) =>
  Object.values(stack.services).reduce(
    (n, s) => n + Number(s.deploy.resources?.reservations?.cpus ?? 0) * (s.deploy.replicas ?? 1),
    0,
  );

test("the chosen customers' four services, dnsrr, the relay published in host mode", () => {
  const stack = derive(['alpha', 'beta']);
  assert.deepEqual(Object.keys(stack.services).sort(), [
    'portal-alpha',
    'portal-beta',
    'postgres-alpha',
    'postgres-beta',
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
  const fitted = derive(['alpha', 'beta'], 2);
  assert.ok(cpusReserved(fitted) <= 1.8 + 1e-9, `reserved ${cpusReserved(fitted)}`);
  assert.ok(cpusReserved(fitted) > 1.7);
  // limits are the stack's own
  assert.deepEqual(
    fitted.services['relay-alpha'].deploy.resources.limits,
    full.services['relay-alpha'].deploy.resources.limits,
  );
  // one customer fits unchanged
  assert.deepEqual(derive(['alpha'], 2), derive(['alpha']));
});

test("agents on the host: the relay's public URL is its published localhost port; the marketplace is the stand-in on the gateway bridge", () => {
  const stack = parse(deriveStack(text, ['alpha', 'beta'], SWARM, 2, '172.18.0.1'), {
    version: '1.1',
    merge: true,
  });
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
