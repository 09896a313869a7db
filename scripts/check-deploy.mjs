#!/usr/bin/env node
/**
 * `pnpm deploy:check`: validates the Docker Swarm deployment without a container engine.
 *
 *   node scripts/check-deploy.mjs [--stack deploy/swarm/stack.yml] [--env deploy/swarm/images.env.example] [--release]
 *
 * 1. Schema: the stack file, after `${VAR}` interpolation from the env file, against the
 *    official Compose Specification JSON schema (the copy shipped in the `dclint` package,
 *    `schemas/compose.schema.json`), with ajv.
 * 2. Semantics (what the schema cannot say): every secret/config/volume/network referenced is
 *    declared and every declared one is used; every service has a healthcheck, CPU and memory
 *    limits, a restart and an update policy and placement constraints; no keys that
 *    `docker stack deploy` ignores; PostgreSQL and Redis publish no port and sit only on
 *    internal networks; per-customer isolation (no network or customer secret shared by two
 *    customers); images pinned by digest; the environment of the relay and portal services
 *    against the variables their sources actually read (required ones set, unknown ones
 *    refused, `*_FILE` pointing at a mounted secret); the key files the apps would otherwise
 *    create per container are mounted; owner-only secrets readable by the service's user.
 * 3. Dockerfiles (deploy/docker/*.Dockerfile): hadolint-like basics.
 *
 * Exit code 0 when clean, 1 with findings (printed one per line), 2 on usage errors.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Keys `docker stack deploy` ignores (they would silently not apply). */
const SWARM_IGNORED = [
  'build',
  'cgroup_parent',
  'container_name',
  'depends_on',
  'devices',
  'external_links',
  'links',
  'network_mode',
  'restart',
  'security_opt',
  'tmpfs',
  'userns_mode',
];

/**
 * Top-level keys `docker stack deploy` accepts (its own schema, not the Compose
 * Specification's): it refuses the file on any other, e.g. `name` ("Additional property name
 * is not allowed", docker 28.2 client against a 20.10 engine, `pnpm test:swarm`).
 */
const STACK_TOP_LEVEL = new Set([
  'version',
  'services',
  'networks',
  'volumes',
  'secrets',
  'configs',
]);

/** Variables the deployment's own runtime reads (deploy/docker/*): Node.js itself (extra CA
 * certificates: the customer's internal CA for rediss://). */
const RUNTIME_ENV = new Set(['NODE_EXTRA_CA_CERTS']);
/**
 * Read by libraries rather than the apps' sources: node-postgres, and the AWS SDK's KMS client
 * (credentials, endpoint, retries; with `RELAY_KMS_KEY_ID` / `PORTAL_KMS_KEY_ID`). The apps
 * read `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` themselves (also as `*_FILE`).
 */
const LIBRARY_ENV = new Set([
  'PGPASSWORD',
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
]);

/**
 * What a production relay / portal service must set. `read: false` names variables read by a
 * library, not the app's sources. A name the sources stop reading is itself a finding, so
 * this list cannot rot silently.
 */
const APPS = {
  relay: {
    sources: 'examples/relay/src',
    required: [
      'RELAY_DATA_DIR',
      'RELAY_HOST',
      'RELAY_PUBLIC_URL',
      'DATABASE_URL',
      'REDIS_URL',
      'RELAY_ADMIN_TOKEN',
      'RELAY_PORTAL_TOKEN',
      'COUNTERPART_URL',
    ],
    values: { RELAY_DEV_TOKENS: '0', RELAY_DEMO_LICENSE: '0' },
    forbidden: ['RELAY_CLOCK_OFFSET_MS', 'RELAY_ISSUE_LICENSE'],
    together: { RELAY_ACME_DIRECTORY: ['RELAY_ACME_DOMAINS', 'RELAY_ACME_EMAIL'] },
    dataDir: 'RELAY_DATA_DIR',
    files: ['kek.key', 'secrets.json', 'tls/ca.pem', 'tls/server.pem', 'tls/server.key'],
    mountedPaths: [],
  },
  portal: {
    sources: 'examples/portal/src',
    // The production entry (src/server/main.ts); dev.ts's variables are refused below.
    required: [
      'PORTAL_DATA_DIR',
      'PORTAL_HOST',
      'PORTAL_PUBLIC_ORIGIN',
      'DATABASE_URL',
      'RELAY_ADMIN_ADDRESS',
      'RELAY_ADMIN_TOKEN',
      'RELAY_PORTAL_URL',
      'RELAY_PORTAL_TOKEN',
      'RELAY_CA',
      'PORTAL_TLS_CERT',
      'PORTAL_TLS_KEY',
      'SMTP_HOST',
      'SMTP_FROM',
      'PORTAL_ADMIN_EMAIL',
    ],
    values: {},
    forbidden: [
      'PORTAL_VITE',
      'PORTAL_WEB_PORT',
      'PORTAL_SMTP_SINK_PORT',
      'PORTAL_EXTRA_TENANTS',
      'RELAY_DATA_DIR',
      'RELAY_URL',
      'RELAY_ADMIN_PORT',
    ],
    together: {
      SMTP_USER: ['SMTP_PASS'],
      PORTAL_SMS_URL: ['PORTAL_SMS_TOKEN', 'PORTAL_SMS_FROM'],
    },
    dataDir: 'PORTAL_DATA_DIR',
    files: ['portal-kek.key', 'portal-pepper', 'portal-audit-seed', 'portal-audit-pseudonym'],
    // Variables holding a file path: the file must be a secret mounted in the service.
    mountedPaths: ['RELAY_CA', 'PORTAL_TLS_CERT', 'PORTAL_TLS_KEY'],
  },
};

// ---------------------------------------------------------------------------------------------
// helpers

/**
 * Environment variable names read by the TypeScript sources under `dir`: `env.NAME`,
 * `env['NAME']`, and `envSecret('NAME')` (the entries' reader of `NAME` / `NAME_FILE`).
 */
export function envReadBy(dir) {
  const names = new Set();
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(
          /\benv\s*(?:\.\s*([A-Z][A-Z0-9_]+)|\[\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\])|\benvSecret\(\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\)/g,
        ))
          names.add(m[1] ?? m[2] ?? m[3]);
      }
    }
  };
  walk(dir);
  return names;
}

/** Reads `NAME=value` lines (no quotes, no expansion). */
export function parseEnvFile(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Compose interpolation of one string: `$$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`. */
export function interpolate(value, env, where, findings) {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced, op, arg, bare) => {
      if (match === '$$') return '$';
      const name = braced ?? bare;
      const v = env[name];
      const unset = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
      if (!unset) return v;
      if (op === ':-' || op === '-') return arg;
      findings.push(`${where}: \${${name}} is not set${op?.endsWith('?') ? ` (${arg})` : ''}`);
      return '';
    },
  );
}

function interpolateTree(node, env, path, findings) {
  if (typeof node === 'string') return interpolate(node, env, path, findings);
  if (Array.isArray(node))
    return node.map((v, i) => interpolateTree(v, env, `${path}[${i}]`, findings));
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node))
      out[k] = interpolateTree(v, env, `${path}.${k}`, findings);
    return out;
  }
  return node;
}

function loadSchema() {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('dclint/package.json');
  const schema = JSON.parse(
    readFileSync(join(dirname(pkg), 'schemas', 'compose.schema.json'), 'utf8'),
  );
  // The file names draft-07 by a URI ajv does not register; ajv's default dialect is draft-07.
  delete schema.$schema;
  return schema;
}

let validateCompose;
function schemaFindings(doc) {
  if (!validateCompose) {
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    validateCompose = ajv.compile(loadSchema());
  }
  if (validateCompose(doc)) return [];
  return validateCompose.errors.map(
    (e) =>
      `schema: ${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
  );
}

const asList = (v) => (Array.isArray(v) ? v : []);
const envOf = (service) => {
  const env = service.environment;
  if (Array.isArray(env))
    return Object.fromEntries(
      env.map((e) => {
        const i = String(e).indexOf('=');
        return i < 0 ? [e, undefined] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  return { ...(env ?? {}) };
};
const refName = (ref) => (typeof ref === 'string' ? ref : ref?.source);
/** Where a secret lands in the container. */
const secretPath = (ref) => {
  const target = typeof ref === 'string' ? ref : (ref.target ?? ref.source);
  return isAbsolute(target) ? target : `/run/secrets/${target}`;
};
/** The customer of a service `<role>-<customer>` (or `postgres-<customer>-standby`). */
const customerOf = (name) =>
  /^(?:relay|portal|postgres|redis)-([a-z][a-z0-9]*)$|^postgres-([a-z][a-z0-9]*)-standby$/
    .exec(name)
    ?.slice(1)
    .find(Boolean);
const appOf = (name) => /^(relay|portal)-/.exec(name)?.[1];

// ---------------------------------------------------------------------------------------------
// the stack

/**
 * Checks a stack file's text; returns findings (strings). `env` feeds interpolation;
 * `stackDir` resolves configs' `file:`; `root` is the repository (app sources).
 */
export function checkStack(text, { env = {}, stackDir = '.', root = ROOT, release = false } = {}) {
  const findings = [];
  let raw;
  try {
    // YAML 1.1 as Docker reads it: `0400` is octal, `<<` merges anchors.
    raw = parseYaml(text, { version: '1.1', merge: true, maxAliasCount: 1000 });
  } catch (error) {
    return [`yaml: ${error.message}`];
  }
  if (!raw || typeof raw !== 'object') return ['yaml: not a mapping'];
  const doc = interpolateTree(raw, env, '', findings);
  findings.push(...schemaFindings(doc));

  for (const key of Object.keys(doc))
    if (!STACK_TOP_LEVEL.has(key) && !key.startsWith('x-'))
      findings.push(`${key}: top-level key that docker stack deploy refuses`);

  const services = doc.services ?? {};
  const declared = {
    secrets: new Set(Object.keys(doc.secrets ?? {})),
    configs: new Set(Object.keys(doc.configs ?? {})),
    volumes: new Set(Object.keys(doc.volumes ?? {})),
    networks: new Set(Object.keys(doc.networks ?? {})),
  };
  const used = { secrets: new Set(), configs: new Set(), volumes: new Set(), networks: new Set() };
  const appEnv = Object.fromEntries(
    Object.entries(APPS).map(([app, spec]) => [app, envReadBy(join(root, spec.sources))]),
  );
  const customers = new Map(); // customer → set of roles
  const networkCustomers = new Map(); // network → set of customers
  const secretCustomers = new Map(); // secret → set of customers (edge excluded)

  for (const [name, service] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!service || typeof service !== 'object') continue; // the schema reports it
    for (const key of SWARM_IGNORED)
      if (key in service) findings.push(`${at}.${key}: ignored by docker stack deploy`);

    // references
    for (const ref of asList(service.secrets)) {
      const source = refName(ref);
      used.secrets.add(source);
      if (!declared.secrets.has(source)) findings.push(`${at}.secrets: ${source} is not declared`);
    }
    for (const ref of asList(service.configs)) {
      const source = refName(ref);
      used.configs.add(source);
      if (!declared.configs.has(source)) findings.push(`${at}.configs: ${source} is not declared`);
    }
    for (const v of asList(service.volumes)) {
      const source =
        typeof v === 'string' ? v.split(':')[0] : v.type === 'volume' ? v.source : undefined;
      if (typeof v === 'string' || v.type === 'bind')
        findings.push(
          `${at}.volumes: bind mount ${typeof v === 'string' ? v : v.source} (use a named volume: tasks move between nodes)`,
        );
      if (source && !source.startsWith('/') && !source.startsWith('.')) {
        used.volumes.add(source);
        if (!declared.volumes.has(source))
          findings.push(`${at}.volumes: ${source} is not declared`);
      }
    }
    const nets = Array.isArray(service.networks)
      ? service.networks
      : Object.keys(service.networks ?? {});
    if (nets.length === 0)
      findings.push(`${at}: on no declared network (would join the default one)`);
    for (const net of nets) {
      used.networks.add(net);
      if (!declared.networks.has(net)) findings.push(`${at}.networks: ${net} is not declared`);
    }

    // health, limits, policies, placement
    const hc = service.healthcheck;
    if (!hc || hc.disable === true || !hc.test || (Array.isArray(hc.test) && hc.test[0] === 'NONE'))
      findings.push(`${at}: no healthcheck`);
    const deploy = service.deploy ?? {};
    const limits = deploy.resources?.limits ?? {};
    if (limits.cpus === undefined) findings.push(`${at}: no deploy.resources.limits.cpus`);
    if (limits.memory === undefined) findings.push(`${at}: no deploy.resources.limits.memory`);
    if (!deploy.resources?.reservations?.memory)
      findings.push(`${at}: no deploy.resources.reservations.memory`);
    if (!deploy.restart_policy?.condition)
      findings.push(`${at}: no deploy.restart_policy.condition`);
    if (!deploy.update_config?.order || !deploy.update_config?.failure_action)
      findings.push(`${at}: deploy.update_config needs order and failure_action`);
    if (asList(deploy.placement?.constraints).length === 0)
      findings.push(`${at}: no placement constraints`);
    // The schema admits strings here (for interpolation); Swarm needs a number after it.
    if (deploy.replicas !== undefined && !/^\d+$/.test(String(deploy.replicas)))
      findings.push(`${at}.deploy.replicas: "${deploy.replicas}" is not a number`);

    // images pinned by digest
    const rawImage = raw.services?.[name]?.image;
    if (typeof rawImage !== 'string') findings.push(`${at}: no image`);
    else {
      const image = service.image;
      if (!/^[^@\s]+:[^@:/\s]+@sha256:[0-9a-f]{64}$/.test(image ?? ''))
        findings.push(`${at}.image: "${image}" is not pinned as name:tag@sha256:<digest>`);
      else if (release && /@sha256:0{64}$/.test(image))
        findings.push(`${at}.image: placeholder digest (all zeros) in a release`);
      if (/\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\{[A-Za-z_][A-Za-z0-9_]*:?-/.test(rawImage))
        findings.push(`${at}.image: use \${VAR:?message} so an unset variable stops the deploy`);
    }

    // data stores: no published ports, internal networks only
    const isStore =
      /(^|\/)(postgres|redis)[:@]/.test(service.image ?? '') || /^(postgres|redis)-/.test(name);
    if (isStore) {
      if (asList(service.ports).length > 0)
        findings.push(`${at}.ports: a data store must not publish ports`);
      for (const net of nets)
        if (doc.networks?.[net] && doc.networks[net].internal !== true)
          findings.push(
            `${at}.networks: ${net} is not internal (a data store reachable from outside its customer)`,
          );
    }
    if (asList(service.ports).length > 0 && name !== 'edge')
      findings.push(`${at}.ports: only the edge service publishes ports`);

    // owner-only secrets must be readable by the service's user
    const uid = typeof service.user === 'string' ? service.user.split(':')[0] : undefined;
    for (const ref of asList(service.secrets)) {
      if (typeof ref === 'string') continue;
      const mode = ref.mode ?? 0o444;
      if (/\.key$/.test(ref.target ?? '') && (mode & 0o077) !== 0)
        findings.push(
          `${at}.secrets: ${ref.source} → ${ref.target} is a key file with mode ${mode.toString(8)}; @fluxel/crypto refuses keys readable by group or others (0400)`,
        );
      if ((mode & 0o004) === 0 && uid !== undefined && String(ref.uid ?? '0') !== uid)
        findings.push(
          `${at}.secrets: ${ref.source} has mode ${mode.toString(8)} but uid ${ref.uid ?? '0'}; the service runs as ${uid}`,
        );
    }

    // per customer
    const customer = customerOf(name);
    if (name !== 'edge' && !customer)
      findings.push(
        `${at}: name is not <role>-<customer> (relay|portal|postgres|redis) or postgres-<customer>-standby`,
      );
    if (customer) {
      const roles = customers.get(customer) ?? new Set();
      roles.add(name.split('-')[0]);
      customers.set(customer, roles);
      for (const net of nets) {
        const set = networkCustomers.get(net) ?? new Set();
        set.add(customer);
        networkCustomers.set(net, set);
      }
      for (const ref of asList(service.secrets)) {
        const source = refName(ref);
        const set = secretCustomers.get(source) ?? new Set();
        set.add(customer);
        secretCustomers.set(source, set);
        if (!source.startsWith(`${customer}_`))
          findings.push(
            `${at}.secrets: ${source} is not one of customer ${customer}'s secrets (${customer}_…)`,
          );
      }
    }

    // the apps' environment
    const app = appOf(name);
    if (app) checkAppEnv(app, at, service, appEnv[app], findings);
  }

  for (const kind of ['secrets', 'configs', 'volumes', 'networks'])
    for (const name of declared[kind])
      if (!used[kind].has(name)) findings.push(`${kind}.${name}: declared but not used`);
  for (const [name, secret] of Object.entries(doc.secrets ?? {})) {
    if (secret?.file)
      findings.push(
        `secrets.${name}: from a file; create secrets outside the repository (external: true)`,
      );
  }
  for (const [name, config] of Object.entries(doc.configs ?? {})) {
    if (config?.file && !existsSync(resolve(stackDir, config.file)))
      findings.push(`configs.${name}: ${config.file} does not exist`);
  }
  for (const [net, set] of networkCustomers)
    if (set.size > 1) findings.push(`networks.${net}: shared by customers ${[...set].join(', ')}`);
  for (const [secret, set] of secretCustomers)
    if (set.size > 1) findings.push(`secrets.${secret}: used by customers ${[...set].join(', ')}`);
  for (const [customer, roles] of customers)
    for (const role of ['relay', 'portal', 'postgres', 'redis'])
      if (!roles.has(role)) findings.push(`customer ${customer}: no ${role}-${customer} service`);
  for (const [net, def] of Object.entries(doc.networks ?? {})) {
    if (def?.driver !== 'overlay') findings.push(`networks.${net}: driver is not overlay`);
    if (def?.driver_opts?.encrypted !== 'true' && def?.driver_opts?.encrypted !== true)
      findings.push(`networks.${net}: not encrypted (driver_opts.encrypted)`);
  }

  // PostgreSQL standbys: of their customer's primary, on another node, and used by the apps.
  for (const [name, service] of Object.entries(services)) {
    const c = /^postgres-([a-z][a-z0-9]*)$/.exec(name)?.[1];
    if (!c || !service || typeof service !== 'object') continue;
    const standbyName = `postgres-${c}-standby`;
    const standby = services[standbyName];
    if (!standby) {
      if (envOf(service).POSTGRES_SYNCHRONOUS_STANDBY)
        findings.push(
          `services.${name}.environment: POSTGRES_SYNCHRONOUS_STANDBY without a ${standbyName} service (every commit would wait for it)`,
        );
      continue;
    }
    const at = `services.${standbyName}`;
    if (envOf(standby).POSTGRES_PRIMARY_HOST !== name)
      findings.push(`${at}.environment: POSTGRES_PRIMARY_HOST is not ${name}`);
    const where = (svc) => JSON.stringify([...asList(svc.deploy?.placement?.constraints)].sort());
    if (where(standby) === where(service))
      findings.push(
        `${at}.deploy.placement: the same constraints as ${name} (a standby on the primary's node survives nothing)`,
      );
    for (const app of ['relay', 'portal']) {
      const url = envOf(services[`${app}-${c}`] ?? {}).DATABASE_URL ?? '';
      if (
        url &&
        !(url.includes(`${standbyName}:`) && /[?&]target_session_attrs=read-write(&|$)/.test(url))
      )
        findings.push(
          `services.${app}-${c}.environment: DATABASE_URL does not list ${standbyName} with target_session_attrs=read-write (it would never move to the promoted standby)`,
        );
    }
  }

  // relay: one audit writer per volume
  for (const [name, service] of Object.entries(services)) {
    if (appOf(name) !== 'relay' || !service || typeof service !== 'object') continue;
    if (service.deploy?.update_config?.order !== 'stop-first')
      findings.push(
        `services.${name}.deploy.update_config.order: stop-first (the audit volume takes one writer)`,
      );
    const auditMount = asList(service.volumes).find(
      (v) => typeof v === 'object' && v.target === `${envOf(service).RELAY_DATA_DIR}/audit`,
    );
    if (!auditMount)
      findings.push(
        `services.${name}: no volume at $RELAY_DATA_DIR/audit (the audit log would die with the container)`,
      );
    else if (!String(doc.volumes?.[auditMount.source]?.name ?? '').includes('{{.Task.Slot}}'))
      findings.push(
        `volumes.${auditMount.source}: name without {{.Task.Slot}}: replicas would share one audit log`,
      );
  }
  return findings;
}

function checkAppEnv(app, at, service, readBySource, findings) {
  const spec = APPS[app];
  const env = envOf(service);
  const has = (n) => env[n] !== undefined || env[`${n}_FILE`] !== undefined;
  const secretPaths = new Set(asList(service.secrets).map(secretPath));

  for (const n of spec.required) {
    if (!readBySource.has(n))
      findings.push(
        `check-deploy: ${app} sources no longer read ${n}; update APPS.${app}.required`,
      );
    if (!has(n)) findings.push(`${at}.environment: ${n} is required`);
  }
  if (env.DATABASE_URL !== undefined && !/:[^@/]*@/.test(env.DATABASE_URL) && !has('PGPASSWORD'))
    findings.push(
      `${at}.environment: DATABASE_URL has no password and PGPASSWORD(_FILE) is not set`,
    );
  if (env.DATABASE_URL && /:\/\/[^/]*:[^@/]+@/.test(env.DATABASE_URL))
    findings.push(
      `${at}.environment: DATABASE_URL carries a password in plain text; use PGPASSWORD_FILE`,
    );
  // TLS to PostgreSQL, verified: on hosts without ESP the overlays carry it in the clear.
  if (env.DATABASE_URL) {
    const params = new URLSearchParams(env.DATABASE_URL.split('?')[1] ?? '');
    if (params.get('sslmode') !== 'verify-full')
      findings.push(
        `${at}.environment: DATABASE_URL without sslmode=verify-full (add it, with sslrootcert=<the customer's internal CA>)`,
      );
    else if (!secretPaths.has(params.get('sslrootcert') ?? ''))
      findings.push(
        `${at}.environment: DATABASE_URL's sslrootcert is not a secret mounted in the service`,
      );
  }
  for (const [n, v] of Object.entries(spec.values)) {
    if (!readBySource.has(n)) continue; // not (or no longer) read: nothing to pin
    if (String(env[n]) !== v) findings.push(`${at}.environment: ${n} must be "${v}" in production`);
  }
  for (const n of spec.forbidden)
    if (has(n)) findings.push(`${at}.environment: ${n} is for development only`);
  for (const [n, needs] of Object.entries(spec.together))
    if (has(n))
      for (const m of needs) if (!has(m)) findings.push(`${at}.environment: ${n} needs ${m}`);

  const known = (n) =>
    readBySource.has(n) || RUNTIME_ENV.has(n) || LIBRARY_ENV.has(n) || n === 'NODE_ENV';
  for (const [n, v] of Object.entries(env)) {
    const base = n.endsWith('_FILE') ? n.slice(0, -5) : undefined;
    if (base !== undefined && known(base)) {
      if (env[base] !== undefined) findings.push(`${at}.environment: both ${base} and ${n}`);
      if (!secretPaths.has(v))
        findings.push(`${at}.environment: ${n}=${v} is not a secret mounted in this service`);
      continue;
    }
    if (!known(n)) findings.push(`${at}.environment: ${n} is read by nothing (typo?)`);
    if (/(TOKEN|PASS|PASSWORD|SECRET|SECRET_ACCESS_KEY)$/.test(n) && v !== undefined)
      findings.push(`${at}.environment: ${n} in plain text; use ${n}_FILE with a Docker secret`);
  }

  // Files the app creates when missing: a per-container KEK or pepper would make data sealed
  // by one task unreadable to the next, so they must come from secrets.
  const expect = [];
  const dir = env[spec.dataDir];
  if (dir) for (const f of spec.files) expect.push(posix.join(dir, f));
  for (const path of expect)
    if (!secretPaths.has(path))
      findings.push(
        `${at}.secrets: nothing mounted at ${path} (the app would create its own per container)`,
      );
  for (const n of spec.mountedPaths)
    if (env[n] !== undefined && !secretPaths.has(env[n]))
      findings.push(`${at}.environment: ${n}=${env[n]} is not a secret mounted in this service`);
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles

/**
 * The data-store images (deploy/docker/postgres.Dockerfile, redis.Dockerfile) install Debian's
 * packages on a base image: one stage, no pnpm. Every other Dockerfile builds a Node app.
 */
const DATA_STORE_DOCKERFILES = new Set(['postgres.Dockerfile', 'redis.Dockerfile']);

/** hadolint-like basics for one Dockerfile's text; `app: false` for a data-store image. */
export function checkDockerfile(text, where, root = ROOT, { app = true } = {}) {
  const findings = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(
    lines.filter((l) => /^ARG\s+\w+=/.test(l)).map((l) => l.replace(/^ARG\s+/, '').split('=')),
  );
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  if (app && froms.length < 2) findings.push(`${where}: not multi-stage`);
  // An ARG's default may name an earlier ARG (ARG NODE_BUILD_IMAGE=${NODE_IMAGE}).
  const resolveArg = (value, depth = 0) =>
    depth > 5
      ? value
      : value.replace(/^\$\{?(\w+)\}?$/, (_, a) =>
          args[a] === undefined ? `$${a}` : resolveArg(args[a], depth + 1),
        );
  for (const from of froms) {
    const image = resolveArg(from.split(/\s+/)[1]);
    if (
      /^[a-z0-9]+$/i.test(from.split(/\s+/)[1]) &&
      froms.some((f) => new RegExp(`\\sAS\\s+${from.split(/\s+/)[1]}$`, 'i').test(f))
    )
      continue; // a stage
    if (!/[:@]/.test(image) || /:latest$/.test(image))
      findings.push(`${where}: FROM ${image} is not pinned to a version`);
  }
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const finalStage = lines.slice(lastFrom);
  const user = finalStage.filter((l) => /^USER\s/i.test(l)).pop();
  if (!user) findings.push(`${where}: final stage has no USER (runs as root)`);
  else if (/^USER\s+(root|0)(:|$)/i.test(user)) findings.push(`${where}: final stage runs as root`);
  if (!finalStage.some((l) => /^HEALTHCHECK\s/i.test(l))) findings.push(`${where}: no HEALTHCHECK`);
  for (const l of lines) {
    if (/^ADD\s+https?:/i.test(l))
      findings.push(`${where}: ADD from a URL (use a pinned, verified download)`);
    if (/\bsudo\b/.test(l)) findings.push(`${where}: sudo`);
    if (/apt-get\s+install/.test(l) && !/--no-install-recommends/.test(l))
      findings.push(`${where}: apt-get install without --no-install-recommends`);
    if (/^(CMD|ENTRYPOINT)\s+[^[]/i.test(l))
      findings.push(
        `${where}: ${l.split(/\s/)[0]} in shell form (signals do not reach the process)`,
      );
    if (/^COPY\s/i.test(l) && !/--from=/.test(l)) {
      const parts = l
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1))
        if (!src.includes('*') && src !== '.' && !existsSync(join(root, src)))
          findings.push(`${where}: COPY ${src} does not exist`);
    }
  }
  if (app && !lines.some((l) => /pnpm\s+.*\bdeploy\b/.test(l)))
    findings.push(`${where}: does not use pnpm deploy`);
  if (app && !lines.some((l) => /--frozen-lockfile/.test(l)))
    findings.push(`${where}: installs without --frozen-lockfile`);
  return findings;
}

// ---------------------------------------------------------------------------------------------
// CLI

export function run(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: 'string', default: 'deploy/swarm/stack.yml' },
      env: { type: 'string', default: 'deploy/swarm/images.env.example' },
      release: { type: 'boolean', default: false },
    },
  });
  const stackPath = resolve(ROOT, values.stack);
  const envPath = resolve(ROOT, values.env);
  const env = parseEnvFile(readFileSync(envPath, 'utf8'));
  const findings = checkStack(readFileSync(stackPath, 'utf8'), {
    env,
    stackDir: dirname(stackPath),
    release: values.release,
  });
  const dockerDir = join(ROOT, 'deploy', 'docker');
  const dockerfiles = existsSync(dockerDir)
    ? readdirSync(dockerDir).filter((f) => f.endsWith('.Dockerfile'))
    : [];
  for (const f of dockerfiles) {
    const path = join(dockerDir, f);
    findings.push(
      ...checkDockerfile(readFileSync(path, 'utf8'), relative(ROOT, path), ROOT, {
        app: !DATA_STORE_DOCKERFILES.has(f),
      }),
    );
    // The build context is the repository: dev data directories hold KEKs and secrets.
    const ignore = `${path}.dockerignore`;
    const patterns = existsSync(ignore)
      ? readFileSync(ignore, 'utf8')
          .split('\n')
          .map((l) => l.trim())
      : [];
    for (const must of ['**/.data', '**/node_modules', '.git'])
      if (!patterns.includes(must))
        findings.push(`${relative(ROOT, ignore)}: does not exclude ${must}`);
  }
  for (const f of ['entrypoint.sh', 'postgres-entrypoint.sh'])
    if (existsSync(join(dockerDir, f)) && (statSync(join(dockerDir, f)).mode & 0o111) === 0)
      findings.push(`deploy/docker/${f}: not executable`);
  for (const line of findings) console.log(`check-deploy: ${line}`);
  const services = Object.keys(
    parseYaml(readFileSync(stackPath, 'utf8'), { version: '1.1', merge: true }).services ?? {},
  );
  console.log(
    `check-deploy: ${relative(ROOT, stackPath)} (${services.length} services) and ${dockerfiles.length} Dockerfiles — ${findings.length === 0 ? 'ok' : `${findings.length} finding(s)`}`,
  );
  return findings.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = run();
  } catch (error) {
    console.error(`check-deploy: ${error.message}`);
    process.exitCode = 2;
  }
}
