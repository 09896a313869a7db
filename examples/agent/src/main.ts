/**
 * `fluxel-agent`: activate, status, run, outbox, credentials, deactivate. `main(argv, io)`
 * does everything and returns the exit code; `cli.ts` wires it to the process.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateDeviceKey } from '@fluxel/license';
import { parseLicenseKey } from '@fluxel/license/key';
import {
  FileOutboxStore,
  MAX_SEND_BATCH_ITEMS,
  type NodeRelayClient,
  Outbox,
  type OutboxMessage,
} from '@fluxel/relay-client/node';
import { type Logger, pino } from 'pino';
import {
  type AgentConfig,
  type AgentPaths,
  agentPaths,
  defaultConfigDir,
  ensureFolders,
  FileTokenStore,
  type KeyStoreKind,
  loadConfig,
  requireConfig,
  saveConfig,
  writeFileAtomic,
} from './config.ts';
import { isStorageFailure, waitUntilWritable } from './disk-full.ts';
import { fileOf } from './drop.ts';
import { AgentError, EXIT, errorCode } from './errors.ts';
import { openKeyStore } from './keystore.ts';
import { enqueueConverted, legacyEnvelope } from './legacy.ts';
import { checkRelayUrl, openClient, probeTls, type TlsReport } from './relay.ts';
import { openRuntime, type RuntimeOptions, runService } from './service.ts';

export interface AgentIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ends `run` (SIGINT/SIGTERM in the CLI). */
  readonly signal?: AbortSignal;
  /** Clock in ms (outbox schedule), for tests. */
  readonly now?: () => number;
}

export const DEFAULT_RELAY_URL = 'https://127.0.0.1:8443';

export const USAGE = `usage: fluxel-agent <command> [options]

commands:
  activate <license-key> [--relay URL] [--ca FILE] [--pin SHA256]... [--key-store keychain|file]
  status
  run [--once] [--batch N]   N records per request to the relay (1–100, default 100; 1 sends each alone)
  outbox list | outbox retry <id> | outbox drop <id>
  credentials put <connection> [--kind api-key|basic|oauth-client] --field NAME=VALUE | --field-env NAME=ENV_VAR ...
  credentials delete <connection>
  credentials webhook <connection>   the connection's own webhook URL, for the third party
  deactivate [--force]

global options:
  --config DIR   configuration folder (default: $FLUXEL_AGENT_CONFIG or the per-user app folder)
  --json         machine-readable output on stdout
  --help

exit codes: 0 ok, 1 failure, 2 usage, 3 not activated
file key store passphrase: FLUXEL_AGENT_KEY_PASSPHRASE`;

interface Ctx {
  readonly io: AgentIo;
  readonly json: boolean;
  readonly paths: AgentPaths;
  out(human: string, data: Record<string, unknown>): void;
  log(line: string, fields?: Record<string, unknown>): void;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      config: { type: 'string' },
      relay: { type: 'string' },
      ca: { type: 'string' },
      pin: { type: 'string', multiple: true },
      'key-store': { type: 'string' },
      once: { type: 'boolean' },
      batch: { type: 'string' },
      force: { type: 'boolean' },
      kind: { type: 'string' },
      field: { type: 'string', multiple: true },
      'field-env': { type: 'string', multiple: true },
    },
  });
}

type Parsed = ReturnType<typeof parse>;

const ALLOWED: Record<string, readonly string[]> = {
  activate: ['relay', 'ca', 'pin', 'key-store'],
  status: [],
  run: ['once', 'batch'],
  outbox: [],
  credentials: ['kind', 'field', 'field-env'],
  deactivate: ['force'],
};

function usage(message: string): never {
  throw new AgentError('ERR_AGENT_USAGE', `${message}\n\n${USAGE}`, EXIT.usage);
}

export async function main(argv: readonly string[], io: AgentIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    const text = `${(error as Error).message}\n\n${USAGE}`;
    if (argv.includes('--json'))
      io.stdout(`${JSON.stringify({ ok: false, code: 'ERR_AGENT_USAGE', message: text })}\n`);
    else io.stderr(`${text}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  let logger: Logger | undefined;
  const ctx: Ctx = {
    io,
    json,
    paths: agentPaths(values.config ? resolve(values.config) : defaultConfigDir(io.env)),
    out(human, data) {
      if (json) io.stdout(`${JSON.stringify({ ok: true, ...data })}\n`);
      else if (human) io.stdout(`${human}\n`);
    },
    log(line, fields) {
      // --json: structured pino lines on stderr (ids and codes only; never payloads or secrets).
      if (json) {
        logger ??= pino(
          { base: { name: 'fluxel-agent' } },
          { write: (text: string) => io.stderr(text) },
        );
        logger.info(fields ?? {}, line);
      } else io.stdout(`${line}\n`);
    },
  };
  try {
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      io.stdout(`${USAGE}\n`);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const allowed = ALLOWED[command];
    if (!allowed) usage(`unknown command: ${command}`);
    for (const [name, value] of Object.entries(values))
      if (value !== undefined && !['json', 'help', 'config', ...allowed].includes(name))
        usage(`--${name} does not apply to ${command}`);
    switch (command) {
      case 'activate':
        return await activate(ctx, rest, values);
      case 'status':
        return await status(ctx, rest);
      case 'run':
        return await run(ctx, rest, values.once === true, batchSize(values.batch));
      case 'outbox':
        return await outboxCommand(ctx, rest);
      case 'credentials':
        return await credentials(ctx, rest, values);
      default:
        return await deactivate(ctx, rest, values.force === true);
    }
  } catch (error) {
    const code = errorCode(error) ?? 'ERR_AGENT_INTERNAL';
    const exit = error instanceof AgentError ? error.exitCode : EXIT.failure;
    const message = error instanceof Error ? error.message : String(error);
    if (json) io.stdout(`${JSON.stringify({ ok: false, code, message })}\n`);
    else io.stderr(`fluxel-agent: ${message}${code.startsWith('ERR_AGENT') ? '' : ` [${code}]`}\n`);
    return exit;
  }
}

async function connect(ctx: Ctx, config: AgentConfig) {
  const store = await openKeyStore(config.keyStore, ctx.paths, ctx.io.env);
  const privateJwk = await store.load(config.keyName);
  if (!privateJwk)
    throw new AgentError(
      'ERR_AGENT_DEVICE_KEY_MISSING',
      `the device key "${config.keyName}" is gone from ${store.location}; this machine can no longer prove it is the activated device (ask for a rebind, then deactivate and activate again)`,
      1,
    );
  const opened = openClient({
    relayUrl: config.relayUrl,
    trust: { caPath: config.caPath, pins: config.pins },
    privateJwk,
    tokens: new FileTokenStore(ctx.paths.tokens),
    env: ctx.io.env,
  });
  return { ...opened, store };
}

function noExtra(rest: readonly string[], n = 0): void {
  if (rest.length > n) usage(`unexpected argument: ${rest[n]}`);
}

// --- activate ---------------------------------------------------------------------------

async function activate(ctx: Ctx, rest: readonly string[], values: Parsed['values']) {
  const [typed] = rest;
  if (!typed) usage('activate needs the license key');
  noExtra(rest, 1);
  const kind = (values['key-store'] ?? 'keychain') as KeyStoreKind;
  if (kind !== 'keychain' && kind !== 'file') usage('--key-store must be keychain or file');
  // 1. The check characters, before anything touches the network or a key store.
  let canonical: string;
  try {
    canonical = parseLicenseKey(typed).canonical;
  } catch (error) {
    throw new AgentError(
      'ERR_LICENSE_INVALID_KEY',
      `${(error as Error).message} — check the key as printed on your license`,
      EXIT.failure,
    );
  }
  const relayUrl = checkRelayUrl(values.relay ?? DEFAULT_RELAY_URL).href.replace(/\/+$/, '');
  const caPath = values.ca ? resolve(values.ca) : undefined;
  const pins = (values.pin ?? []).map((p) => p.replace(/^sha256\//, ''));
  for (const pin of pins)
    if (!/^[A-Za-z0-9+/]{43}=$/.test(pin))
      usage(`--pin must be a base64 SHA-256 SPKI digest (sha256/…=), got ${pin}`);
  if (caPath && !existsSync(caPath))
    throw new AgentError('ERR_AGENT_CA', `no such file: ${caPath}`);
  const paths = ctx.paths;
  if (loadConfig(paths))
    throw new AgentError(
      'ERR_AGENT_ALREADY_ACTIVATED',
      `${paths.root} is already activated; run "fluxel-agent deactivate" first to start over`,
    );
  // 2. The device key, in the chosen store. After an activation whose answer was lost, the
  // same key is used again: the relay lets the bound device repeat its activation.
  const store = await openKeyStore(kind, paths, ctx.io.env);
  const pending = readPending(paths, kind);
  const keyName = pending ?? `agent-${randomBytes(6).toString('hex')}`;
  const { privateJwk } = await loadOrCreateDeviceKey(store, keyName);
  const tokens = new FileTokenStore(paths.tokens);
  const { client, device } = openClient({
    relayUrl,
    trust: { caPath, pins },
    privateJwk,
    tokens,
    env: ctx.io.env,
  });
  try {
    // 3. The one and only time the license key leaves this machine.
    const result = await client.activate.safe({ body: { licenseKey: canonical } });
    if (!result.ok) {
      const e = result.error;
      if (e.status === 403 || e.status === 409 || e.status === 404) {
        // A definite refusal: nothing is bound to this key; remove it again.
        await store.delete(keyName).catch(() => false);
        rmSync(paths.tokens, { force: true });
        rmSync(paths.pending, { force: true });
        throw new AgentError(
          'ERR_LICENSE_ACTIVATION_FAILED',
          'activation refused by the relay: this license key is already in use on another device, ' +
            'or it is unknown, locked or expired. A license key activates exactly one device; ' +
            'to move to a new machine, ask for a rebind.',
          EXIT.failure,
          { cause: e },
        );
      }
      // No answer (network, TLS, timeout, 5xx): the relay may have bound the license to this
      // key. Keep the key so that running the same command again repeats the activation.
      writeFileAtomic(
        paths.pending,
        JSON.stringify({ keyStore: kind, keyName, at: new Date().toISOString() }),
      );
      throw new AgentError(
        e.code,
        `activation did not complete: ${e.message}${e.code === 'ERR_RELAY_TLS' ? ' (check --ca / --pin)' : ''}. ` +
          'The device key is kept; run the same activate command again.',
        EXIT.failure,
        { cause: e },
      );
    }
    const config: AgentConfig = {
      version: 1,
      relayUrl,
      ...(caPath ? { caPath } : {}),
      pins,
      licenseId: result.value.licenseId,
      keyStore: kind,
      keyName,
      jkt: device.jkt,
      activatedAt: new Date().toISOString(),
    };
    ensureFolders(paths);
    saveConfig(paths, config);
    rmSync(paths.pending, { force: true });
    ctx.out(
      `activated license ${config.licenseId}\n  device key ${device.jkt} in ${store.location}\n  config ${paths.config}`,
      {
        licenseId: config.licenseId,
        jkt: device.jkt,
        keyStore: { kind: store.kind, location: store.location },
        config: paths.config,
      },
    );
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

function readPending(paths: AgentPaths, kind: KeyStoreKind): string | undefined {
  try {
    const p = JSON.parse(readFileSync(paths.pending, 'utf8')) as {
      keyStore?: string;
      keyName?: string;
    };
    return p.keyStore === kind &&
      typeof p.keyName === 'string' &&
      /^agent-[0-9a-f]{12}$/.test(p.keyName)
      ? p.keyName
      : undefined;
  } catch {
    return undefined;
  }
}

// --- status -----------------------------------------------------------------------------

interface OutboxFigures {
  source: 'store' | 'running-agent';
  depth: number;
  oldestAgeSeconds: number | null;
  dead: number;
  inFlight: number;
  deadLetters?: DeadLetterView[];
}

/** A dead letter as `status` shows it: which record, which operation, why it was refused. */
interface DeadLetterView {
  id: string;
  file: string;
  connection: string;
  operation: string;
  error?: string;
  problemCode?: string;
  detail?: string;
  /** One line for people: the problem code (or error code) and the detail (or message). */
  refused: string;
}

/** The drop file of a message: its metadata, or (written by an earlier agent) its envelope. */
function recordFile(m: OutboxMessage): string {
  return fileOf(m) || (legacyEnvelope(m)?.file ?? '');
}

/** Why a dead letter was refused, in one line: the relay's problem code and detail if any. */
function refusedBecause(m: OutboxMessage): string {
  const e = m.lastError;
  if (!e) return '';
  return `${e.problemCode ?? e.code}: ${e.detail ?? e.message}`;
}

/** The relay's refusal in a dead letter: its problem code and detail, when it sent them. */
function refusal(m: OutboxMessage): { problemCode?: string; detail?: string } {
  const e = m.lastError;
  return {
    ...(e?.problemCode !== undefined ? { problemCode: e.problemCode } : {}),
    ...(e?.detail !== undefined ? { detail: e.detail } : {}),
  };
}

async function outboxFigures(paths: AgentPaths): Promise<OutboxFigures | { error: string }> {
  let store: FileOutboxStore;
  try {
    store = await FileOutboxStore.open(paths.outbox);
  } catch (error) {
    // A running agent holds the lock; it publishes its figures in state.json.
    try {
      const state = JSON.parse(readFileSync(paths.state, 'utf8')) as {
        outbox: { depth: number; oldestEnqueuedAt?: number; dead: number; inFlight: number };
      };
      return {
        source: 'running-agent',
        depth: state.outbox.depth,
        oldestAgeSeconds: state.outbox.oldestEnqueuedAt
          ? Math.round((Date.now() - state.outbox.oldestEnqueuedAt) / 1000)
          : null,
        dead: state.outbox.dead,
        inFlight: state.outbox.inFlight,
      };
    } catch {
      return { error: (error as Error).message };
    }
  }
  try {
    const stats = await store.stats();
    const dead = await store.deadLetters();
    return {
      source: 'store',
      depth: stats.depth,
      oldestAgeSeconds: stats.oldestEnqueuedAt
        ? Math.round((Date.now() - stats.oldestEnqueuedAt) / 1000)
        : null,
      dead: stats.dead,
      inFlight: stats.inFlight,
      deadLetters: dead.map((d) => ({
        id: d.id,
        file: recordFile(d),
        connection: d.connection,
        operation: d.operation,
        ...(d.lastError ? { error: `${d.lastError.code}: ${d.lastError.message}` } : {}),
        ...refusal(d),
        refused: refusedBecause(d),
      })),
    };
  } finally {
    await store.close();
  }
}

async function status(ctx: Ctx, rest: readonly string[]) {
  noExtra(rest);
  const config = requireConfig(ctx.paths);
  const tls: TlsReport = await probeTls(config.relayUrl, {
    caPath: config.caPath,
    pins: config.pins,
  });
  const outbox = await outboxFigures(ctx.paths);
  let license: Record<string, unknown> | { error: string; code: string };
  let keyStore: { kind: string; location: string; present: boolean } | { error: string };
  let client: NodeRelayClient | undefined;
  try {
    const opened = await connect(ctx, config);
    client = opened.client;
    keyStore = { kind: opened.store.kind, location: opened.store.location, present: true };
    const s = await client.status.safe();
    license = s.ok
      ? {
          ...s.value.license,
          deviceMatches: s.value.device.jkt === config.jkt,
          mailboxPending: s.value.mailbox.pending,
          connections: s.value.connections,
        }
      : { error: s.error.message, code: s.error.code };
  } catch (error) {
    keyStore = { error: (error as Error).message };
    license = { error: 'no device key to sign with', code: errorCode(error) ?? 'ERR_AGENT' };
  } finally {
    await client?.close();
  }
  const ok =
    tls.reachable && tls.authorized === true && 'status' in license && license.status === 'active';
  const lines = [
    `license   ${config.licenseId}: ${'status' in license ? `${String(license.status)} (${String(license.product)})` : `unknown — ${license.error}`}`,
    `device    ${config.jkt}`,
    `key store ${'kind' in keyStore ? `${keyStore.kind}: ${keyStore.location}` : keyStore.error}`,
    `relay     ${config.relayUrl}: ${tls.reachable ? `reachable, ${tls.protocol}, ${tls.cipher}, ${tls.authorized ? 'certificate verified' : 'CERTIFICATE NOT TRUSTED'}${tls.pinMatched ? `, pin ${tls.pinMatched}` : ''}; ${tls.subject} issued by ${tls.issuer}, valid until ${tls.validTo}` : `unreachable (${tls.error})`}`,
    'error' in outbox
      ? `outbox    unavailable: ${outbox.error}`
      : `outbox    ${outbox.depth} waiting${outbox.oldestAgeSeconds !== null ? `, oldest ${outbox.oldestAgeSeconds}s` : ''}, ${outbox.inFlight} in flight, ${outbox.dead} dead${outbox.source === 'running-agent' ? ' (from the running agent)' : ''}`,
  ];
  if (!('error' in outbox))
    for (const d of outbox.deadLetters ?? [])
      lines.push(
        `  dead ${d.id} ${d.file || '-'} ${d.connection} ${d.operation} refused: ${d.refused}`,
      );
  ctx.out(lines.join('\n'), {
    healthy: ok,
    config: {
      dir: ctx.paths.root,
      relayUrl: config.relayUrl,
      caPath: config.caPath ?? null,
      pins: config.pins,
    },
    license,
    device: { jkt: config.jkt, keyName: config.keyName, keyStore },
    relay: tls,
    outbox,
  });
  return ok ? EXIT.ok : EXIT.failure;
}

// --- run ----------------------------------------------------------------------------------

/** `--batch N`: records per request to the relay (1–100). */
function batchSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= MAX_SEND_BATCH_ITEMS))
    usage(`--batch takes a whole number from 1 to ${MAX_SEND_BATCH_ITEMS} (records per request)`);
  return n;
}

async function run(ctx: Ctx, rest: readonly string[], once: boolean, batch?: number) {
  noExtra(rest);
  const config = requireConfig(ctx.paths);
  const { client } = await connect(ctx, config);
  try {
    const runtimeOptions: RuntimeOptions = {
      paths: ctx.paths,
      client,
      waitSeconds: once ? 0 : 25,
      log: (line, fields) => ctx.log(line, fields),
      ...(batch !== undefined ? { batchSize: batch } : {}),
      ...(ctx.io.now ? { now: ctx.io.now } : {}),
    };
    let runtime = await openRuntime(runtimeOptions);
    try {
      if (once) {
        const scanned = await runtime.scan();
        await runtime.outbox.drain();
        let mailbox: { handled: number; failed: number; error?: string };
        try {
          mailbox = await runtime.consumer.pollOnce();
        } catch (error) {
          // Not fatal for the outbox part; the next run picks the events up.
          mailbox = {
            handled: 0,
            failed: 0,
            error: `${errorCode(error) ?? 'ERR'}: ${(error as Error).message}`,
          };
          ctx.log(`mailbox: ${mailbox.error}`);
        }
        const stats = await runtime.writeState({ running: false });
        ctx.out(
          `enqueued ${scanned.enqueued}, rejected ${scanned.rejected}; outbox ${stats.depth} waiting, ${stats.dead} dead; inbox +${mailbox.handled}${mailbox.error ? ` (pickup failed: ${mailbox.error})` : ''}`,
          { ...scanned, outbox: stats, inbox: mailbox },
        );
        return mailbox.error ? EXIT.failure : EXIT.ok;
      }
      const signal = ctx.io.signal ?? new AbortController().signal;
      // After an outbox write failure (disk full): close, wait for room, reopen, go on.
      while (await runService(runtime, ctx.paths, signal, (l, f) => ctx.log(l, f))) {
        await runtime.close().catch(() => {});
        for (;;) {
          if (!(await waitUntilWritable(ctx.paths.outbox, signal))) {
            ctx.out('stopped', { stopped: true });
            return EXIT.ok;
          }
          try {
            runtime = await openRuntime(runtimeOptions);
            break;
          } catch (error) {
            if (!isStorageFailure(error)) throw error;
          }
        }
        ctx.log('outbox: writes work again; resuming', { event: 'outbox.storage-resumed' });
      }
      const stats = await runtime.writeState({ running: false });
      ctx.out('stopped', { stopped: true, outbox: stats });
      return EXIT.ok;
    } finally {
      await runtime.close();
    }
  } finally {
    await client.close();
  }
}

// --- outbox -------------------------------------------------------------------------------

async function outboxCommand(ctx: Ctx, rest: readonly string[]) {
  const [sub, id] = rest;
  if (sub !== 'list' && sub !== 'retry' && sub !== 'drop')
    usage('outbox list | retry <id> | drop <id>');
  if (sub === 'list') noExtra(rest, 1);
  else if (!id) usage(`outbox ${sub} needs a message id (see "outbox list")`);
  else noExtra(rest, 2);
  requireConfig(ctx.paths);
  let store: FileOutboxStore;
  try {
    store = await FileOutboxStore.open(ctx.paths.outbox);
  } catch (error) {
    throw new AgentError(
      errorCode(error) ?? 'ERR_AGENT_OUTBOX',
      `cannot open the outbox (${(error as Error).message}); if the agent is running, stop it first`,
    );
  }
  const outbox = new Outbox({ store });
  try {
    if (sub === 'list') {
      const view = (m: OutboxMessage, state: string) => {
        return {
          id: m.id,
          state,
          connection: m.connection,
          operation: m.operation,
          file: recordFile(m),
          idempotencyKey: legacyEnvelope(m)?.idempotencyKey ?? m.id,
          orderingKey: m.orderingKey ?? null,
          enqueuedAt: new Date(m.enqueuedAt).toISOString(),
          attempts: m.attempts,
          nextAttemptAt: new Date(m.nextAttemptAt).toISOString(),
          lastError: m.lastError ? `${m.lastError.code}: ${m.lastError.message}` : null,
          ...refusal(m),
          refused: state === 'dead' ? refusedBecause(m) : null,
        };
      };
      const messages = [
        ...(await outbox.pending()).map((m) => view(m, 'waiting')),
        ...(await outbox.deadLetters()).map((m) => view(m, 'dead')),
      ];
      ctx.out(
        messages.length === 0
          ? 'outbox is empty'
          : messages
              .map(
                (m) =>
                  `${m.id} ${m.state.padEnd(7)} ${m.connection} ${m.operation} ${m.file} attempts=${m.attempts}${m.state === 'waiting' ? ` next=${m.nextAttemptAt}` : ''}${m.lastError ? ` last=${m.lastError}` : ''}${m.state === 'dead' && m.refused ? ` refused: ${m.refused}` : ''}`,
              )
              .join('\n'),
        { messages },
      );
      return EXIT.ok;
    }
    const done =
      sub === 'retry' ? await retryDead(outbox, id as string) : await outbox.dropDead(id as string);
    if (!done)
      throw new AgentError(
        'ERR_AGENT_NOT_FOUND',
        `no dead letter with id ${id} (see "outbox list")`,
      );
    ctx.out(sub === 'retry' ? `${id} queued again` : `${id} dropped`, { id, action: sub });
    return EXIT.ok;
  } finally {
    await outbox.close();
  }
}

/** Puts a dead letter back; one written by an earlier agent version in the current form. */
async function retryDead(outbox: Outbox, id: string): Promise<boolean> {
  const legacy = (await outbox.deadLetters()).find((d) => d.id === id && legacyEnvelope(d));
  if (!legacy) return outbox.retryDead(id);
  await enqueueConverted(outbox, legacy);
  return outbox.dropDead(id);
}

// --- credentials ----------------------------------------------------------------------------

async function credentials(ctx: Ctx, rest: readonly string[], values: Parsed['values']) {
  const [sub, connection] = rest;
  if ((sub !== 'put' && sub !== 'delete' && sub !== 'webhook') || !connection)
    usage(
      'credentials put <connection> --field NAME=VALUE… | credentials delete <connection> | credentials webhook <connection>',
    );
  noExtra(rest, 2);
  const config = requireConfig(ctx.paths);
  const { client } = await connect(ctx, config);
  try {
    if (sub === 'delete') {
      await client.deleteCredentials({ connection });
      ctx.out(`credentials of ${connection} deleted`, { connection, deleted: true });
      return EXIT.ok;
    }
    if (sub === 'webhook') {
      const endpoint = await client.webhookEndpoint({ connection });
      ctx.out(webhookLines(connection, endpoint.url, endpoint.legacyUrl), endpoint);
      return EXIT.ok;
    }
    const fields: Record<string, string> = {};
    for (const f of values.field ?? []) {
      const at = f.indexOf('=');
      if (at < 1) usage(`--field must be NAME=VALUE, got a value without "="`);
      fields[f.slice(0, at)] = f.slice(at + 1);
    }
    for (const f of values['field-env'] ?? []) {
      const at = f.indexOf('=');
      if (at < 1) usage('--field-env must be NAME=ENV_VAR');
      const value = ctx.io.env[f.slice(at + 1)];
      if (value === undefined) usage(`environment variable ${f.slice(at + 1)} is not set`);
      fields[f.slice(0, at)] = value;
    }
    if (Object.keys(fields).length === 0)
      usage('credentials put needs at least one --field or --field-env');
    const kind = (values.kind ?? 'api-key') as 'api-key' | 'basic' | 'oauth-client';
    await client.putCredentials({ connection, body: { kind, fields } });
    // With a webhook secret the connection has its own webhook URL: the one to enter at the
    // third party (a relay without it answers 404; then there is nothing to show).
    const endpoint =
      fields.webhookSecret !== undefined
        ? await client.webhookEndpoint.safe({ connection })
        : undefined;
    const hook = endpoint?.ok ? endpoint.value : undefined;
    const stored = `credentials of ${connection} stored (fields: ${Object.keys(fields).join(', ')})`;
    ctx.out(hook ? `${stored}\n${webhookLines(connection, hook.url, hook.legacyUrl)}` : stored, {
      connection,
      fields: Object.keys(fields),
      ...(hook ? { webhookUrl: hook.url, legacyWebhookUrl: hook.legacyUrl } : {}),
    });
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

function webhookLines(connection: string, url: string, legacyUrl: string | null): string {
  const lines = [`webhook URL of ${connection} (enter it at the third party): ${url}`];
  if (legacyUrl)
    lines.push(
      `  ${legacyUrl} still reaches it for now (deprecated, shared by every license): switch to the URL above`,
    );
  return lines.join('\n');
}

// --- deactivate -----------------------------------------------------------------------------

async function deactivate(ctx: Ctx, rest: readonly string[], force: boolean) {
  noExtra(rest);
  const config = requireConfig(ctx.paths);
  const figures = await outboxFigures(ctx.paths);
  if ('error' in figures)
    throw new AgentError(
      'ERR_AGENT_OUTBOX',
      `cannot open the outbox (${figures.error}); stop the running agent first`,
    );
  if (figures.source === 'running-agent')
    throw new AgentError('ERR_AGENT_RUNNING', 'the agent is running; stop it first');
  if (figures.depth + figures.dead > 0 && !force)
    throw new AgentError(
      'ERR_AGENT_OUTBOX_NOT_EMPTY',
      `the outbox still holds ${figures.depth} undelivered and ${figures.dead} dead message(s); they are lost with the device key. Deliver them first, or pass --force`,
    );
  let removed = false;
  let location = '';
  try {
    const store = await openKeyStore(config.keyStore, ctx.paths, ctx.io.env);
    location = store.location;
    removed = await store.delete(config.keyName);
  } catch (error) {
    if (!force) throw error;
  }
  for (const p of [
    ctx.paths.config,
    ctx.paths.tokens,
    ctx.paths.state,
    ctx.paths.pending,
    ctx.paths.keys,
    ctx.paths.outbox,
    ctx.paths.mailbox,
  ])
    rmSync(p, { recursive: true, force: true });
  ctx.out(
    `deactivated: device key ${removed ? `removed from ${location}` : 'was not found'}, config removed from ${ctx.paths.root}. The license stays bound to this device's key at the relay; ask for a rebind to use it elsewhere.`,
    { deactivated: true, keyRemoved: removed, licenseId: config.licenseId },
  );
  return EXIT.ok;
}
