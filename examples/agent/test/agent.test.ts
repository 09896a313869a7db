/**
 * The agent end to end: the real relay and counterpart over HTTPS in this process (the relay's
 * dev CA pinned), the CLI's `main` called directly, the encrypted file key store.
 */
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDpopSigner, type PrivateJwk } from '@fluxel/license';
import { EncryptedFileKeyStore } from '@fluxel/license/node';
import { createRelayClient, FileOutboxStore, Outbox, RelayError } from '@fluxel/relay-client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateArgs,
  agent,
  dropRecords,
  type Harness,
  listDir,
  PASSPHRASE,
  READY_BOUND_MS,
  startHarness,
  tempDir,
  testEnv,
  waitFor,
} from './helpers.ts';

let h: Harness;
let licenseKey: string;
let hookUrl: string;
const dir = tempDir();
const CONNECTION = 'shop-1';

const effectsWithKeyPrefix = (order: string) =>
  h.counterpart.effects.filter(
    (e) =>
      typeof e.body === 'object' && String((e.body as { note?: string }).note).startsWith(order),
  );

function expectExactlyOnce(note: string, count: number) {
  const effects = effectsWithKeyPrefix(note);
  const byKey = new Map<string, number>();
  for (const e of effects)
    byKey.set(String(e.idempotencyKey), (byKey.get(String(e.idempotencyKey)) ?? 0) + 1);
  const notes = new Set(effects.map((e) => (e.body as { note: string }).note));
  expect(notes.size).toBe(count); // every record arrived
  expect(effects).toHaveLength(count); // and none twice
  expect(byKey.size).toBe(count);
}

/** The pino lines an agent run wrote on stderr (`--json`). */
function logLines(err: string): Record<string, unknown>[] {
  return err
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const record = (note: string) => (i: number) => ({
  connection: CONNECTION,
  operation: 'order.status',
  payload: { order: `A-${i}`, status: 'shipped', note: `${note}-${i}` },
});

beforeAll(async () => {
  h = await startHarness();
  licenseKey = await h.issueKey();
});

afterAll(async () => {
  await h?.close();
});

describe('activate', () => {
  it('a typo in the key is caught locally, before any network call or key store', async () => {
    const typo = licenseKey.replace(/-(\w)/, (_m, c: string) => `-${c === 'A' ? 'B' : 'A'}`);
    const res = await agent(activateArgs(h, typo, dir, '--json'));
    expect(res.code).toBe(1);
    expect(res.json).toMatchObject({ ok: false, code: 'ERR_LICENSE_INVALID_KEY' });
    expect(res.out).not.toContain(licenseKey.slice(4));
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
    expect(listDir(join(dir, 'keys'))).toEqual([]);
  });

  it('commands before activation exit with 3; bad usage with 2', async () => {
    expect((await agent(['status', '--config', dir])).code).toBe(3);
    expect((await agent(['run', '--once', '--config', dir])).code).toBe(3);
    expect((await agent(['outbox', 'list', '--config', dir])).code).toBe(3);
    expect((await agent(['frobnicate'])).code).toBe(2);
    expect((await agent(['status', '--bogus'])).code).toBe(2);
    expect((await agent(['activate', licenseKey, '--relay', 'http://127.0.0.1:1'])).code).toBe(2);
  });

  it('activates with the file key store; config and tokens are 0600 and hold no secret', async () => {
    const res = await agent(activateArgs(h, licenseKey, dir, '--json'));
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({ ok: true, keyStore: { kind: 'encrypted-file' } });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      relayUrl: h.relay.url,
      caPath: h.relay.tls.caPath,
      keyStore: 'file',
      licenseId: res.json.licenseId,
    });
    for (const f of ['config.json', 'tokens.json']) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, f), 'utf8')).not.toContain(licenseKey);
    }
    const keyFile = join(dir, 'keys', `${config.keyName}.key.json`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // a second activate in the same folder is refused locally
    const again = await agent(activateArgs(h, licenseKey, dir));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already activated/);
  });

  it('stores credentials through a device-bound request (values from the environment)', async () => {
    const res = await agent(
      [
        'credentials',
        'put',
        CONNECTION,
        '--field-env',
        'apiKey=CP_KEY',
        '--field-env',
        'webhookSecret=CP_HOOK',
        '--config',
        dir,
        '--json',
      ],
      { env: testEnv({ CP_KEY: 'cp-agent-test-key-4d2b', CP_HOOK: h.webhookSecret }) },
    );
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.out).not.toContain(h.webhookSecret);
    // The connection's own webhook URL, to enter at the third party.
    hookUrl = String(res.json.webhookUrl);
    expect(hookUrl).toMatch(
      new RegExp(`^${h.relay.url}/v1/hooks/${CONNECTION}/[A-Za-z0-9_-]{32,}$`),
    );
    const shown = await agent(['credentials', 'webhook', CONNECTION, '--config', dir, '--json']);
    expect(shown.json).toMatchObject({ url: hookUrl, legacyUrl: null });
  });

  it('status: license, device key, relay TLS, outbox', async () => {
    const res = await agent(['status', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({
      healthy: true,
      license: { status: 'active', deviceMatches: true, mailboxPending: 0 },
      device: { keyStore: { kind: 'encrypted-file' } },
      relay: { reachable: true, authorized: true, protocol: 'TLSv1.3' },
      outbox: { depth: 0, dead: 0 },
    });
    expect(String((res.json.relay as { pinMatched: string }).pinMatched)).toMatch(/^sha256\//);
    const human = await agent(['status', '--config', dir]);
    expect(human.out).toMatch(/certificate verified/);
  });

  it('status with the relay unreachable says so and exits 1', async () => {
    const copy = tempDir('fluxel-agent-copy-');
    cpSync(dir, copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
    writeFileSync(
      join(copy, 'config.json'),
      JSON.stringify({ ...config, relayUrl: 'https://127.0.0.1:9' }),
    );
    const res = await agent(['status', '--config', copy, '--json']);
    expect(res.code).toBe(1);
    expect(res.json).toMatchObject({ healthy: false, relay: { reachable: false } });
    expect(String((res.json.relay as { error: string }).error)).toMatch(/ECONNREFUSED/);
    expect(res.json.license).toMatchObject({ code: 'ERR_RELAY_CONNECTION' });
  });

  it('a second machine activating the same key is refused with a clear message', async () => {
    const other = tempDir('fluxel-agent-thief-');
    const res = await agent(activateArgs(h, licenseKey, other));
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/already in use on another device/);
    expect(existsSync(join(other, 'config.json'))).toBe(false);
    expect(existsSync(join(other, 'tokens.json'))).toBe(false);
    expect(listDir(join(other, 'keys'))).toEqual([]); // the new device key was removed again
    // the first machine still works
    expect((await agent(['status', '--config', dir])).code).toBe(0);
  });

  it('a relay whose certificate is not pinned is refused (no way to turn verification off)', async () => {
    const other = tempDir('fluxel-agent-pin-');
    const key = await h.issueKey('merchant-pin');
    const res = await agent([
      'activate',
      key,
      '--relay',
      h.relay.url,
      '--pin',
      `sha256/${'A'.repeat(43)}=`,
      '--config',
      other,
      '--key-store',
      'file',
      '--json',
    ]);
    expect(res.code).toBe(1);
    expect(res.json.code).toBe('ERR_RELAY_TLS');
    expect(res.json.message).toMatch(/run the same activate command again/);
  });

  it('an activation whose answer was lost is repeated with the same device key and succeeds', async () => {
    const other = tempDir('fluxel-agent-lost-');
    const key = await h.issueKey('merchant-lost');
    const args = [
      'activate',
      key,
      '--ca',
      h.relay.tls.caPath,
      '--config',
      other,
      '--key-store',
      'file',
      '--json',
    ];
    // 1. No answer at all (nothing listens): the device key is kept for the retry.
    const first = await agent([...args, '--relay', 'https://127.0.0.1:9']);
    expect(first.code).toBe(1);
    expect(first.json.code).toBe('ERR_RELAY_CONNECTION');
    const pending = JSON.parse(readFileSync(join(other, 'activation-pending.json'), 'utf8'));
    expect(existsSync(join(other, 'config.json'))).toBe(false);
    // 2. Play "the relay bound the license, but the answer was lost": activate with that key.
    const store = new EncryptedFileKeyStore({
      directory: join(other, 'keys'),
      passphrase: PASSPHRASE,
    });
    const device = createDpopSigner((await store.load(pending.keyName)) as PrivateJwk);
    const direct = createRelayClient({
      baseUrl: h.relay.url,
      ca: h.relay.tls.ca,
      proxy: false,
      device,
    });
    await direct.activate({ body: { licenseKey: key } });
    await direct.close();
    // 3. Running the same command again succeeds: same device, same key, license not lost.
    const again = await agent([...args, '--relay', h.relay.url]);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.json.jkt).toBe(device.jkt);
    expect(JSON.parse(readFileSync(join(other, 'config.json'), 'utf8')).keyName).toBe(
      pending.keyName,
    );
    expect(existsSync(join(other, 'activation-pending.json'))).toBe(false);
  });
});

describe('run', () => {
  it('1000 dropped files arrive exactly once', async () => {
    dropRecords(dir, 1000, record('bulk'));
    const res = await agent(['run', '--once', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({ enqueued: 1000, rejected: 0, outbox: { depth: 0, dead: 0 } });
    expectExactlyOnce('bulk', 1000);
    // In batches (issue 18): ten requests of 100 records, each record logged by name.
    const logs = logLines(res.err);
    const requests = logs.filter((l) => l.event === 'relay.request').map((l) => l.size);
    expect(requests).toEqual(Array(10).fill(100));
    const delivered = logs.filter((l) => l.event === 'outbox.delivered');
    expect(new Set(delivered.map((l) => l.file)).size).toBe(1000);
    expect(listDir(join(dir, 'outgoing'))).toEqual(['.claimed']);
    expect(listDir(join(dir, 'outgoing', '.claimed'))).toEqual([]);
  });

  it('counterpart outage: records wait in the outbox and all arrive after recovery', async () => {
    h.counterpart.setDown(true);
    dropRecords(dir, 25, record('outage'));
    const down = await agent(['run', '--once', '--config', dir, '--json']);
    expect(down.json).toMatchObject({ enqueued: 25, outbox: { depth: 25, dead: 0 } });
    expect(effectsWithKeyPrefix('outage')).toHaveLength(0);
    // Structured logs (pino) on stderr: ids and codes, never the payloads.
    const logs = down.err
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const retries = logs.filter((l) => l.event === 'outbox.retry');
    expect(retries).toHaveLength(25);
    expect(retries[0]).toMatchObject({
      level: 30,
      name: 'fluxel-agent',
      code: 'ERR_RELAY_UPSTREAM_UNAVAILABLE',
      operation: 'order.status',
      file: expect.stringMatching(/^rec-\d{5}\.json$/),
    });
    expect(typeof retries[0]?.messageId).toBe('string');
    expect(down.err).not.toContain('outage-0');
    expect(down.err).not.toContain('shipped');
    const status = await agent(['status', '--config', dir, '--json']);
    expect(status.json.outbox).toMatchObject({ depth: 25, dead: 0 });
    expect(
      (status.json.outbox as { oldestAgeSeconds: number }).oldestAgeSeconds,
    ).toBeGreaterThanOrEqual(0);
    const list = await agent(['outbox', 'list', '--config', dir, '--json']);
    const messages = list.json.messages as { state: string; lastError: string }[];
    expect(messages).toHaveLength(25);
    expect(messages[0]?.lastError).toMatch(/ERR_RELAY_UPSTREAM_UNAVAILABLE/);
    // Still down an hour later (by the outbox's clock): nothing is lost, nothing dead.
    const later = Date.now() + 3_600_000;
    await agent(['run', '--once', '--config', dir], { now: () => later });
    expect(effectsWithKeyPrefix('outage')).toHaveLength(0);
    h.counterpart.setDown(false);
    const recovered = await agent(['run', '--once', '--config', dir, '--json'], {
      now: () => Date.now() + 2 * 86_400_000,
    });
    expect(recovered.json).toMatchObject({ outbox: { depth: 0, dead: 0 } });
    expectExactlyOnce('outage', 25);
    // Each delivered record is logged by its file name and operation (never its payload).
    const delivered = logLines(recovered.err).filter((l) => l.event === 'outbox.delivered');
    expect(delivered.map((l) => l.file).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `rec-${String(i).padStart(5, '0')}.json`),
    );
    expect(delivered[0]).toMatchObject({ operation: 'order.status', level: 30 });
    expect(String(delivered[0]?.msg)).toMatch(/^delivered rec-\d{5}\.json \(order\.status\)$/);
    expect(recovered.err).not.toContain('shipped');
  });

  it('malformed files land in rejected/ with a reason; refused operations become dead letters', async () => {
    const out = join(dir, 'outgoing');
    writeFileSync(join(out, 'bad-json.json'), '{ "connection": "shop-1", ');
    writeFileSync(
      join(out, 'no-payload.json'),
      JSON.stringify({ connection: CONNECTION, operation: 'order.status' }),
    );
    writeFileSync(
      join(out, 'bad-connection.json'),
      JSON.stringify({ connection: 'Shop 1!', operation: 'order.status', payload: {} }),
    );
    writeFileSync(
      join(out, 'extra-field.json'),
      JSON.stringify({ ...record('x')(1), priority: 'high' }),
    );
    writeFileSync(
      join(out, 'proto.json'),
      `{"connection":"shop-1","operation":"order.status","payload":{"__proto__":{"x":1}}}`,
    );
    writeFileSync(join(out, '.partial.json'), '{'); // still being written: ignored
    writeFileSync(join(out, 'notes.txt'), 'not a record'); // not .json: ignored
    writeFileSync(
      join(out, 'unknown-op.json'),
      JSON.stringify({
        connection: CONNECTION,
        operation: 'order.teleport',
        payload: { order: 'A-1' },
      }),
    );
    const res = await agent(['run', '--once', '--config', dir, '--json']);
    expect(res.json).toMatchObject({ enqueued: 1, rejected: 5, outbox: { depth: 0, dead: 1 } });
    // Every refused record is logged by name: the malformed files with the reason, and the
    // record the relay refused with its operation and the relay's problem (status, detail).
    const logs = logLines(res.err);
    expect(
      logs
        .filter((l) => l.event === 'drop.rejected')
        .map((l) => l.file)
        .sort(),
    ).toEqual([
      'bad-connection.json',
      'bad-json.json',
      'extra-field.json',
      'no-payload.json',
      'proto.json',
    ]);
    const refused = logs.filter((l) => l.event === 'outbox.dead');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      file: 'unknown-op.json',
      operation: 'order.teleport',
      reason: 'not-retryable',
      status: 422,
      detail: 'unknown operation',
    });
    expect(String(refused[0]?.msg)).toMatch(
      /^refused unknown-op\.json \(order\.teleport\): \S+: unknown operation/,
    );
    const rejected = join(dir, 'rejected');
    expect(listDir(rejected)).toEqual([
      'bad-connection.json',
      'bad-connection.json.error.txt',
      'bad-json.json',
      'bad-json.json.error.txt',
      'extra-field.json',
      'extra-field.json.error.txt',
      'no-payload.json',
      'no-payload.json.error.txt',
      'proto.json',
      'proto.json.error.txt',
    ]);
    const reason = (name: string) => readFileSync(join(rejected, `${name}.error.txt`), 'utf8');
    expect(reason('bad-json.json')).toMatch(/not valid JSON/);
    expect(reason('no-payload.json')).toMatch(/payload/);
    expect(reason('bad-connection.json')).toMatch(/connection: lower-case letters/);
    expect(reason('extra-field.json')).toMatch(/priority/);
    expect(listDir(out)).toEqual(['.claimed', '.partial.json', 'notes.txt']);

    // The relay refused the unknown operation for good: a dead letter, listed, retried, dropped.
    const list = await agent(['outbox', 'list', '--config', dir, '--json']);
    const dead = (list.json.messages as { id: string; state: string; file: string }[]).filter(
      (m) => m.state === 'dead',
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      file: 'unknown-op.json',
      operation: 'order.teleport',
      detail: 'unknown operation',
    });
    const id = dead[0]?.id as string;
    // The id is the claim's idempotency key (a UUID), not a second one minted by the outbox.
    expect(dead[0]).toMatchObject({ idempotencyKey: id });
    expect((await agent(['status', '--config', dir, '--json'])).json.outbox).toMatchObject({
      dead: 1,
      deadLetters: [
        { id, file: 'unknown-op.json', operation: 'order.teleport', detail: 'unknown operation' },
      ],
    });
    const human = await agent(['status', '--config', dir]);
    expect(human.out).toMatch(
      /dead \S+ unknown-op\.json shop-1 order\.teleport refused: \S+: unknown operation/,
    );
    expect((await agent(['outbox', 'retry', id, '--config', dir])).code).toBe(0);
    const again = await agent(['run', '--once', '--config', dir, '--json']);
    expect(again.json).toMatchObject({ outbox: { dead: 1 } });
    expect((await agent(['outbox', 'drop', id, '--config', dir])).code).toBe(0);
    expect((await agent(['outbox', 'drop', id, '--config', dir])).code).toBe(1);
    expect((await agent(['outbox', 'list', '--config', dir, '--json'])).json.messages).toEqual([]);
  });

  it('a payment webhook reaches inbox/ and is acknowledged at the relay', async () => {
    const sent = await h.counterpart.sendPaymentWebhook({
      url: hookUrl,
      payload: { paymentId: 'pay-77', amount: 1999, currency: 'EUR' },
    });
    expect(sent.status).toBe(204);
    expect((await agent(['status', '--config', dir, '--json'])).json.license).toMatchObject({
      mailboxPending: 1,
    });
    const res = await agent(['run', '--once', '--config', dir, '--json']);
    expect(res.json).toMatchObject({ inbox: { handled: 1, failed: 0 } });
    const files = listDir(join(dir, 'inbox'));
    expect(files).toEqual([`${sent.id}.json`]);
    const event = JSON.parse(readFileSync(join(dir, 'inbox', files[0] as string), 'utf8'));
    expect(event).toMatchObject({
      id: sent.id,
      connection: CONNECTION,
      payload: { data: { paymentId: 'pay-77' } },
    });
    expect(statSync(join(dir, 'inbox', files[0] as string)).mode & 0o777).toBe(0o600);
    expect((await agent(['status', '--config', dir, '--json'])).json.license).toMatchObject({
      mailboxPending: 0,
    });
  });

  it('the service loop picks up files and events as they come, and stops on a signal', async () => {
    const controller = new AbortController();
    const running = agent(['run', '--config', dir], { signal: controller.signal });
    dropRecords(dir, 30, record('live'));
    await waitFor(
      () => effectsWithKeyPrefix('live').length === 30,
      READY_BOUND_MS,
      '30 live records',
    );
    const hook = await h.counterpart.sendPaymentWebhook({
      url: hookUrl,
    });
    await waitFor(
      () => existsSync(join(dir, 'inbox', `${hook.id}.json`)),
      READY_BOUND_MS,
      'the live event',
    );
    // while running, status reads the running agent's figures
    await waitFor(() => existsSync(join(dir, 'state.json')));
    expect((await agent(['status', '--config', dir, '--json'])).json.outbox).toMatchObject({
      source: 'running-agent',
    });
    expect((await agent(['outbox', 'list', '--config', dir])).code).toBe(1);
    controller.abort();
    const res = await running;
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/stopped/);
    expectExactlyOnce('live', 30);
  });
});

describe('crash windows', () => {
  it('a claim left behind after its record was delivered is sent again under the same key and not executed twice', async () => {
    const claimed = join(dir, 'outgoing', '.claimed');
    const key = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const name = `${key}__replayed.json`;
    const body = JSON.stringify(record('claim')(1));
    writeFileSync(join(claimed, name), body);
    expect((await agent(['run', '--once', '--config', dir, '--json'])).json).toMatchObject({
      enqueued: 1,
    });
    // The process "died" after delivering but before removing the claim: the claim is back.
    writeFileSync(join(claimed, name), body);
    expect((await agent(['run', '--once', '--config', dir, '--json'])).json).toMatchObject({
      enqueued: 1,
      outbox: { depth: 0, dead: 0 },
    });
    const effects = effectsWithKeyPrefix('claim');
    expect(effects).toHaveLength(1);
    expect(effects[0]?.idempotencyKey).toBe(key);
  });

  it('a claim enqueued but not removed before a crash is not put in the outbox twice', async () => {
    const claimed = join(dir, 'outgoing', '.claimed');
    const key = '0190a1b2-c3d4-7e5f-8a9b-1c1d2e3f4a5c';
    const body = JSON.stringify(record('twice')(1));
    // The previous run enqueued the claim, then died before removing the file.
    const store = await FileOutboxStore.open(join(dir, 'outbox'));
    const outbox = new Outbox({ store });
    const { connection, operation, payload } = JSON.parse(body);
    await outbox.enqueue({
      id: key,
      connection,
      operation,
      payload,
      metadata: { file: 'twice.json', operation },
    });
    await outbox.close();
    writeFileSync(join(claimed, `${key}__twice.json`), body);
    h.counterpart.setDown(true);
    try {
      const res = await agent(['run', '--once', '--config', dir, '--json']);
      expect(res.json).toMatchObject({ enqueued: 1, outbox: { depth: 1, dead: 0 } });
    } finally {
      h.counterpart.setDown(false);
    }
    const list = await agent(['outbox', 'list', '--config', dir, '--json']);
    expect(list.json.messages).toMatchObject([{ id: key, file: 'twice.json' }]);
    await agent(['run', '--once', '--config', dir], { now: () => Date.now() + 86_400_000 });
    expect(effectsWithKeyPrefix('twice').map((e) => e.idempotencyKey)).toEqual([key]);
  });

  it('an outbox written by an earlier agent version (envelope payloads) is delivered as before', async () => {
    const key = '0190a1b2-c3d4-7e5f-8a9b-2c1d2e3f4a5d';
    const deadKey = '0190a1b2-c3d4-7e5f-8a9b-3c1d2e3f4a5e';
    const store = await FileOutboxStore.open(join(dir, 'outbox'));
    const outbox = new Outbox({ store });
    const legacy = (idempotencyKey: string, file: string, payload: unknown) => ({
      connection: CONNECTION,
      operation: 'order.status',
      payload: { idempotencyKey, file, payload },
    });
    await outbox.enqueue(legacy(key, 'old.json', record('legacy')(1).payload));
    const dead = await outbox.enqueue(
      legacy(deadKey, 'old-dead.json', record('legacy')(2).payload),
    );
    await outbox.drain(async (m) => {
      if (m.id === dead.id)
        throw new RelayError('ERR_RELAY_NOT_FOUND', 'refused', { retryable: false });
      throw new RelayError('ERR_RELAY_CONNECTION', 'down');
    });
    await outbox.close();
    // A folder of the earlier version has no marker of a finished conversion.
    rmSync(join(dir, 'outbox', 'converted-v2'));
    const list = await agent(['outbox', 'list', '--config', dir, '--json']);
    expect(list.json.messages).toMatchObject([
      { file: 'old.json', idempotencyKey: key, state: 'waiting' },
      { id: dead.id, file: 'old-dead.json', idempotencyKey: deadKey, state: 'dead' },
    ]);
    const res = await agent(['run', '--once', '--config', dir, '--json'], {
      now: () => Date.now() + 86_400_000,
    });
    expect(res.json).toMatchObject({ outbox: { depth: 0, dead: 1 } });
    expect((await agent(['outbox', 'retry', dead.id, '--config', dir])).code).toBe(0);
    const again = await agent(['run', '--once', '--config', dir, '--json']);
    expect(again.json).toMatchObject({ outbox: { depth: 0, dead: 0 } });
    const effects = effectsWithKeyPrefix('legacy');
    expect(effects.map((e) => [e.idempotencyKey, (e.body as { note: string }).note])).toEqual([
      [key, 'legacy-1'],
      [deadKey, 'legacy-2'],
    ]);
  });
});

describe('deactivate', () => {
  it('removes the device key and the config; afterwards the folder is not activated', async () => {
    const res = await agent(['deactivate', '--config', dir, '--json']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.json).toMatchObject({ ok: true, keyRemoved: true });
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
    expect(existsSync(join(dir, 'tokens.json'))).toBe(false);
    expect(listDir(join(dir, 'keys'))).toEqual([]);
    expect((await agent(['status', '--config', dir])).code).toBe(3);
  });
});
