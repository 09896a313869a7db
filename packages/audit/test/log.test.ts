import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalEvent } from '../src/event.ts';
import {
  AuditError,
  AuditLog,
  canonicalJson,
  cidrGeoResolver,
  distanceKm,
  generateSigningKey,
  MemoryStore,
  normalizeEvent,
  offlineGeoResolver,
  parseIp,
  parseVerifyingKey,
  privateJwk,
  publicJwk,
  signingKeyFromJwk,
  toEcs,
  verifyingKeyFromJwk,
  verifyLines,
} from '../src/index.ts';
import { FileStore, listSegments, verifyPath } from '../src/node.ts';
import { arbAction, arbOutcome } from './fixtures/arbitraries.ts';
import { auditEventInputSchema } from './fixtures/zod-reference.ts';
import { loginEvent, tempDir } from './helpers.ts';

describe('canonical encoding', () => {
  it('sorts keys, drops undefined, and is stable under key order', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1, y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":2,"z":1}}',
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const shuffled = Object.fromEntries(Object.entries(value).reverse());
        const text = canonicalJson(value);
        expect(canonicalJson(shuffled)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it('rejects values that have no canonical form', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(AuditError);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
  });
});

describe('event model', () => {
  it('fills id and time, and names the bad path', () => {
    const event = normalizeEvent(loginEvent(1), () => Date.UTC(2026, 0, 1));
    expect(event.time).toBe('2026-01-01T00:00:00.000Z');
    expect(event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(() => normalizeEvent({ ...loginEvent(1), action: 'Login' })).toThrow(/action/);
    expect(() => normalizeEvent({ ...loginEvent(1), outcome: 'maybe' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_EVENT' }),
    );
  });

  it('maps to Elastic Common Schema fields', () => {
    const event = normalizeEvent({
      ...loginEvent(1),
      outcome: 'denied',
      reason: 'locked',
      actor: {
        type: 'user',
        id: 'u1',
        name: 'Ann',
        ip: '192.0.2.1',
        geo: { country: 'DE', lat: 52.5, lon: 13.4 },
      },
      target: { type: 'license', id: 'L-1' },
    });
    const ecs = toEcs(event, { seq: 7, hash: 'ab'.repeat(32) });
    expect(ecs).toMatchObject({
      '@timestamp': event.time,
      event: {
        id: event.id,
        action: 'auth.login',
        outcome: 'failure',
        category: ['authentication'],
        reason: 'locked',
        sequence: 7,
      },
      user: { id: 'u1', name: 'Ann' },
      source: {
        ip: '192.0.2.1',
        geo: { country_iso_code: 'DE', location: { lat: 52.5, lon: 13.4 } },
      },
      organization: { id: 'acme' },
      http: { request: { id: 'req-1' } },
      labels: { outcome: 'denied' },
      fluxel: { target: { type: 'license', id: 'L-1' } },
    });
    const device = toEcs(normalizeEvent({ ...loginEvent(1), actor: { type: 'device', id: 'd1' } }));
    expect(device.host).toEqual({ id: 'd1' });
    // ECS allows intrusion_detection with allowed/denied/info (indicator belongs to threat).
    const alert = toEcs(normalizeEvent({ ...loginEvent(1), action: 'alert.second_activation' }));
    expect(alert.event).toMatchObject({
      kind: 'alert',
      category: ['intrusion_detection'],
      type: ['info'],
    });
  });
});

describe('fast paths agree with the reference implementations', () => {
  const arbEvent = fc.record(
    {
      id: fc.option(fc.string({ maxLength: 130 }), { nil: undefined }),
      tenant: fc.oneof(fc.string({ maxLength: 260 }), fc.constant('acme')),
      actor: fc.record(
        {
          type: fc.constantFrom('user', 'device', 'service', 'system', 'robot'),
          id: fc.string({ maxLength: 520 }),
          name: fc.option(fc.string(), { nil: undefined }),
          ip: fc.option(fc.string({ maxLength: 70 }), { nil: undefined }),
          extra: fc.option(fc.integer(), { nil: undefined }),
        },
        { requiredKeys: ['type', 'id'] },
      ),
      action: arbAction,
      outcome: arbOutcome,
      target: fc.option(
        fc.record({ type: fc.string({ maxLength: 130 }), id: fc.string({ maxLength: 10 }) }),
        { nil: undefined },
      ),
      reason: fc.option(fc.string(), { nil: undefined }),
      requestId: fc.option(fc.string(), { nil: undefined }),
      data: fc.option(
        fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.integer())),
        { nil: undefined },
      ),
      unknown: fc.option(fc.string(), { nil: undefined }),
    },
    { requiredKeys: ['tenant', 'actor', 'action', 'outcome'] },
  );

  it('normalizeEvent accepts exactly what the former zod schema accepts, with the same output', () => {
    fc.assert(
      fc.property(arbEvent, (input) => {
        const reference = auditEventInputSchema.safeParse(input);
        let ours: ReturnType<typeof normalizeEvent> | undefined;
        try {
          ours = normalizeEvent(input as never, () => 0);
        } catch {
          ours = undefined;
        }
        expect(ours !== undefined).toBe(reference.success);
        if (ours && reference.success) {
          const { id, time, ...rest } = ours;
          const { id: refId, time: refTime, ...refRest } = reference.data;
          expect(canonicalJson(rest)).toBe(canonicalJson(refRest));
          if (refId !== undefined) expect(id).toBe(refId);
          expect(time).toBe('1970-01-01T00:00:00.000Z');
          expect(canonicalEvent(ours)).toBe(canonicalJson(ours));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('canonicalEvent equals canonicalJson for events in any key order', () => {
    const event = normalizeEvent(loginEvent(3));
    const reversed = Object.fromEntries(Object.entries(event).reverse()) as typeof event;
    expect(Object.keys(reversed)[0]).toBe('time');
    expect(canonicalEvent(reversed)).toBe(canonicalJson(event));
    expect(canonicalEvent({ ...event, data: { b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } } })).toBe(
      canonicalJson({ ...event, data: { a: { c: [3, { e: 0, f: 1 }], d: 2 }, b: 1 } }),
    );
  });
});

describe('keys', () => {
  it('round-trips JWK and raw forms, and refuses mismatched keys', () => {
    const key = generateSigningKey();
    expect(signingKeyFromJwk(privateJwk(key)).kid).toBe(key.kid);
    expect(verifyingKeyFromJwk(publicJwk(key)).kid).toBe(key.kid);
    expect(publicJwk(key)).not.toHaveProperty('d');
    expect(parseVerifyingKey(Buffer.from(key.publicKey).toString('hex')).kid).toBe(key.kid);
    expect(parseVerifyingKey(JSON.stringify(publicJwk(key))).kid).toBe(key.kid);
    const other = generateSigningKey();
    expect(() => signingKeyFromJwk({ ...privateJwk(key), x: publicJwk(other).x })).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_KEY' }),
    );
    expect(() => parseVerifyingKey('nonsense')).toThrow(
      expect.objectContaining({ code: 'ERR_AUDIT_INVALID_KEY' }),
    );
  });
});

describe('AuditLog', () => {
  it('chains records, checkpoints every N events and at close', async () => {
    const store = new MemoryStore();
    const key = generateSigningKey();
    const log = await AuditLog.open({
      store,
      signingKey: key,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    const receipts = [];
    for (let i = 0; i < 7; i++) receipts.push(await log.append(loginEvent(i)));
    expect(receipts.map((r) => r.seq)).toEqual([2, 3, 4, 6, 7, 8, 10]);
    await log.close();
    const kinds = store.records.map((r) => (r.kind === 'c' ? r.checkpoint?.reason : 'e'));
    expect(kinds).toEqual(['open', 'e', 'e', 'e', 'count', 'e', 'e', 'e', 'count', 'e', 'close']);
    const report = verifyLines(store.lines(), { publicKeys: [key] });
    expect(report).toMatchObject({ ok: true, events: 7, checkpoints: 4 });
  });

  it('FileStore writes each batch byte for byte as its lines (append perf: per-line encoding)', async () => {
    const dir = tempDir();
    const key = generateSigningKey();
    const store = new FileStore(dir, { fsync: false });
    const log = await AuditLog.open({ store, signingKey: key, checkpointIntervalMs: 0 });
    const names = ['plain', 'é', '漢字'.repeat(300), '😀'.repeat(700), 'a\nb"\\', '\u2028'];
    const pending = [];
    for (let i = 0; i < 600; i++) {
      pending.push(log.append(loginEvent(i, { reason: names[i % names.length] as string })));
    }
    await Promise.all(pending);
    for (let i = 0; i < 5; i++) await log.append(loginEvent(i, { reason: '€'.repeat(i * 500) }));
    await log.close();
    const lines: string[] = [];
    for await (const record of new FileStore(dir).read(1)) lines.push(record.line);
    const [segment] = await listSegments(dir);
    expect(readFileSync((segment as { path: string }).path, 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(lines.length).toBeGreaterThan(605);
    expect(await verifyPath(dir, { publicKeys: [key] })).toMatchObject({ ok: true, events: 605 });
  });

  it('FileStore.read keeps a record holding U+2028 (on Node 24 readline split it in two and both halves were skipped)', async () => {
    const dir = tempDir();
    const key = generateSigningKey();
    const log = await AuditLog.open({
      store: new FileStore(dir, { fsync: false }),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    await log.append(loginEvent(1, { reason: 'line\u2028separator' }));
    await log.append(loginEvent(2, { reason: 'paragraph\u2029separator' }));
    await log.close();
    const read: string[] = [];
    for await (const record of new FileStore(dir).read(1))
      if (record.event) read.push(String(record.event.reason));
    expect(read).toEqual(['line\u2028separator', 'paragraph\u2029separator']);
  });

  it('an invalid event is rejected and nothing is written', async () => {
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
    });
    await expect(log.append({ ...loginEvent(1), tenant: '' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_EVENT',
    });
    await log.flush();
    expect(store.records).toHaveLength(1);
    await log.close();
  });

  it('writes interval checkpoints while idle, so silence is distinguishable from deletion', async () => {
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 20,
    });
    await new Promise((r) => setTimeout(r, 90));
    await log.close();
    const intervals = store.records.filter((r) => r.checkpoint?.reason === 'interval');
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(verifyLines(store.lines()).ok).toBe(true);
  });

  it('refuses to reopen with another key unless the old one announces it; rotateKey works live', async () => {
    const store = new MemoryStore();
    const k1 = generateSigningKey();
    const k2 = generateSigningKey();
    const k3 = generateSigningKey();
    let log = await AuditLog.open({ store, signingKey: k1, checkpointIntervalMs: 0 });
    await log.append(loginEvent(1));
    await log.close();
    await expect(AuditLog.open({ store, signingKey: k2 })).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_KEY',
    });
    log = await AuditLog.open({ store, signingKey: k2, previousKey: k1, checkpointIntervalMs: 0 });
    await log.append(loginEvent(2));
    await log.rotateKey(k3);
    await log.append(loginEvent(3));
    await log.close();
    expect(store.records.at(-1)?.checkpoint?.kid).toBe(k3.kid);
    const report = verifyLines(store.lines(), { publicKeys: [k1] });
    expect(report.findings).toEqual([]);
    expect(report.notes.filter((n) => n.includes('rotated'))).toHaveLength(2);
  });

  it('seals segments, and retention drops whole sealed segments while the rest verifies', async () => {
    const dir = tempDir();
    const key = generateSigningKey();
    const log = await AuditLog.open({
      store: new FileStore(dir, { segmentMaxBytes: 4096 }),
      signingKey: key,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 60; i++) await log.append(loginEvent(i));
    const segments = await listSegments(dir);
    expect(segments.length).toBeGreaterThan(3);
    const cut = (segments[2] as { firstSeq: number }).firstSeq;
    const dropped = await log.dropBefore(cut);
    expect(dropped).toEqual({ from: 1, to: cut - 1 });
    await log.close();
    expect((await listSegments(dir))[0]?.firstSeq).toBe(cut);
    const report = await verifyPath(dir, { publicKeys: [key] });
    expect(report.findings).toEqual([]);
    expect(report.firstSeq).toBe(cut);
    expect(report.notes.join('\n')).toContain(`records 1..${cut - 1} dropped by retention`);

    // A segment deleted without a retention checkpoint is a finding.
    const [, second] = await listSegments(dir);
    const { rm } = await import('node:fs/promises');
    await rm((second as { path: string }).path);
    const after = await verifyPath(dir, { publicKeys: [key] });
    expect(after.findings.map((f) => f.code)).toEqual(['missing-range']);
    expect(after.findings[0]?.from).toBe((second as { firstSeq: number }).firstSeq);
  });
});

describe('geo', () => {
  it('resolves documentation and private ranges offline, most specific first', () => {
    expect(offlineGeoResolver.lookup('192.0.2.55')?.country).toBe('DE');
    expect(offlineGeoResolver.lookup('203.0.113.9')?.city).toBe('Sydney');
    expect(offlineGeoResolver.lookup('2001:db8::1')?.country).toBe('FR');
    expect(offlineGeoResolver.lookup('::ffff:198.51.100.3')?.country).toBe('US');
    expect(offlineGeoResolver.lookup('10.1.2.3')).toEqual({ city: 'private' });
    expect(offlineGeoResolver.lookup('8.8.8.8')).toBeUndefined();
    expect(offlineGeoResolver.lookup('not an ip')).toBeUndefined();
    const custom = cidrGeoResolver([
      { cidr: '10.0.0.0/8', geo: { country: 'DE' } },
      { cidr: '10.1.0.0/16', geo: { country: 'AT' } },
    ]);
    expect(custom.lookup('10.1.9.9')?.country).toBe('AT');
    expect(custom.lookup('10.2.9.9')?.country).toBe('DE');
    expect(() => cidrGeoResolver([{ cidr: '10.0.0.0/40', geo: {} }])).toThrow(AuditError);
    expect(parseIp('1.2.3.256')).toBeUndefined();
    expect(
      Math.round(distanceKm({ lat: 52.52, lon: 13.405 }, { lat: 40.7128, lon: -74.006 })),
    ).toBe(6385);
  });

  it('the log fills actor.geo from actor.ip with a resolver', async () => {
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      geo: offlineGeoResolver,
      checkpointIntervalMs: 0,
    });
    await log.append(loginEvent(1, { actor: { type: 'user', id: 'u', ip: '198.51.100.1' } }));
    await log.close();
    expect(store.records[1]?.event?.actor.geo?.city).toBe('New York');
  });
});
