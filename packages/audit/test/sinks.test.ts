import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from '@fluxel/internal/pki';
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  attachSink,
  backoffDelay,
  createPrivacy,
  generateSigningKey,
  MemoryStore,
  normalizeEvent,
  type Sink,
  type StoredRecord,
  verifyLines,
} from '../src/index.ts';
import {
  FileCursorStore,
  FileStore,
  formatSyslog,
  jsonlFileSink,
  stdoutSink,
  syslogSink,
} from '../src/node.ts';
import { elasticBulkSink, otlpLogsSink, splunkHecSink } from '../src/sinks.ts';
import { loginEvent, readLines, tempDir } from './helpers.ts';
import { elasticPeer, otlpPeer, SyslogPeer, splunkPeer, until } from './servers.ts';

const fastRetry = { initialMs: 5, maxMs: 40 };

async function openLog() {
  const store = new MemoryStore();
  const log = await AuditLog.open({
    store,
    signingKey: generateSigningKey(),
    checkpointEvery: 7,
    checkpointIntervalMs: 0,
  });
  return { log, store };
}

/**
 * The outage scenario every sink must pass: deliver, lose the peer, keep appending, get the
 * peer back — everything arrives, in order, once.
 */
async function outage(options: {
  sink: Sink;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  receivedIds: () => string[];
}) {
  const { log, store } = await openLog();
  const errors: unknown[] = [];
  const runner = await attachSink(log, {
    sink: options.sink,
    retry: fastRetry,
    batchSize: 8,
    onError: (e) => errors.push(e),
  });
  for (let i = 0; i < 20; i++) await log.append(loginEvent(i));
  await runner.drain();
  await until(() => options.receivedIds().length === 20);
  await options.stop();
  const during = [];
  for (let i = 20; i < 50; i++) during.push(log.append(loginEvent(i)));
  await Promise.all(during);
  await until(() => errors.length >= 2);
  expect(runner.cursor).toBeLessThan(log.size);
  await options.start();
  await runner.drain();
  await log.close();
  const expected = store.records.filter((r) => r.event).map((r) => r.event?.id);
  await until(() => options.receivedIds().length >= expected.length);
  expect(options.receivedIds()).toEqual(expected);
  await runner.stop();
  return { errors };
}

describe('delivery', () => {
  it('backoff grows exponentially with full jitter and a cap', () => {
    expect(backoffDelay(1, { initialMs: 100 }, () => 0)).toBe(50);
    expect(backoffDelay(1, { initialMs: 100 }, () => 1)).toBe(100);
    expect(backoffDelay(4, { initialMs: 100 }, () => 1)).toBe(800);
    expect(backoffDelay(40, { initialMs: 100, maxMs: 5000 }, () => 1)).toBe(5000);
  });

  it('applies backpressure instead of dropping when the sink falls behind', async () => {
    const { log } = await openLog();
    const delivered: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sink: Sink = {
      name: 'slow',
      async send(records) {
        await gate;
        delivered.push(...records.map((r) => r.seq));
      },
    };
    const runner = await attachSink(log, { sink, maxQueue: 5, batchSize: 2 });
    let acked = 0;
    const appends = Array.from({ length: 40 }, (_, i) =>
      log.append(loginEvent(i)).then(() => acked++),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(0); // the whole batch waits for queue space
    expect(runner.queued).toBeLessThanOrEqual(5);
    release();
    await Promise.all(appends);
    await runner.drain();
    expect(acked).toBe(40);
    const events = delivered.filter((s) => s > 1);
    expect(events).toEqual([...events].sort((a, b) => a - b));
    expect(new Set(events).size).toBe(events.length);
    expect(events.length).toBe(40);
    await runner.stop();
    await log.close();
  });

  it('a JSONL file sink with a file cursor resumes after a restart without loss or duplicates', async () => {
    const dir = tempDir();
    const key = generateSigningKey();
    const out = join(dir, 'siem.jsonl');
    const cursor = new FileCursorStore(join(dir, 'cursors.json'));
    let log = await AuditLog.open({
      store: new FileStore(join(dir, 'log')),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    let runner = await attachSink(log, { sink: jsonlFileSink(out), cursor, filter: () => true });
    for (let i = 0; i < 10; i++) await log.append(loginEvent(i));
    await runner.drain();
    await runner.stop();
    for (let i = 10; i < 15; i++) await log.append(loginEvent(i)); // no sink attached
    await log.close();

    log = await AuditLog.open({
      store: new FileStore(join(dir, 'log')),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    runner = await attachSink(log, { sink: jsonlFileSink(out), cursor, filter: () => true });
    for (let i = 15; i < 20; i++) await log.append(loginEvent(i));
    await runner.drain();
    await runner.stop();
    await log.close();
    const lines = readLines(out);
    const seqs = lines.map((l) => JSON.parse(l).s as number);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    // The copy in the SIEM is the raw chain: it verifies on its own (up to what was shipped).
    expect(verifyLines(lines, { publicKeys: [key], live: true }).findings).toEqual([]);
  });

  it('regression: sinks sharing one FileCursorStore raced on cursors.json.tmp (rename ENOENT, unhandled rejection)', async () => {
    // The README's sinks snippet: two sinks, one cursor file. Each delivery saved the cursors
    // through the same temporary file; the second rename found it gone and the delivery loop's
    // rejection went unhandled, ending the process.
    const dir = tempDir();
    const cursor = new FileCursorStore(join(dir, 'cursors.json'));
    await Promise.all(Array.from({ length: 40 }, (_, i) => cursor.set(`sink-${i % 4}`, i)));
    expect(JSON.parse(readFileSync(join(dir, 'cursors.json'), 'utf8'))).toEqual({
      'sink-0': 36,
      'sink-1': 37,
      'sink-2': 38,
      'sink-3': 39,
    });

    const { log } = await openLog();
    const errors: unknown[] = [];
    const runners = await Promise.all(
      ['a', 'b'].map((name) =>
        attachSink(log, {
          sink: jsonlFileSink(join(dir, `${name}.jsonl`), { name, fsync: false }),
          cursor,
          batchSize: 1,
          onError: (error) => errors.push(error),
        }),
      ),
    );
    await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(loginEvent(i))));
    await Promise.all(runners.map((r) => r.drain()));
    expect(errors).toEqual([]);
    const saved = JSON.parse(readFileSync(join(dir, 'cursors.json'), 'utf8'));
    expect(saved.a).toBe(runners[0]?.cursor);
    expect(saved.b).toBe(runners[1]?.cursor);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const r of runners) await r.stop();
    await log.close();
  });

  it('a cursor that cannot be saved is reported, and delivery goes on (no unhandled rejection)', async () => {
    const { log } = await openLog();
    const delivered: number[] = [];
    const errors: unknown[] = [];
    const broken = {
      get: async () => 0,
      set: async () => {
        throw new Error('disk full');
      },
    };
    const runner = await attachSink(log, {
      sink: {
        name: 'mem',
        send: async (records) => void delivered.push(...records.map((r) => r.seq)),
      },
      cursor: broken,
      onError: (error, attempt) => errors.push([String(error), attempt]),
    });
    for (let i = 0; i < 3; i++) await log.append(loginEvent(i));
    await runner.drain();
    expect(delivered.length).toBe(3);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toEqual(['Error: disk full', 0]);
    await runner.stop();
    await log.close();
  });

  it('FileCursorStore refuses a missing path when it is built', () => {
    // @ts-expect-error: the path is required.
    expect(() => new FileCursorStore()).toThrow(/FileCursorStore needs the path/);
  });

  it('stdout sink writes one JSON line per event', async () => {
    const chunks: string[] = [];
    const stream = {
      write: (t: string, cb: (e?: Error | null) => void) => {
        chunks.push(t);
        cb();
        return true;
      },
    };
    const { log } = await openLog();
    const runner = await attachSink(log, {
      sink: stdoutSink({ stream: stream as never, format: 'ecs' }),
    });
    await log.append(loginEvent(1));
    await runner.drain();
    expect(JSON.parse(chunks.join('').trim())).toMatchObject({
      event: { action: 'auth.login' },
      organization: { id: 'acme' },
    });
    await runner.stop();
    await log.close();
  });
});

describe('Splunk HEC sink', () => {
  it('sends events with the HEC envelope and token, and survives an outage', async () => {
    const { peer, events } = splunkPeer('tok-123');
    await peer.start();
    await outage({
      sink: splunkHecSink({ url: peer.url, token: 'tok-123', index: 'audit', host: 'relay-1' }),
      stop: () => peer.stop(),
      start: async () => void (await peer.start()),
      receivedIds: () => events.map((e) => (e.event as { id: string }).id),
    });
    expect(events[0]).toMatchObject({
      host: 'relay-1',
      index: 'audit',
      sourcetype: 'fluxel:audit',
      source: 'fluxel-audit',
    });
    expect(typeof events[0]?.time).toBe('number');
    expect(events[0]?.event).toMatchObject({ action: 'auth.login', fluxel: { seq: 2 } });
    await peer.stop();
  });

  it('waits for indexer acknowledgement on a channel, and a 503 outage delays but loses nothing', async () => {
    const { peer, events } = splunkPeer('tok-ack', { ack: true });
    await peer.start();
    await outage({
      sink: splunkHecSink({ url: peer.url, token: 'tok-ack', ack: true, ackPollMs: 5 }),
      stop: async () => {
        peer.failWith = 503;
      },
      start: async () => {
        peer.failWith = undefined;
      },
      receivedIds: () => events.map((e) => (e.event as { id: string }).id),
    });
    await peer.stop();
  });

  it('a wrong token is an error that is retried, not a silent drop', async () => {
    const { peer } = splunkPeer('right');
    await peer.start();
    const sink = splunkHecSink({ url: peer.url, token: 'wrong' });
    const { log } = await openLog();
    await log.append(loginEvent(1));
    await expect(
      sink.send(
        log.store instanceof MemoryStore ? (log.store.records.slice(1) as StoredRecord[]) : [],
      ),
    ).rejects.toMatchObject({
      code: 'ERR_AUDIT_SINK_FAILED',
      message: expect.stringContaining('403'),
    });
    await log.close();
    await peer.stop();
  });
});

describe('Elasticsearch bulk sink', () => {
  it('indexes ECS documents with create + event id, retries rejected items without duplicates, and survives an outage', async () => {
    const { peer, docs, order } = elasticPeer({ rejectFirst: 3 });
    await peer.start();
    await outage({
      sink: elasticBulkSink({ url: peer.url, index: 'logs-audit-test' }),
      stop: () => peer.stop(),
      start: async () => void (await peer.start()),
      receivedIds: () => order,
    });
    const first = docs.get(order[0] as string);
    expect(first).toMatchObject({
      '@timestamp': expect.any(String),
      event: { id: order[0], action: 'auth.login', dataset: 'fluxel.audit', sequence: 2 },
      organization: { id: 'acme' },
      source: { ip: '192.0.2.10' },
    });
    await peer.stop();
  });
});

describe('Elasticsearch: what it refuses for good never blocks the rest', () => {
  const refuseBad = (doc: Record<string, unknown>) =>
    (doc.event as { reason?: string }).reason === 'bad';
  const within = <T>(p: Promise<T>, ms: number) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still blocked after ${ms} ms`)), ms),
      ),
    ]);

  it('regression: one document Elasticsearch refused (a mapping error) was retried forever and held up the rest', async () => {
    const { peer, order } = elasticPeer({ refuse: refuseBad, rejectFirst: 1 });
    await peer.start();
    const { log } = await openLog();
    const sink = elasticBulkSink({ url: peer.url });
    const runner = await attachSink(log, { sink, retry: fastRetry });
    for (let i = 0; i < 6; i++) await log.append(loginEvent(i, i === 2 ? { reason: 'bad' } : {}));
    await within(runner.drain(), 5_000);
    // Five indexed (one after a 429 retry), the refused one kept as a dead letter, once.
    expect(order.length).toBe(5);
    expect(sink.rejected.length).toBe(1);
    expect(sink.rejected[0]?.record.event?.reason).toBe('bad');
    expect(sink.rejected[0]?.error).toMatchObject({ type: 'document_parsing_exception' });
    await runner.stop();
    await log.close();
    await peer.stop();
  });

  it('onRejected is told once per refused document, also when the batch is retried for others', async () => {
    const { peer, order } = elasticPeer({ refuse: refuseBad, rejectFirst: 2 });
    await peer.start();
    const { log } = await openLog();
    const told: string[] = [];
    const sink = elasticBulkSink({
      url: peer.url,
      onRejected: (record) => told.push(record.event?.id ?? ''),
    });
    const runner = await attachSink(log, { sink, retry: fastRetry });
    for (let i = 0; i < 4; i++) await log.append(loginEvent(i, i === 0 ? { reason: 'bad' } : {}));
    await within(runner.drain(), 5_000);
    expect(told.length).toBe(1);
    expect(order.length).toBe(3);
    expect(sink.rejected).toEqual([]);
    await runner.stop();
    await log.close();
    await peer.stop();
  });

  it('regression: an address that is no IP literal went to source.ip unchecked', async () => {
    for (const ip of ['unknown', '203.0.113.7, 10.0.0.1', '256.1.1.1', ''])
      expect(() => normalizeEvent(loginEvent(1, { actor: { type: 'user', id: 'u', ip } }))).toThrow(
        /invalid audit event at actor\.ip: must be one IPv4 or IPv6 address/,
      );
    for (const ip of ['192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1'])
      expect(normalizeEvent(loginEvent(1, { actor: { type: 'user', id: 'u', ip } })).actor.ip).toBe(
        ip,
      );

    // A pseudonymised address is stored as the privacy transform made it; in ECS it is a
    // keyword beside source.ip, which Elasticsearch (here: its wire behaviour) accepts.
    const { peer, docs, order } = elasticPeer();
    await peer.start();
    const log = await AuditLog.open({
      store: new MemoryStore(),
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
      privacy: createPrivacy({
        pseudonymize: { paths: ['actor.ip'], key: new Uint8Array(32).fill(7) },
      }),
    });
    const sink = elasticBulkSink({ url: peer.url });
    const runner = await attachSink(log, { sink, retry: fastRetry });
    await log.append(loginEvent(1, { actor: { type: 'user', id: 'u', ip: '192.0.2.44' } }));
    await within(runner.drain(), 5_000);
    const doc = docs.get(order[0] as string) as {
      source?: unknown;
      fluxel?: { actor_ip?: string };
    };
    expect(doc.source).toBeUndefined();
    expect(doc.fluxel?.actor_ip).toEqual(expect.any(String));
    expect(doc.fluxel?.actor_ip).not.toBe('192.0.2.44');
    expect(sink.rejected).toEqual([]);
    await runner.stop();
    await log.close();
    await peer.stop();
  });
});

describe('OTLP/HTTP JSON logs sink', () => {
  it('sends resourceLogs/scopeLogs/logRecords and survives an outage', async () => {
    const { peer, records, resources } = otlpPeer();
    await peer.start();
    const idOf = (r: Record<string, unknown>) =>
      (r.attributes as { key: string; value: { stringValue?: string } }[]).find(
        (a) => a.key === 'event.id',
      )?.value.stringValue ?? '';
    await outage({
      sink: otlpLogsSink({ url: peer.url, serviceName: 'relay' }),
      stop: () => peer.stop(),
      start: async () => void (await peer.start()),
      receivedIds: () => records.map(idOf),
    });
    expect(resources[0]).toEqual({
      attributes: [{ key: 'service.name', value: { stringValue: 'relay' } }],
    });
    expect(records[0]).toMatchObject({
      eventName: 'auth.login',
      severityNumber: 13,
      severityText: 'WARN',
      timeUnixNano: expect.stringMatching(/^\d{19}$/),
    });
    const body = records[0]?.body as { stringValue: string };
    expect(JSON.parse(body.stringValue)).toMatchObject({
      action: 'auth.login',
    });
    await peer.stop();
  });

  it('regression: observedTimeUnixNano was the event time, and the time lost its micro- and nanoseconds', async () => {
    const { peer, records } = otlpPeer();
    await peer.start();
    const { log } = await openLog();
    const runner = await attachSink(log, { sink: otlpLogsSink({ url: peer.url }) });
    const before = BigInt(Date.now()) * 1_000_000n;
    // Happened an hour ago (a replayed agent event, say), observed now.
    await log.append(loginEvent(1, { time: '2026-03-04T05:06:07.123456789Z' }));
    await runner.drain();
    const record = records[0] as { timeUnixNano: string; observedTimeUnixNano: string };
    expect(record.timeUnixNano).toBe(
      `${BigInt(Date.parse('2026-03-04T05:06:07Z')) * 1_000_000n + 123_456_789n}`,
    );
    expect(BigInt(record.observedTimeUnixNano)).toBeGreaterThanOrEqual(before);
    await runner.stop();
    await log.close();
    await peer.stop();
  });
});

function makeCa(dir: string) {
  const pki = makeTestPki({ dir, names: ['localhost', '127.0.0.1'] });
  return {
    ca: Buffer.from(pki.caPem),
    cert: Buffer.from(pki.certPem),
    key: Buffer.from(pki.keyPem),
  };
}

const RFC5424 =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) fluxel-audit (\d+) (\S{1,32}) \[meta sequenceId="(\d+)"\]\[fluxel@32473 id="([^"]+)"(?:[^\]\\]|\\.)*\] \uFEFF(\{.*\})$/s;

describe('syslog sink (RFC 5424, octet counting)', () => {
  it('formats RFC 5424 with escaped structured data', async () => {
    const { log, store } = await openLog();
    await log.append(loginEvent(1, { outcome: 'denied', actor: { type: 'user', id: 'a"b]c\\d' } }));
    await log.close();
    const message = formatSyslog(store.records[1] as StoredRecord, { hostname: 'relay-1' });
    const m = RFC5424.exec(message);
    expect(m?.[1]).toBe(String(13 * 8 + 4));
    expect(m?.[3]).toBe('relay-1');
    expect(m?.[5]).toBe('auth.login');
    expect(m?.[6]).toBe('2');
    expect(message).toContain('actor="user:a\\"b\\]c\\\\d"');
  });

  it('regression: a caller-supplied time with nine fraction digits was written as is (RFC 5424 allows six)', async () => {
    const { log, store } = await openLog();
    await log.append(loginEvent(1, { time: '2026-03-04T05:06:07.123456789Z' }));
    await log.close();
    const message = formatSyslog(store.records[1] as StoredRecord, { hostname: 'relay-1' });
    const timestamp = message.split(' ')[1];
    expect(timestamp).toBe('2026-03-04T05:06:07.123456Z');
    // The event itself keeps what the caller gave.
    expect(message).toContain('"time":"2026-03-04T05:06:07.123456789Z"');
  });

  it('refuses a facility or SD-ID that RFC 5424 does not allow, when the sink is built', () => {
    const base = { host: '127.0.0.1', port: 514 };
    for (const facility of [-1, 24, 1.5, Number.NaN])
      expect(() => syslogSink({ ...base, facility })).toThrow(
        /facility must be an integer from 0 to 23/,
      );
    for (const sdId of [
      'fluxel',
      'a b@1',
      'x=y@1',
      'x]@1',
      'x"@1',
      `${'a'.repeat(30)}@123`,
      'x@pen',
    ])
      expect(() => syslogSink({ ...base, sdId })).toThrow(
        /sdId must be "name@<private enterprise number>"/,
      );
    expect(() => syslogSink({ ...base, facility: 0, sdId: 'origin@32473' })).not.toThrow();
    expect(() => syslogSink({ ...base, facility: 23, sdId: 'fluxel@32473.1' })).not.toThrow();
  });

  it('over TCP: frames parse strictly and delivery survives an outage', async () => {
    const peer = await new SyslogPeer().start();
    await outage({
      sink: syslogSink({ host: '127.0.0.1', port: peer.port, hostname: 'relay-1' }),
      stop: () => peer.stop(),
      start: async () => void (await peer.start()),
      receivedIds: () => peer.messages.map((m) => RFC5424.exec(m)?.[7] ?? 'unparsed'),
    });
    expect(peer.errors).toEqual([]);
    await peer.stop();
  });

  it('over TLS with a test CA (verification on), and refuses an untrusted server', async () => {
    const dir = tempDir();
    const pki = makeCa(dir);
    const peer = await new SyslogPeer({ cert: pki.cert, key: pki.key }).start();
    const { log } = await openLog();
    const runner = await attachSink(log, {
      sink: syslogSink({
        host: '127.0.0.1',
        port: peer.port,
        tls: { ca: pki.ca, servername: 'localhost' },
      }),
      retry: fastRetry,
    });
    for (let i = 0; i < 5; i++) await log.append(loginEvent(i));
    await runner.drain();
    await until(() => peer.messages.length === 5);
    expect(peer.messages.every((m) => RFC5424.test(m))).toBe(true);
    await runner.stop();

    // Without the CA the server's certificate is not trusted: delivery fails and is retried.
    const untrusted = syslogSink({ host: '127.0.0.1', port: peer.port });
    const tlsUntrusted = syslogSink({
      host: '127.0.0.1',
      port: peer.port,
      tls: { servername: 'localhost' },
    });
    await expect(
      tlsUntrusted.send((log.store as MemoryStore).records.slice(1, 2)),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_SINK_FAILED' });
    await untrusted.close?.();
    await log.close();
    await peer.stop();
  });
});
