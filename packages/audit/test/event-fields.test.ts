/**
 * An audit event has a closed set of fields: a field the schema does not know is refused with
 * ERR_AUDIT_INVALID_EVENT naming it, never dropped (a misspelt `requestID` used to vanish from
 * the log without a word). Free-form details go in `data`.
 */
import { describe, expect, it } from 'vitest';
import {
  type AuditEventInput,
  AuditLog,
  generateSigningKey,
  MemoryStore,
  normalizeEvent,
  validateAuditEvent,
  validateAuditEventInput,
} from '../src/index.ts';
import { loginEvent } from './helpers.ts';

async function openLog() {
  const store = new MemoryStore();
  const log = await AuditLog.open({ store, signingKey: generateSigningKey() });
  return { store, log };
}

const withField = (extra: Record<string, unknown>) =>
  ({ ...loginEvent(1), ...extra }) as unknown as AuditEventInput;

describe('unknown event fields', () => {
  it('regression: unknown audit event fields were dropped silently (top level)', async () => {
    const { store, log } = await openLog();
    const before = store.records.length;
    await expect(log.append(withField({ requestID: 'req-9' }))).rejects.toMatchObject({
      code: 'ERR_AUDIT_INVALID_EVENT',
      message: expect.stringMatching(/unknown field "requestID"/),
    });
    expect(store.records.length).toBe(before);
    await log.close();
  });

  it('regression: unknown audit event fields were dropped silently (actor, target, actor.geo)', async () => {
    const { store, log } = await openLog();
    const before = store.records.length;
    const cases: [AuditEventInput, string][] = [
      [withField({ actor: { type: 'user', id: 'u1', department: 'sales' } }), 'actor.department'],
      [withField({ target: { type: 'license', id: 'l1', owner: 'u2' } }), 'target.owner'],
      [
        withField({ actor: { type: 'user', id: 'u1', geo: { country: 'DE', region: 'BY' } } }),
        'actor.geo.region',
      ],
      // the slow path (a caller-supplied time) refuses them the same way
      [
        withField({ time: '2026-01-01T00:00:00.000Z', target: { type: 't', id: 'i', x: 1 } }),
        'target.x',
      ],
    ];
    for (const [input, field] of cases) {
      const error = await log.append(input).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'ERR_AUDIT_INVALID_EVENT',
        message: expect.stringContaining(`unknown field "${field}"`),
      });
    }
    expect(store.records.length).toBe(before);
    await log.close();
  });

  it('an unknown field is refused even when its value is undefined (a misspelt optional field)', () => {
    expect(() => normalizeEvent(withField({ requestID: undefined }))).toThrow(
      /unknown field "requestID"/,
    );
  });

  it('free-form details in data are kept, and every known field is accepted', () => {
    const event = normalizeEvent({
      ...loginEvent(1),
      target: { type: 'license', id: 'l1', name: 'Pro' },
      reason: 'why',
      data: { anything: { nested: true }, department: 'sales' },
    });
    expect(event.data).toEqual({ anything: { nested: true }, department: 'sales' });
    expect(event.target).toEqual({ type: 'license', id: 'l1', name: 'Pro' });
  });

  it('the exported validators refuse unknown fields too, naming them', () => {
    expect(validateAuditEventInput(withField({ extra: 1 }))).toEqual({
      path: 'extra',
      kind: 'unknown-field',
      message: 'unknown field (free-form details go in data)',
    });
    const stored = normalizeEvent(loginEvent(1));
    expect(validateAuditEvent(stored)).toBeUndefined();
    expect(validateAuditEvent({ ...stored, extra: 1 })?.path).toBe('extra');
  });
});
