/**
 * The hand-written event validator (issue 20: no zod in @fluxel/audit) enforces every rule the
 * former zod schema enforced, no more and no less: a table with a valid and an invalid case per
 * rule, then generated events, addresses and times compared with the old schema (kept in
 * test/fixtures/zod-reference.ts, zod being a devDependency for that file alone).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEventInput,
  canonicalJson,
  normalizeEvent,
  parseAuditEvent,
  parseAuditEventInput,
  validateAuditEvent,
  validateAuditEventInput,
} from '../src/index.ts';
import { isIpLiteral } from '../src/ip.ts';
import { arbAction, arbOutcome } from './fixtures/arbitraries.ts';
import {
  auditEventInputSchema,
  auditEventSchema,
  isoDateTime,
  referenceIsIpLiteral,
} from './fixtures/zod-reference.ts';

const packageDir = resolve(import.meta.dirname, '..');

const input = {
  tenant: 'acme',
  actor: { type: 'user', id: 'ann@acme.example' },
  action: 'auth.login',
  outcome: 'success',
} as const;
const stored = { ...input, id: '01JTB7Q8Z5W4X3V2T1S0R9Q8P7', time: '2026-05-01T12:00:00.000Z' };

const x = (n: number) => 'x'.repeat(n);
const withActor = (actor: Record<string, unknown>) => ({ actor: { ...input.actor, ...actor } });
const withGeo = (geo: Record<string, unknown>) => withActor({ geo });
class Box {
  a = 1;
}

/** [what, change to the event, the path refused (undefined: valid), rules: input, stored or both]. */
type Case = [string, Record<string, unknown>, string | undefined, ('input' | 'stored')?];
const cases: Case[] = [
  [
    'every optional field',
    { target: { type: 't', id: 'i', name: 'n' }, reason: 'r', requestId: 'q', data: { a: 1 } },
    undefined,
  ],
  ['an unknown field', { requestID: 'r-1' }, 'requestID'],
  ['an unknown field set to undefined', { requestID: undefined }, 'requestID'],
  ['an optional field set to undefined', { reason: undefined }, undefined],
  // id
  ['id of 128 characters', { id: x(128) }, undefined],
  ['id of 129 characters', { id: x(129) }, 'id'],
  ['empty id', { id: '' }, 'id'],
  ['id not a string', { id: 7 }, 'id'],
  ['id missing', { id: undefined }, undefined, 'input'],
  ['id missing', { id: undefined }, 'id', 'stored'],
  // time
  ['time with fraction', { time: '2026-05-01T12:00:00.123456Z' }, undefined],
  ['time without fraction', { time: '2026-05-01T23:59:59Z' }, undefined],
  ['time on 29 February of a leap year', { time: '2024-02-29T00:00:00Z' }, undefined],
  ['time on 29 February 2000', { time: '2000-02-29T00:00:00Z' }, undefined],
  ['time on 29 February 1900', { time: '1900-02-29T00:00:00Z' }, 'time'],
  ['time on 29 February of a common year', { time: '2023-02-29T00:00:00Z' }, 'time'],
  ['time on 31 April', { time: '2026-04-31T00:00:00Z' }, 'time'],
  ['time in month 13', { time: '2026-13-01T00:00:00Z' }, 'time'],
  ['time on day 0', { time: '2026-01-00T00:00:00Z' }, 'time'],
  ['time at hour 24', { time: '2026-01-01T24:00:00Z' }, 'time'],
  ['time with a leap second', { time: '2026-01-01T23:59:60Z' }, 'time'],
  ['time with an offset', { time: '2026-05-01T12:00:00+02:00' }, 'time'],
  ['time without seconds', { time: '2026-05-01T12:00Z' }, 'time'],
  ['time without zone', { time: '2026-05-01T12:00:00' }, 'time'],
  ['time with a lower-case z', { time: '2026-05-01T12:00:00z' }, 'time'],
  ['time with a space for T', { time: '2026-05-01 12:00:00Z' }, 'time'],
  ['time with an empty fraction', { time: '2026-05-01T12:00:00.Z' }, 'time'],
  ['time a date only', { time: '2026-05-01' }, 'time'],
  ['time a number', { time: 1_777_636_800_000 }, 'time'],
  ['time missing', { time: undefined }, undefined, 'input'],
  ['time missing', { time: undefined }, 'time', 'stored'],
  // tenant
  ['tenant of 256 characters', { tenant: x(256) }, undefined],
  ['tenant of 257 characters', { tenant: x(257) }, 'tenant'],
  ['empty tenant', { tenant: '' }, 'tenant'],
  ['tenant missing', { tenant: undefined }, 'tenant'],
  ['tenant not a string', { tenant: ['acme'] }, 'tenant'],
  // actor
  ['actor missing', { actor: undefined }, 'actor'],
  ['actor an array', { actor: [] }, 'actor'],
  ['actor a string', { actor: 'ann' }, 'actor'],
  ['actor with an unknown field', withActor({ department: 'it' }), 'actor.department'],
  ['actor of every type', withActor({ type: 'system' }), undefined],
  ['actor of an unknown type', withActor({ type: 'robot' }), 'actor.type'],
  ['actor id of 512 characters', withActor({ id: x(512) }), undefined],
  ['actor id of 513 characters', withActor({ id: x(513) }), 'actor.id'],
  ['empty actor id', withActor({ id: '' }), 'actor.id'],
  ['actor name of 512 characters', withActor({ name: x(512) }), undefined],
  ['actor name of 513 characters', withActor({ name: x(513) }), 'actor.name'],
  ['actor userAgent of 1024 characters', withActor({ userAgent: x(1024) }), undefined],
  ['actor userAgent of 1025 characters', withActor({ userAgent: x(1025) }), 'actor.userAgent'],
  ['actor userAgent not a string', withActor({ userAgent: 5 }), 'actor.userAgent'],
  // actor.ip: one address literal when appended, any short string when stored
  ['IPv4', withActor({ ip: '192.0.2.10' }), undefined],
  ['IPv6', withActor({ ip: '2001:db8::1' }), undefined],
  ['IPv6 loopback', withActor({ ip: '::1' }), undefined],
  ['IPv4-mapped IPv6', withActor({ ip: '::ffff:192.0.2.1' }), undefined],
  ['IPv6 in upper case', withActor({ ip: '2001:DB8:0:0:0:0:0:1' }), undefined],
  ['"unknown" as IP', withActor({ ip: 'unknown' }), 'actor.ip', 'input'],
  ['a forwarded-for list as IP', withActor({ ip: '192.0.2.10, 10.0.0.1' }), 'actor.ip', 'input'],
  ['IPv4 with a leading zero', withActor({ ip: '192.0.2.010' }), 'actor.ip', 'input'],
  ['IPv4-mapped with a leading zero', withActor({ ip: '::ffff:192.0.2.01' }), 'actor.ip', 'input'],
  ['IPv4 octet over 255', withActor({ ip: '256.0.2.1' }), 'actor.ip', 'input'],
  ['IPv6 with a zone', withActor({ ip: 'fe80::1%eth0' }), 'actor.ip', 'input'],
  ['IPv6 in brackets', withActor({ ip: '[::1]' }), 'actor.ip', 'input'],
  ['IPv6 with a newline', withActor({ ip: '::1\n' }), 'actor.ip', 'input'],
  ['IPv6 with two ::', withActor({ ip: '1::2::3' }), 'actor.ip', 'input'],
  ['IPv6 of nine groups', withActor({ ip: '1:2:3:4:5:6:7:8:9' }), 'actor.ip', 'input'],
  ['IPv6 with a group of five digits', withActor({ ip: '12345::1' }), 'actor.ip', 'input'],
  ['IP not a string', withActor({ ip: 3232235521 }), 'actor.ip'],
  ['a pseudonymised IP, stored', withActor({ ip: `pseu:${x(59)}` }), undefined, 'stored'],
  ['a stored IP of 65 characters', withActor({ ip: x(65) }), 'actor.ip', 'stored'],
  // actor.geo
  [
    'geo with every field',
    withGeo({ country: 'DE', city: 'Berlin', lat: 52.52, lon: 13.405 }),
    undefined,
  ],
  ['geo at the limits', withGeo({ lat: -90, lon: 180 }), undefined],
  ['geo an array', withGeo([] as never), 'actor.geo'],
  ['geo with an unknown field', withGeo({ region: 'BY' }), 'actor.geo.region'],
  ['lower-case country', withGeo({ country: 'de' }), 'actor.geo.country'],
  ['three-letter country', withGeo({ country: 'DEU' }), 'actor.geo.country'],
  ['country not a string', withGeo({ country: 49 }), 'actor.geo.country'],
  ['city of 200 characters', withGeo({ city: x(200) }), undefined],
  ['city of 201 characters', withGeo({ city: x(201) }), 'actor.geo.city'],
  ['latitude over 90', withGeo({ lat: 90.000001 }), 'actor.geo.lat'],
  ['latitude NaN', withGeo({ lat: Number.NaN }), 'actor.geo.lat'],
  ['latitude as text', withGeo({ lat: '52.5' }), 'actor.geo.lat'],
  ['longitude under -180', withGeo({ lon: -180.5 }), 'actor.geo.lon'],
  ['longitude infinite', withGeo({ lon: Number.POSITIVE_INFINITY }), 'actor.geo.lon'],
  // action
  ['action of three parts', { action: 'admin.role-x.grant_1' }, undefined],
  ['action of 128 characters', { action: `a.${x(126)}` }, undefined],
  ['action of 129 characters', { action: `a.${x(127)}` }, 'action'],
  ['action of one part', { action: 'login' }, 'action'],
  ['action in upper case', { action: 'Auth.login' }, 'action'],
  ['action with an empty part', { action: 'auth..login' }, 'action'],
  ['action not a string', { action: null }, 'action'],
  // target
  ['target type of 128 characters', { target: { type: x(128), id: 'i' } }, undefined],
  ['target type of 129 characters', { target: { type: x(129), id: 'i' } }, 'target.type'],
  ['empty target type', { target: { type: '', id: 'i' } }, 'target.type'],
  ['target id of 512 characters', { target: { type: 't', id: x(512) } }, undefined],
  ['target id of 513 characters', { target: { type: 't', id: x(513) } }, 'target.id'],
  ['empty target id', { target: { type: 't', id: '' } }, 'target.id'],
  [
    'target name of 513 characters',
    { target: { type: 't', id: 'i', name: x(513) } },
    'target.name',
  ],
  ['target with an unknown field', { target: { type: 't', id: 'i', owner: 'u2' } }, 'target.owner'],
  ['target a string', { target: 'license' }, 'target'],
  // outcome, reason, requestId
  ['outcome denied', { outcome: 'denied' }, undefined],
  ['outcome not in the list', { outcome: 'ok' }, 'outcome'],
  ['outcome missing', { outcome: undefined }, 'outcome'],
  ['reason of 2048 characters', { reason: x(2048) }, undefined],
  ['reason of 2049 characters', { reason: x(2049) }, 'reason'],
  ['requestId of 256 characters', { requestId: x(256) }, undefined],
  ['requestId of 257 characters', { requestId: x(257) }, 'requestId'],
  ['requestId not a string', { requestId: 1 }, 'requestId'],
  // data
  ['data with nested values', { data: { a: { b: [1, null, 'c'] } } }, undefined],
  ['data without a prototype', { data: Object.assign(Object.create(null), { a: 1 }) }, undefined],
  ['data an array', { data: [1, 2] }, 'data'],
  ['data null', { data: null }, 'data'],
  ['data a string', { data: 'text' }, 'data'],
  ['data a Date', { data: new Date(0) }, 'data'],
  ['data a Map', { data: new Map([['a', 1]]) }, 'data'],
  ['data a class instance', { data: new Box() }, 'data'],
  ['data with a symbol key', { data: { [Symbol('s')]: 1 } }, 'data'],
];

describe('event rules, case by case (old behaviour = new behaviour)', () => {
  for (const [what, change, path, only] of cases) {
    for (const rules of ['input', 'stored'] as const) {
      if (only !== undefined && only !== rules) continue;
      it(`${rules}: ${what} is ${path === undefined ? 'valid' : `refused at ${path}`}`, () => {
        const event = { ...(rules === 'input' ? input : stored), ...change };
        const issue =
          rules === 'input' ? validateAuditEventInput(event) : validateAuditEvent(event);
        expect(issue?.path).toBe(path);
        const reference = rules === 'input' ? auditEventInputSchema : auditEventSchema;
        expect(reference.safeParse(event).success).toBe(path === undefined);
      });
    }
  }

  it('the event itself must be an object', () => {
    for (const value of [null, undefined, [], 'event', 1]) {
      expect(validateAuditEventInput(value)).toMatchObject({ path: '', kind: 'invalid' });
      expect(validateAuditEvent(value)).toMatchObject({ path: '', kind: 'invalid' });
      expect(auditEventInputSchema.safeParse(value).success).toBe(false);
    }
  });

  it('the thrown error is ERR_AUDIT_INVALID_EVENT naming the field and the rule', () => {
    expect(() => parseAuditEventInput({ ...input, tenant: '' })).toThrow(
      expect.objectContaining({
        code: 'ERR_AUDIT_INVALID_EVENT',
        message: 'invalid audit event at tenant: must not be empty',
      }),
    );
    expect(() => parseAuditEvent({ ...stored, ...withGeo({ lat: 91 }) })).toThrow(
      'invalid audit event at actor.geo.lat: between -90 and 90',
    );
    expect(() =>
      normalizeEvent({ ...input, target: { type: 't', id: 'i', x: 1 } } as never),
    ).toThrow('invalid audit event: unknown field "target.x" (free-form details go in data)');
    expect(() => normalizeEvent(null as never)).toThrow(
      'invalid audit event at (root): expected an object',
    );
  });

  it('parse returns a fresh copy and never adds id or time; normalizeEvent fills them in', () => {
    const event = { ...input, data: { a: 1 } };
    const parsed = parseAuditEventInput(event);
    expect(parsed).toEqual(event);
    expect(parsed).not.toBe(event);
    expect(parsed.data).not.toBe(event.data);
    expect(parsed).not.toHaveProperty('id');
    const normalized = normalizeEvent(event, () => Date.parse('2026-05-01T12:00:00.000Z'));
    expect(normalized.time).toBe('2026-05-01T12:00:00.000Z');
    expect(normalized.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const given = normalizeEvent({ ...event, id: 'e-1', time: '2020-01-01T00:00:00Z' }, () => {
      throw new Error('the clock is not read when id and time are given');
    });
    expect(given).toMatchObject({ id: 'e-1', time: '2020-01-01T00:00:00Z' });
  });
});

describe('generated inputs: the validator agrees with the former zod schema', () => {
  const text = (max: number) => fc.oneof(fc.string({ maxLength: max + 2 }), fc.constant(''));
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const time = fc.oneof(
    fc
      .date({
        min: new Date(-62_135_596_800_000),
        max: new Date(253_402_300_799_999),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
    fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.constantFrom('', '.5', '.123', '.', '.1234567890'),
        fc.constantFrom('Z', 'z', '+00:00', '', 'Z '),
      )
      .map(([y, mo, d, h, s, f, z]) => {
        const p = (n: number, w = 2) => String(n).padStart(w, '0');
        return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(s)}:${p(s)}${f}${z}`;
      }),
    fc.string({ maxLength: 30 }),
  );
  const ip = fc.oneof(
    fc.ipV4(),
    fc.ipV4Extended(),
    fc.ipV6(),
    fc.ipV6().map((v) => v.toUpperCase()),
    fc
      .tuple(
        fc.constantFrom(
          '::ffff:',
          '::',
          '1:2:3:4:5:6:',
          '1:2:3:4:5:6:7:',
          '64:ff9b::',
          '1::2:3:4:5:6:',
          ':',
        ),
        fc.oneof(
          fc.ipV4(),
          fc.ipV4Extended(),
          fc.string({ unit: fc.constantFrom(...'0123456789.'), maxLength: 16 }),
        ),
      )
      .map(([head, tail]) => head + tail),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'), maxLength: 46 }),
    fc.string({ maxLength: 70 }),
  );
  const geo = fc.record(
    {
      country: optional(
        fc.oneof(fc.constantFrom('DE', 'de', 'DEU', 'U1'), fc.string({ maxLength: 3 })),
      ),
      city: optional(text(200)),
      lat: optional(fc.oneof(fc.double(), fc.integer({ min: -91, max: 91 }))),
      lon: optional(fc.oneof(fc.double(), fc.integer({ min: -181, max: 181 }))),
      region: optional(fc.string()),
    },
    { requiredKeys: [] },
  );
  const event = fc.record(
    {
      id: optional(text(128)),
      time: optional(time),
      tenant: fc.oneof(text(256), fc.constant('acme')),
      actor: fc.oneof(
        fc.record(
          {
            type: fc.constantFrom('user', 'device', 'service', 'system', 'robot'),
            id: fc.oneof(text(512), fc.constant('ann')),
            name: optional(text(512)),
            ip: optional(ip),
            userAgent: optional(text(1024)),
            geo: optional(fc.oneof(geo, fc.constant(null))),
            extra: optional(fc.integer()),
          },
          { requiredKeys: ['type', 'id'] },
        ),
        fc.constantFrom(null, 'ann', []),
      ),
      action: arbAction,
      outcome: arbOutcome,
      target: optional(
        fc.record(
          {
            type: text(128),
            id: fc.oneof(text(512), fc.constant('t')),
            name: optional(text(512)),
            owner: optional(fc.string()),
          },
          { requiredKeys: ['type', 'id'] },
        ),
      ),
      reason: optional(text(2048)),
      requestId: optional(text(256)),
      data: optional(
        fc.oneof(
          fc.dictionary(fc.string(), fc.jsonValue()),
          fc.array(fc.integer()),
          fc.constant(null),
        ),
      ),
      unknown: optional(fc.string()),
    },
    { requiredKeys: ['tenant', 'actor', 'action', 'outcome'] },
  );

  it('input rules: same verdict, same output', () => {
    fc.assert(
      fc.property(event, (value) => {
        const reference = auditEventInputSchema.safeParse(value);
        const issue = validateAuditEventInput(value);
        expect(issue === undefined).toBe(reference.success);
        if (reference.success)
          expect(canonicalJson(parseAuditEventInput(value))).toBe(canonicalJson(reference.data));
      }),
      { numRuns: 3000 },
    );
  });

  it('stored rules: same verdict, same output', () => {
    const storedEvent = fc
      .record({ id: text(128), time })
      .chain((fill) => event.map((value) => ({ ...value, ...fill })));
    fc.assert(
      fc.property(storedEvent, (value) => {
        const reference = auditEventSchema.safeParse(value);
        expect(validateAuditEvent(value) === undefined).toBe(reference.success);
        if (reference.success)
          expect(canonicalJson(parseAuditEvent(value))).toBe(canonicalJson(reference.data));
      }),
      { numRuns: 3000 },
    );
  });

  it('IP literals: same verdict as the former regex + z.ipv6()', () => {
    fc.assert(
      fc.property(ip, (value) => {
        expect(isIpLiteral(value)).toBe(referenceIsIpLiteral(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('times: same verdict as the former z.iso.datetime({ offset: false })', () => {
    fc.assert(
      fc.property(time, (value) => {
        const ours = validateAuditEventInput({ ...input, time: value }) === undefined;
        expect(ours).toBe(isoDateTime.safeParse(value).success);
      }),
      { numRuns: 20_000 },
    );
  });

  it('normalizeEvent output is exactly what the validator built (a typed event)', () => {
    const event: AuditEventInput = { ...input, actor: { type: 'user', id: 'a', geo: { lat: 1 } } };
    expect(normalizeEvent(event, () => 0).actor).toEqual({
      type: 'user',
      id: 'a',
      geo: { lat: 1 },
    });
  });
});

describe('no zod in @fluxel/audit', () => {
  it('regression: @fluxel/audit depended on zod (a project on zod 3 got a second nested zod 4)', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('zod');
    expect(Object.keys(manifest.peerDependencies ?? {})).not.toContain('zod');
    const src = join(packageDir, 'src');
    const importers = readdirSync(src).filter((file) =>
      /from ['"]zod(\/[^'"]*)?['"]/.test(readFileSync(join(src, file), 'utf8')),
    );
    expect(importers).toEqual([]);
  });
});
