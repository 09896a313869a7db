/**
 * Tests of scripts/check-deploy.mjs: the shipped stack and Dockerfiles pass, and each kind of
 * mistake in a copy of them is caught. Run: node --test scripts/check-deploy.test.mjs
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { checkDockerfile, checkStack, interpolate, parseEnvFile, run } from './check-deploy.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STACK_DIR = join(ROOT, 'deploy', 'swarm');
const STACK = readFileSync(join(STACK_DIR, 'stack.yml'), 'utf8');
const ENV = parseEnvFile(readFileSync(join(STACK_DIR, 'images.env.example'), 'utf8'));
const RELAY_DOCKERFILE = readFileSync(join(ROOT, 'deploy', 'docker', 'relay.Dockerfile'), 'utf8');

const check = (text, options = {}) =>
  checkStack(text, { env: ENV, stackDir: STACK_DIR, ...options });

/** Replaces exactly one occurrence (so a fixture cannot silently miss its target). */
function once(text, from, to) {
  const at = text.indexOf(from);
  assert.ok(at >= 0, `fixture: "${from}" not found`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

function expectFinding(findings, pattern) {
  assert.ok(
    findings.some((f) => pattern.test(f)),
    `expected a finding matching ${pattern}, got:\n${findings.join('\n') || '(none)'}`,
  );
}

test('the shipped stack, env example and Dockerfiles pass', () => {
  assert.deepEqual(check(STACK), []);
  assert.equal(run([]), 0);
});

test('YAML is read as Docker reads it: 0400 is octal, anchors merge', () => {
  const doc = parseYaml(STACK, { version: '1.1', merge: true });
  const kek = doc.services['relay-alpha'].secrets.find((s) => s.target === '/data/kek.key');
  assert.equal(kek.mode, 0o400);
  assert.equal(doc.services['relay-beta'].deploy.replicas, 2);
});

test('interpolation: defaults, required variables and $$', () => {
  const findings = [];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax under test
  assert.equal(interpolate('${A:-x}/${B}/$$HOME', { B: 'b' }, 'here', findings), 'x/b/$HOME');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax under test
  assert.equal(interpolate('${C:?set C}', {}, 'img', findings), '');
  assert.match(findings[0], /img: \$\{C\} is not set \(set C\)/);
});

test('a schema violation is reported', () => {
  expectFinding(
    check(once(STACK, 'parallelism: 1\n    delay: 15s', 'parallelism: [1]\n    delay: 15s')),
    /^schema: .*parallelism/,
  );
  expectFinding(
    check(once(STACK, 'replicas: 2', 'replicas: two')),
    /deploy\.replicas: "two" is not a number/,
  );
  expectFinding(
    check(once(STACK, 'services:\n', 'services:\n  bogus: 1\n')),
    /^schema: \/services\/bogus/,
  );
  expectFinding(
    check(once(STACK, '    stop_grace_period: 40s\n', '    stop_grace: 40s\n')),
    /schema: .*stop_grace/,
  );
});

test('an undeclared or unused secret is reported', () => {
  expectFinding(
    check(once(STACK, '      - source: alpha_relay_kek\n', '      - source: alpha_relay_kek2\n')),
    /alpha_relay_kek2 is not declared/,
  );
  expectFinding(
    check(once(STACK, '      - source: alpha_relay_kek\n', '      - source: alpha_relay_kek2\n')),
    /secrets\.alpha_relay_kek: declared but not used/,
  );
});

test('a service without healthcheck or limits is reported', () => {
  const noHealth = once(
    STACK,
    '    healthcheck: *relay-healthcheck\n    deploy: *relay-deploy\n',
    '    deploy: *relay-deploy\n',
  );
  expectFinding(check(noHealth), /services\.relay-alpha: no healthcheck/);
  const noLimit = once(
    STACK,
    '          cpus: "2.0"\n          memory: 2G\n',
    '          cpus: "2.0"\n',
  );
  expectFinding(check(noLimit), /services\.postgres-alpha: no deploy\.resources\.limits\.memory/);
});

test('a published PostgreSQL port and a non-internal data network are reported', () => {
  const withPort = once(
    STACK,
    '    networks:\n      - alpha-db\n    stop_grace_period: 60s\n',
    '    ports:\n      - "5432:5432"\n    networks:\n      - alpha-db\n    stop_grace_period: 60s\n',
  );
  expectFinding(check(withPort), /postgres-alpha\.ports: a data store must not publish ports/);
  const external = once(
    STACK,
    '  alpha-db:\n    driver: overlay\n    internal: true\n',
    '  alpha-db:\n    driver: overlay\n',
  );
  expectFinding(check(external), /postgres-alpha\.networks: alpha-db is not internal/);
});

test('a network or secret shared by two customers is reported', () => {
  const shared = once(
    STACK,
    '    networks:\n      - beta-edge\n      - beta-db\n      - beta-cache\n',
    '    networks:\n      - beta-edge\n      - alpha-db\n      - beta-cache\n',
  );
  expectFinding(check(shared), /networks\.alpha-db: shared by customers alpha, beta/);
  const secret = once(
    STACK,
    '      - source: beta_relay_kek\n',
    '      - source: alpha_relay_kek\n',
  );
  expectFinding(check(secret), /alpha_relay_kek is not one of customer beta's secrets/);
});

test('an image without a digest, or with a placeholder digest in a release, is reported', () => {
  expectFinding(
    check(STACK, { env: { ...ENV, FLUXEL_REDIS_IMAGE: 'redis:7' } }),
    /redis-alpha\.image: "redis:7" is not pinned/,
  );
  expectFinding(check(STACK, { release: true }), /placeholder digest/);
  expectFinding(check(STACK, { env: {} }), /FLUXEL_RELAY_IMAGE\} is not set/);
});

test('the relay environment is checked against what the relay reads', () => {
  const noDb = once(
    STACK,
    '      DATABASE_URL: postgres://relay@postgres-alpha:5432,postgres-alpha-standby:5432/relay?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=/data/tls/ca.pem\n',
    '',
  );
  expectFinding(check(noDb), /relay-alpha\.environment: DATABASE_URL is required/);
  const typo = once(
    STACK,
    '      RELAY_MAILBOX_POLL_MS: "1000"\n',
    '      RELAY_MAILBOX_POLL: "1000"\n',
  );
  expectFinding(check(typo), /RELAY_MAILBOX_POLL is read by nothing/);
  const plain = once(
    STACK,
    '      RELAY_ADMIN_TOKEN_FILE: /run/secrets/relay_admin_token\n',
    `      RELAY_ADMIN_TOKEN: ${'x'.repeat(40)}\n`,
  );
  expectFinding(check(plain), /RELAY_ADMIN_TOKEN in plain text/);
  const dev = once(STACK, '      RELAY_DEV_TOKENS: "0"\n', '');
  expectFinding(check(dev), /RELAY_DEV_TOKENS must be "0"/);
  const wrongFile = once(
    STACK,
    'REDIS_URL_FILE: /run/secrets/relay_redis_url',
    'REDIS_URL_FILE: /run/secrets/redis_url',
  );
  expectFinding(
    check(wrongFile),
    /REDIS_URL_FILE=\/run\/secrets\/redis_url is not a secret mounted/,
  );
});

test('a PostgreSQL standby copies its own primary, on another node, and the apps can move to it', () => {
  const wrongPrimary = once(
    STACK,
    '      POSTGRES_PRIMARY_HOST: postgres-alpha\n',
    '      POSTGRES_PRIMARY_HOST: postgres-beta\n',
  );
  expectFinding(
    check(wrongPrimary),
    /postgres-alpha-standby\.environment: POSTGRES_PRIMARY_HOST is not postgres-alpha/,
  );
  const sameNode = once(
    STACK,
    '          - node.labels.fluxel.db-alpha-standby == true\n',
    '          - node.labels.fluxel.db-alpha == true\n',
  );
  expectFinding(check(sameNode), /postgres-alpha-standby\.deploy\.placement: the same constraints/);
  const single = once(
    STACK,
    'postgres://portal@postgres-alpha:5432,postgres-alpha-standby:5432/portal?target_session_attrs=read-write&',
    'postgres://portal@postgres-alpha:5432/portal?',
  );
  expectFinding(
    check(single),
    /portal-alpha\.environment: DATABASE_URL does not list postgres-alpha-standby with target_session_attrs=read-write/,
  );
  // The standby removed (service, volume, its URLs), the primary still waiting for it.
  const text = STACK.replace(
    / {2}# A hot standby of postgres-alpha[\s\S]*?\n\n(?= {2}redis-alpha:)/,
    '',
  )
    .replace('  postgres-alpha-standby-data:\n', '')
    .replaceAll(',postgres-alpha-standby:5432', '')
    .replaceAll('target_session_attrs=read-write&', '');
  assert.ok(!text.includes('postgres-alpha-standby:\n'), 'the standby service was removed');
  expectFinding(
    check(text),
    /postgres-alpha\.environment: POSTGRES_SYNCHRONOUS_STANDBY without a postgres-alpha-standby service/,
  );
});

test('the apps reach PostgreSQL over verified TLS, with a CA they have', () => {
  const plain = once(STACK, '&sslmode=verify-full&sslrootcert=/data/tls/ca.pem\n', '\n');
  expectFinding(check(plain), /relay-alpha\.environment: DATABASE_URL without sslmode=verify-full/);
  const elsewhere = once(STACK, 'sslrootcert=/data/tls/ca.pem\n', 'sslrootcert=/etc/ssl/ca.pem\n');
  expectFinding(
    check(elsewhere),
    /relay-alpha\.environment: DATABASE_URL's sslrootcert is not a secret mounted in the service/,
  );
});

test('the KMS KEK variables are known; AWS keys belong in a Docker secret', () => {
  const kms = once(
    STACK,
    '      RELAY_MAILBOX_POLL_MS: "1000"\n',
    [
      '      RELAY_MAILBOX_POLL_MS: "1000"',
      '      RELAY_KMS_KEY_ID: arn:aws:kms:eu-central-1:111122223333:key/1234abcd',
      '      AWS_REGION: eu-central-1',
      '      AWS_ENDPOINT_URL_KMS: https://kms.eu-central-1.amazonaws.com',
      '      AWS_ACCESS_KEY_ID: AKIDEXAMPLE',
      '      AWS_SECRET_ACCESS_KEY_FILE: /run/secrets/relay_admin_token',
      '',
    ].join('\n'),
  );
  assert.deepEqual(check(kms), []);
  const plain = once(
    STACK,
    '      RELAY_MAILBOX_POLL_MS: "1000"\n',
    '      RELAY_MAILBOX_POLL_MS: "1000"\n      AWS_SECRET_ACCESS_KEY: not-in-plain-text\n',
  );
  expectFinding(check(plain), /AWS_SECRET_ACCESS_KEY in plain text/);
});

test('listen hosts, the portal production entry and its *_FILE secrets are checked', () => {
  const noHost = once(STACK, '      RELAY_HOST: 0.0.0.0\n', '');
  expectFinding(check(noHost), /relay-alpha\.environment: RELAY_HOST is required/);
  const noOrigin = once(
    STACK,
    '      PORTAL_PUBLIC_ORIGIN: https://portal.alpha.fluxel.example\n',
    '',
  );
  expectFinding(check(noOrigin), /portal-alpha\.environment: PORTAL_PUBLIC_ORIGIN is required/);
  const noAdmin = once(STACK, '      RELAY_ADMIN_ADDRESS: relay-alpha:8444\n', '');
  expectFinding(check(noAdmin), /portal-alpha\.environment: RELAY_ADMIN_ADDRESS is required/);
  // The stop-gaps are gone: their variables are read by nothing now.
  const bridge = once(
    STACK,
    '      PORTAL_HOST: 0.0.0.0\n',
    '      PORTAL_HOST: 0.0.0.0\n      FLUXEL_FORWARD: 8444=relay-alpha:8444\n',
  );
  expectFinding(check(bridge), /FLUXEL_FORWARD is read by nothing/);
  // dev.ts's variables are refused for the production entry.
  const vite = once(
    STACK,
    '      PORTAL_HOST: 0.0.0.0\n',
    '      PORTAL_HOST: 0.0.0.0\n      PORTAL_VITE: "0"\n',
  );
  expectFinding(check(vite), /portal-alpha\.environment: PORTAL_VITE is for development only/);
  // SMTP_PASS is read through envSecret(): its *_FILE form must point at a mounted secret.
  const smtp = once(
    STACK,
    'SMTP_PASS_FILE: /run/secrets/smtp_password',
    'SMTP_PASS_FILE: /run/secrets/smtp',
  );
  expectFinding(check(smtp), /SMTP_PASS_FILE=\/run\/secrets\/smtp is not a secret mounted/);
  const ca = once(STACK, 'RELAY_CA: /run/secrets/internal_ca', 'RELAY_CA: /data/ca.pem');
  expectFinding(check(ca), /RELAY_CA=\/data\/ca\.pem is not a secret mounted/);
});

test('a KEK that is not mounted, or mounted readable by others, is reported', () => {
  const kekBlock =
    '      - source: alpha_relay_kek\n        target: /data/kek.key\n        uid: "10001"\n        gid: "10001"\n        mode: 0400\n';
  expectFinding(
    check(once(STACK, kekBlock, kekBlock.replace('0400', '0444'))),
    /key file with mode 444/,
  );
  const unmounted = once(once(STACK, kekBlock, ''), '  alpha_relay_kek:\n    external: true\n', '');
  expectFinding(check(unmounted), /nothing mounted at \/data\/kek\.key/);
});

test('owner-only secrets for another uid and keys Swarm ignores are reported', () => {
  const wrongUid = once(
    STACK,
    '      - source: alpha_relay_secrets_json\n        target: /data/secrets.json\n        uid: "10001"',
    '      - source: alpha_relay_secrets_json\n        target: /data/secrets.json\n        uid: "0"',
  );
  expectFinding(check(wrongUid), /alpha_relay_secrets_json has mode 400 but uid 0/);
  const ignored = once(
    STACK,
    '    stop_grace_period: 40s\n',
    '    stop_grace_period: 40s\n    container_name: relay\n',
  );
  expectFinding(check(ignored), /container_name: ignored by docker stack deploy/);
});

test('relay replicas sharing one audit volume are reported', () => {
  const shared = once(
    STACK,
    'name: "fluxel_relay-alpha-audit-{{.Task.Slot}}"',
    'name: fluxel_relay-alpha-audit',
  );
  expectFinding(check(shared), /relay-alpha-audit: name without \{\{\.Task\.Slot\}\}/);
});

test('Dockerfile basics: root user, unpinned base, shell-form CMD, missing healthcheck', () => {
  assert.deepEqual(checkDockerfile(RELAY_DOCKERFILE, 'relay'), []);
  expectFinding(
    checkDockerfile(once(RELAY_DOCKERFILE, 'USER 10001:10001', 'USER root'), 'relay'),
    /runs as root/,
  );
  expectFinding(
    checkDockerfile(once(RELAY_DOCKERFILE, 'node:20.20.2-bookworm-slim', 'node:latest'), 'relay'),
    /not pinned/,
  );
  expectFinding(
    checkDockerfile(
      once(
        RELAY_DOCKERFILE,
        'CMD ["node", "--import", "tsx", "src/main.ts"]',
        'CMD node src/main.ts',
      ),
      'relay',
    ),
    /shell form/,
  );
  const noHealth = RELAY_DOCKERFILE.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '');
  expectFinding(checkDockerfile(noHealth, 'relay'), /no HEALTHCHECK/);
});

test('Dockerfile base through an ARG that names another ARG is resolved and checked', () => {
  expectFinding(
    checkDockerfile(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG syntax under test
      once(RELAY_DOCKERFILE, 'ARG NODE_BUILD_IMAGE=${NODE_IMAGE}', 'ARG NODE_BUILD_IMAGE=node'),
      'relay',
    ),
    /FROM node is not pinned/,
  );
});

test('data-store Dockerfiles: one stage and no pnpm allowed, root user and healthcheck still not', () => {
  const postgres = readFileSync(join(ROOT, 'deploy', 'docker', 'postgres.Dockerfile'), 'utf8');
  assert.deepEqual(checkDockerfile(postgres, 'postgres', ROOT, { app: false }), []);
  expectFinding(checkDockerfile(postgres, 'postgres'), /not multi-stage/);
  expectFinding(
    checkDockerfile(once(postgres, 'USER 999:999', 'USER 0'), 'postgres', ROOT, { app: false }),
    /runs as root/,
  );
  expectFinding(
    checkDockerfile(
      once(postgres, '--no-install-recommends postgresql-15', 'postgresql-15'),
      'postgres',
      ROOT,
      { app: false },
    ),
    /without --no-install-recommends/,
  );
});

test('a top-level key docker stack deploy refuses (name) is reported', () => {
  expectFinding(
    check(`name: fluxel\n${STACK}`),
    /^name: top-level key that docker stack deploy refuses/,
  );
});
