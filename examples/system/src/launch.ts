/**
 * The launcher: relay, counterpart, portal (and agents) as real child processes over real
 * HTTPS, each with its own data folder under one root, its own ports (ephemeral unless fixed),
 * readiness from the line each prints, and a clean stop (SIGTERM, then SIGKILL after a bound).
 *
 * Used by the `pnpm dev` demo (`demo.ts`, fixed ports), the end-to-end suite (`test/`,
 * ephemeral ports, temp folders) and the load/fault suite (`load/`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type LicenseAdminClient, licenseAdminClient } from './admin.ts';
import { candidatePort, saysAddressInUse } from './ports.ts';
import { runOnce, Service } from './proc.ts';

/** The portal's relay alerts webhook (`relayAlertsContract` of the portal's alerts feature). */
const RELAY_ALERTS_PATH = '/internal/relay/v1/alerts';

export interface SystemPorts {
  /** Relay HTTPS (0 = ephemeral). */
  readonly relay: number;
  /** Relay admin gRPC (0 = ephemeral). */
  readonly admin: number;
  /** Counterpart HTTP (0 = a free port picked before the start — the relay needs it — and picked again if taken). */
  readonly counterpart: number;
  /** Portal HTTPS (0 = a free port picked before the start — it is the portal's origin — and picked again if taken). */
  readonly portal: number;
}

export interface SystemOptions {
  /** Root of every component's state (`relay/`, `portal/`, `agents/`, `logs/`, `system.json`). */
  readonly dataDir: string;
  readonly ports?: Partial<SystemPorts>;
  /** PostgreSQL for relay and portal (own schemas); unset → PGlite files under `dataDir`. */
  readonly databaseUrl?: string;
  /** Schema name prefix with `databaseUrl` (`<prefix>_relay`, `<prefix>_portal`); default `fluxel_demo`. */
  readonly databaseSchema?: string;
  /** Start the portal (default true). */
  readonly portal?: boolean;
  /** Counterpart sends a signed payment webhook this often (0/unset = only on demand). */
  readonly webhookIntervalMs?: number;
  /** More customer tenants in the portal (`id:Name`). */
  readonly extraTenants?: readonly string[];
  /** Extra environment per component (e.g. `RELAY_CLOCK_OFFSET_MS`, `RELAY_ACME_DIRECTORY`). */
  readonly env?: Partial<Record<ComponentName, Record<string, string>>>;
  /** Every output line of every component (the demo echoes some). */
  readonly onLine?: (component: string, line: string) => void;
  /**
   * Readiness bound per component (default 300 s: a bound against a hang, not a budget — PGlite's
   * first open and a cold tsx start take several times as long on a busy machine).
   */
  readonly readyTimeoutMs?: number;
  /**
   * Picks the port of a component that must know it before it starts (counterpart and portal
   * when their port is 0): default {@link candidatePort}. A picked port that another process
   * binds before the component does is picked again (up to three times in all).
   */
  readonly pickPort?: () => Promise<number>;
}

/** Starts tried when a picked port is taken before its component binds it. */
const PORT_ATTEMPTS = 3;

export type ComponentName = 'relay' | 'counterpart' | 'portal';

/** Secrets the launcher makes once and keeps in `<dataDir>/system.json` (mode 0600). */
export interface SystemSecrets {
  readonly adminToken: string;
  readonly portalToken: string;
  readonly counterpartApiKey: string;
  readonly counterpartAdminKey: string;
  readonly webhookSecret: string;
  readonly agentPassphrase: string;
  /** Signs the relay's alerts to the portal's inbox (`RELAY_ALERTS_SECRET` of both). */
  readonly alertsSecret: string;
}

export interface AgentRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly lines: string[];
  /** The `--json` answer, when asked for. */
  readonly json?: Record<string, unknown>;
}

export interface System {
  readonly dataDir: string;
  readonly secrets: SystemSecrets;
  readonly relayUrl: string;
  readonly adminAddress: string;
  readonly counterpartUrl: string;
  /** The portal's origin (undefined without a portal). */
  readonly portalUrl: string | undefined;
  /** The dev CA the relay's and portal's certificates chain to. */
  readonly caPath: string;
  readonly ca: string;
  readonly relayDataDir: string;
  readonly portalDataDir: string;
  /** The relay's audit log folder (segment files). */
  readonly relayAuditDir: string;
  readonly services: Partial<Record<ComponentName, Service>>;
  /** The first administrator's invitation token the portal printed at its first start. */
  readonly firstAdminInvitation: string | undefined;
  /** A LicenseAdmin gRPC client with the admin token (closed by `stop()`). */
  admin(): LicenseAdminClient;
  /**
   * Calls the counterpart's admin API (`/admin/outage`, `/admin/webhook`, `/admin/effects`,
   * `PUT /admin/webhook-target`).
   */
  counterpartAdmin(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown>;
  /**
   * Points the counterpart's payment webhooks at the connection's own hook URL, taken from the
   * `--json` answer of `fluxel-agent credentials put` (`webhookUrl`) or `credentials webhook`
   * (`url`) — a provider's "endpoint URL" setting.
   */
  useWebhookUrlFrom(credentialsPut: AgentRun): Promise<void>;
  /** Stops one component (SIGTERM, then SIGKILL) or kills it (`hard`). */
  stopComponent(name: ComponentName, hard?: boolean): Promise<void>;
  /** Starts a stopped component again on the same ports and data (optionally with more env). */
  startComponent(name: ComponentName, env?: Record<string, string>): Promise<void>;
  /** Runs one `fluxel-agent` command with `--config <configDir>` (file key store passphrase in env). */
  agent(
    configDir: string,
    args: readonly string[],
    env?: Record<string, string>,
  ): Promise<AgentRun>;
  /**
   * `fluxel-agent activate <licenseKey>` for `configDir` against this system's relay (its CA,
   * `--json`), with the device key in the encrypted file store unless `keyStore` says otherwise.
   */
  activateAgent(
    configDir: string,
    licenseKey: string,
    keyStore?: 'file' | 'keychain',
  ): Promise<AgentRun>;
  /**
   * `fluxel-agent credentials put shop-1` for `configDir` with the counterpart's API key and
   * webhook secret (passed through the environment, never the command line).
   */
  putAgentCredentials(configDir: string): Promise<AgentRun>;
  /** Starts `fluxel-agent run` for `configDir`; ready when it says it is running. */
  startAgent(configDir: string, env?: Record<string, string>): Promise<Service>;
  /** Stops every agent started here and every component (reverse order). */
  stop(): Promise<void>;
}

const AGENT_CLI = 'examples/agent/src/cli.ts';

function loadSecrets(dataDir: string): SystemSecrets {
  const file = join(dataDir, 'system.json');
  const stored = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<SystemSecrets>)
    : undefined;
  // A demo folder from before the alerts secret existed: keep its secrets, add the new one.
  if (stored?.adminToken && stored.alertsSecret) return stored as SystemSecrets;
  const secrets: SystemSecrets = {
    adminToken: randomBytes(32).toString('base64url'),
    portalToken: randomBytes(32).toString('base64url'),
    counterpartApiKey: `cp_${randomBytes(18).toString('base64url')}`,
    counterpartAdminKey: `cpa_${randomBytes(18).toString('base64url')}`,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    agentPassphrase: randomBytes(18).toString('base64url'),
    alertsSecret: randomBytes(32).toString('base64url'),
    ...stored,
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export async function startSystem(options: SystemOptions): Promise<System> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = loadSecrets(dataDir);
  const logDir = join(dataDir, 'logs');
  const relayDataDir = join(dataDir, 'relay');
  const portalDataDir = join(dataDir, 'portal');
  const caPath = join(relayDataDir, 'tls', 'ca.pem');
  // A bound against a hang, not a budget: on a busy machine start-up takes several times as
  // long as idle, and waiting longer is harmless (issue 21).
  const readyTimeout = options.readyTimeoutMs ?? 300_000;
  const schema = options.databaseSchema ?? 'fluxel_demo';
  const db = (suffix: string, key: string): Record<string, string> =>
    options.databaseUrl ? { DATABASE_URL: options.databaseUrl, [key]: `${schema}_${suffix}` } : {};
  const ports = {
    relay: options.ports?.relay ?? 0,
    admin: options.ports?.admin ?? 0,
    counterpart: options.ports?.counterpart ?? 0,
    portal: options.ports?.portal ?? 0,
  };
  // Components whose port the launcher picked (and may pick again), not the caller.
  const picked = new Set<'counterpart' | 'portal'>();
  const pickedPorts = new Set<number>();
  const pickPort = async (name: 'counterpart' | 'portal') => {
    const port = await (options.pickPort ?? (() => candidatePort(pickedPorts)))();
    pickedPorts.add(port);
    ports[name] = port;
    picked.add(name);
  };
  if (!ports.counterpart) await pickPort('counterpart');
  if (!ports.portal && options.portal !== false) await pickPort('portal');
  const services: Partial<Record<ComponentName, Service>> = {};
  const agents = new Set<Service>();
  const clients: LicenseAdminClient[] = [];
  let relayUrl = '';
  let adminAddress = '';
  let portalUrl: string | undefined;
  let firstAdminInvitation: string | undefined;
  const counterpartUrl = () => `http://127.0.0.1:${ports.counterpart}`;
  const line = (name: string) => (l: string) => options.onLine?.(name, l);

  const envOf = (name: ComponentName, extra: Record<string, string> = {}) => {
    const common = { ...(options.env?.[name] ?? {}), ...extra };
    switch (name) {
      case 'relay':
        return {
          RELAY_PORT: String(ports.relay),
          RELAY_ADMIN_PORT: String(ports.admin),
          RELAY_DATA_DIR: relayDataDir,
          RELAY_DEV_TOKENS: '0',
          RELAY_ADMIN_TOKEN: secrets.adminToken,
          RELAY_PORTAL_TOKEN: secrets.portalToken,
          RELAY_DEMO_LICENSE: '0',
          RELAY_LOG: '0',
          COUNTERPART_URL: counterpartUrl(),
          // The relay's alerts go to the portal's inbox (the portal's port is known before
          // either starts; an alert raised while the portal is down is retried by the relay).
          ...(ports.portal
            ? {
                RELAY_ALERTS_URL: `https://127.0.0.1:${ports.portal}${RELAY_ALERTS_PATH}`,
                RELAY_ALERTS_SECRET: secrets.alertsSecret,
              }
            : {}),
          ...db('relay', 'DATABASE_SCHEMA'),
          ...common,
        };
      case 'counterpart':
        return {
          COUNTERPART_PORT: String(ports.counterpart),
          COUNTERPART_API_KEY: secrets.counterpartApiKey,
          COUNTERPART_ADMIN_KEY: secrets.counterpartAdminKey,
          // Replaced by the connection's own hook URL once an agent stored its credentials
          // (useWebhookUrlFrom); until then webhooks are refused.
          COUNTERPART_WEBHOOK_URL: `${relayUrl}/v1/hooks/shop-1`,
          COUNTERPART_WEBHOOK_SECRET: secrets.webhookSecret,
          COUNTERPART_RELAY_CA: caPath,
          ...(options.webhookIntervalMs
            ? { COUNTERPART_WEBHOOK_INTERVAL_MS: String(options.webhookIntervalMs) }
            : {}),
          ...common,
        };
      case 'portal':
        return {
          PORTAL_DATA_DIR: portalDataDir,
          PORTAL_PORT: String(ports.portal),
          PORTAL_VITE: '0',
          RELAY_DATA_DIR: relayDataDir,
          RELAY_ADMIN_TOKEN: secrets.adminToken,
          RELAY_PORTAL_TOKEN: secrets.portalToken,
          RELAY_ADMIN_PORT: adminAddress.split(':')[1] ?? '',
          RELAY_URL: relayUrl,
          RELAY_ALERTS_SECRET: secrets.alertsSecret,
          ...(options.extraTenants?.length
            ? { PORTAL_EXTRA_TENANTS: options.extraTenants.join(',') }
            : {}),
          ...db('portal', 'PORTAL_DATABASE_SCHEMA'),
          ...common,
        };
    }
  };

  const start = async (name: ComponentName, extra?: Record<string, string>) => {
    const entry = {
      relay: 'examples/relay/src/main.ts',
      counterpart: 'examples/counterpart/src/main.ts',
      portal: 'examples/portal/src/server/dev.ts',
    }[name];
    const service = new Service({
      name,
      entry,
      cwd: resolve(import.meta.dirname, '../../', name),
      env: envOf(name, extra),
      logDir,
      onLine: line(name),
    });
    services[name] = service;
    if (name === 'relay') {
      const [, url] = (await service.waitFor(
        /relay listening on (https:\/\/\S+)/,
        readyTimeout,
      )) as string[];
      const [, admin] = (await service.waitFor(
        /admin gRPC \(LicenseAdmin\) on (\S+)/,
        readyTimeout,
      )) as string[];
      await service.waitFor(/^relay ready$/, readyTimeout);
      relayUrl = url as string;
      adminAddress = (admin as string).replace('127.0.0.1', 'localhost');
      ports.relay = Number(new URL(relayUrl).port);
      ports.admin = Number(adminAddress.split(':')[1]);
    } else if (name === 'counterpart') {
      await service.waitFor(/counterpart listening on/, readyTimeout);
    } else {
      const [, origin] = (await service.waitFor(
        /^portal: (https:\/\/\S+) \(API/,
        readyTimeout,
      )) as string[];
      await service.waitFor(/^portal ready$/, readyTimeout);
      portalUrl = origin;
      // Printed before the ready line when the portal has no user yet.
      for (const l of service.lines) {
        const match = l.match(/first administrator — open \S+\/invite\/(\S+)/);
        if (match) firstAdminInvitation = match[1];
      }
    }
  };

  const system: System = {
    dataDir,
    secrets,
    get relayUrl() {
      return relayUrl;
    },
    get adminAddress() {
      return adminAddress;
    },
    get counterpartUrl() {
      return counterpartUrl();
    },
    get portalUrl() {
      return portalUrl;
    },
    caPath,
    get ca() {
      return readFileSync(caPath, 'utf8');
    },
    relayDataDir,
    portalDataDir,
    relayAuditDir: join(relayDataDir, 'audit'),
    services,
    get firstAdminInvitation() {
      return firstAdminInvitation;
    },
    admin() {
      const client = licenseAdminClient(adminAddress, secrets.adminToken, system.ca);
      clients.push(client);
      return client;
    },
    async counterpartAdmin(method, path, body) {
      const res = await fetch(`${counterpartUrl()}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${secrets.counterpartAdminKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`counterpart ${path}: ${res.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : undefined;
    },
    async useWebhookUrlFrom(credentialsPut) {
      const url = credentialsPut.json?.webhookUrl ?? credentialsPut.json?.url;
      if (typeof url !== 'string')
        throw new Error(`credentials put printed no webhookUrl: ${credentialsPut.stdout}`);
      await system.counterpartAdmin('PUT', '/admin/webhook-target', { url });
    },
    async stopComponent(name, hard = false) {
      const service = services[name];
      if (!service) return;
      if (hard) await service.kill();
      else await service.stop();
    },
    async startComponent(name, env) {
      if (services[name]?.running) throw new Error(`${name} is running`);
      await start(name, env);
    },
    activateAgent(configDir, licenseKey, keyStore = 'file') {
      return this.agent(configDir, [
        'activate',
        licenseKey,
        '--relay',
        relayUrl,
        '--ca',
        caPath,
        '--key-store',
        keyStore,
        '--json',
      ]);
    },
    putAgentCredentials(configDir) {
      return this.agent(
        configDir,
        [
          'credentials',
          'put',
          'shop-1',
          '--field-env',
          'apiKey=CP_KEY',
          '--field-env',
          'webhookSecret=CP_WHSEC',
          '--json',
        ],
        { CP_KEY: secrets.counterpartApiKey, CP_WHSEC: secrets.webhookSecret },
      );
    },
    async agent(configDir, args, env = {}) {
      const json = args.includes('--json');
      const result = await runOnce({
        name: `agent-${args[0]}`,
        entry: AGENT_CLI,
        args: [...args, '--config', configDir],
        env: { FLUXEL_AGENT_KEY_PASSPHRASE: secrets.agentPassphrase, ...env },
        logDir,
        onLine: line('agent'),
        timeoutMs: 300_000,
      });
      let parsed: Record<string, unknown> | undefined;
      if (json)
        for (const l of result.lines)
          try {
            const v = JSON.parse(l) as Record<string, unknown>;
            if (typeof v === 'object' && v && 'ok' in v) parsed = v;
          } catch {}
      return { ...result, ...(parsed ? { json: parsed } : {}) };
    },
    async startAgent(configDir, env = {}) {
      const service = new Service({
        name: 'agent',
        entry: AGENT_CLI,
        args: ['run', '--config', configDir],
        env: { FLUXEL_AGENT_KEY_PASSPHRASE: secrets.agentPassphrase, ...env },
        logDir,
        onLine: line('agent'),
      });
      agents.add(service);
      void service.exited.then(() => agents.delete(service));
      await service.waitFor(/running: watching/, readyTimeout);
      return service;
    },
    async stop() {
      for (const c of clients.splice(0)) c.close();
      await Promise.all([...agents].map((a) => a.stop()));
      for (const name of ['portal', 'counterpart', 'relay'] as const) await services[name]?.stop();
    },
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await start('relay');
      await start('counterpart');
      if (options.portal !== false) await start('portal');
      return system;
    } catch (error) {
      await system.stop();
      // A picked port taken between the pick and the bind: pick it again and start over (the
      // relay is told both ports at its start).
      const lost = [...picked].find((name) => {
        const service = services[name];
        return service !== undefined && !service.running && saysAddressInUse(service.lines);
      });
      if (!lost || attempt >= PORT_ATTEMPTS) throw error;
      await pickPort(lost);
      ports.relay = options.ports?.relay ?? 0;
      ports.admin = options.ports?.admin ?? 0;
      for (const name of ['relay', 'counterpart', 'portal'] as const) delete services[name];
    }
  }
}
