import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AlertEngine,
  type AuditEvent,
  type AuditEventInput,
  AuditLog,
  adminRoleChange,
  bruteForce,
  type EmailMessage,
  emailHook,
  generateSigningKey,
  impossibleTravel,
  MemoryStore,
  newCountry,
  normalizeEvent,
  offlineGeoResolver,
  passwordSpraying,
  secondActivation,
  successAfterFailures,
  verifyLines,
  webhookHook,
} from '../src/index.ts';
import { HttpPeer } from './servers.ts';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const MIN = 60_000;

/** A recorded sequence: events at given minute offsets, with a fake clock. */
function record(
  steps: [minute: number, event: Partial<AuditEventInput> & { actorId?: string; ip?: string }][],
): AuditEvent[] {
  return steps.map(([minute, e], i) => {
    const { actorId, ip, ...rest } = e;
    const ipAddr = ip ?? '192.0.2.1';
    return normalizeEvent(
      {
        id: `ev-${i}`,
        time: new Date(T0 + minute * MIN).toISOString(),
        tenant: 'acme',
        actor: {
          type: 'user',
          id: actorId ?? 'ann',
          ip: ipAddr,
          ...(offlineGeoResolver.lookup(ipAddr) ? { geo: offlineGeoResolver.lookup(ipAddr) } : {}),
        },
        action: 'auth.login',
        outcome: 'success',
        ...rest,
      },
      () => T0,
    );
  });
}

function run(engine: AlertEngine, events: AuditEvent[]) {
  return events.flatMap((e) =>
    engine
      .observe(e)
      .map((a) => ({ at: e.id, action: a.action, subject: a.target?.id, reason: a.reason })),
  );
}

const fail = { outcome: 'failure' as const };

describe('alert rules over recorded sequences (fake clock)', () => {
  it('brute force per account: fires at the Nth failure inside the window, once', () => {
    const engine = new AlertEngine({
      rules: [bruteForce({ threshold: 3, windowMs: 5 * MIN })],
      now: () => T0,
    });
    const events = record([
      [0, fail],
      [2, fail],
      [6, fail],
      [7, fail],
      [8, fail],
      [9, fail],
      [30, fail],
    ]);
    // 0 and 2 fall out of the window by minute 7; 6,7,8 are three inside 5 minutes.
    expect(run(engine, events)).toEqual([
      {
        at: 'ev-4',
        action: 'alert.brute-force-account',
        subject: 'acme/ann',
        reason: expect.stringContaining('3 failed logins'),
      },
    ]);
  });

  it('brute force per IP across accounts', () => {
    const engine = new AlertEngine({
      rules: [bruteForce({ by: 'ip', threshold: 4, windowMs: 10 * MIN })],
    });
    const events = record([
      [0, { ...fail, actorId: 'a' }],
      [1, { ...fail, actorId: 'b' }],
      [2, { ...fail, actorId: 'c', ip: '198.51.100.1' }],
      [3, { ...fail, actorId: 'd' }],
      [4, { ...fail, actorId: 'e' }],
    ]);
    expect(run(engine, events).map((a) => [a.at, a.subject])).toEqual([['ev-4', '192.0.2.1']]);
  });

  it('password spraying: many distinct accounts from one IP', () => {
    const engine = new AlertEngine({
      rules: [passwordSpraying({ accounts: 3, windowMs: 10 * MIN })],
    });
    const events = record([
      [0, { ...fail, actorId: 'a' }],
      [1, { ...fail, actorId: 'a' }],
      [2, { ...fail, actorId: 'b' }],
      [20, { ...fail, actorId: 'c' }], // a and b are out of the window
      [21, { ...fail, actorId: 'd' }],
      [22, { ...fail, actorId: 'e' }],
    ]);
    expect(run(engine, events).map((a) => [a.at, a.action])).toEqual([
      ['ev-5', 'alert.password-spraying'],
    ]);
  });

  it('success after failures', () => {
    const engine = new AlertEngine({
      rules: [successAfterFailures({ failures: 3, windowMs: 15 * MIN })],
    });
    const events = record([
      [0, fail],
      [1, fail],
      [2, {}],
      [3, fail],
      [4, fail],
      [5, fail],
      [6, {}],
      [7, {}],
    ]);
    expect(run(engine, events).map((a) => a.at)).toEqual(['ev-6']);
  });

  it('new country for an account, then impossible travel', () => {
    const engine = new AlertEngine({ rules: [newCountry(), impossibleTravel({ maxKmh: 900 })] });
    const events = record([
      [0, { ip: '192.0.2.5' }], // Berlin: baseline
      [60, { ip: '192.0.2.6' }], // Berlin again
      [120, { ip: '198.51.100.7' }], // New York one hour later: new country + impossible travel
      [60 * 24 * 3, { ip: '198.51.100.8' }], // New York again days later: nothing
      [60 * 24 * 3 + 5, { actorId: 'bob', ip: '203.0.113.1' }], // another account's first login
    ]);
    expect(run(engine, events).map((a) => [a.at, a.action])).toEqual([
      ['ev-2', 'alert.new-country'],
      ['ev-2', 'alert.impossible-travel'],
    ]);
  });

  it('a second activation attempt on a spent license, whoever tries', () => {
    const engine = new AlertEngine({ rules: [secondActivation()] });
    const activate = (actorId: string, outcome: 'success' | 'denied', reason?: string) => ({
      action: 'license.activate',
      actorId,
      outcome,
      target: { type: 'license', id: 'LIC-1' },
      ...(reason ? { reason } : {}),
    });
    const events = record([
      [0, activate('device-1', 'success')],
      [5, activate('device-2', 'denied', 'license already spent')],
      [
        6,
        {
          ...activate('device-9', 'denied', 'license spent'),
          target: { type: 'license', id: 'LIC-2' },
        },
      ],
    ]);
    const alerts = run(engine, events);
    expect(alerts.map((a) => [a.at, a.subject])).toEqual([
      ['ev-1', 'LIC-1'],
      ['ev-2', 'LIC-2'],
    ]);
  });

  it('admin role changes, granted or attempted; alert events never trigger rules', () => {
    const engine = new AlertEngine({ rules: [adminRoleChange()] });
    const events = record([
      [0, { action: 'admin.role.grant', target: { type: 'user', id: 'bob' } }],
      [
        1,
        { action: 'admin.role.revoke', outcome: 'denied', target: { type: 'user', id: 'carol' } },
      ],
      [2, { action: 'admin.settings.change' }],
      [3, { action: 'alert.admin-role-change' }],
    ]);
    expect(run(engine, events).map((a) => [a.at, a.subject])).toEqual([
      ['ev-0', 'bob'],
      ['ev-1', 'carol'],
    ]);
  });

  it('action patterns are literal except for `*` (a bracket or a plus is no regex operator)', () => {
    const engine = new AlertEngine({
      rules: [adminRoleChange({ actions: ['iam.grant', 'acl[x].*', 'user+.grant'] })],
    });
    const events = record([
      [0, { action: 'iam.grant', target: { type: 'user', id: 'bob' } }],
      [1, { action: 'aclx.change', target: { type: 'user', id: 'carol' } }],
      [2, { action: 'userrr.grant', target: { type: 'user', id: 'dave' } }],
    ]);
    expect(run(engine, events).map((a) => a.subject)).toEqual(['bob']);
  });
});

describe('alerts attached to a log', () => {
  it('records each alert as an audit event and delivers it to webhook and e-mail hooks', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const peer = await new HttpPeer((req, res, text) => {
      received.push({ headers: req.headers, body: text });
      res.writeHead(204).end();
    }).start();
    const mails: EmailMessage[] = [];
    const secret = 'webhook-secret-0123456789';
    const now = () => T0 + 10 * MIN;
    const engine = new AlertEngine({
      rules: [bruteForce({ threshold: 3 })],
      now,
      hooks: [
        webhookHook({ url: `${peer.url}/alerts`, secret, now }),
        emailHook({
          transport: { send: async (m) => mails.push(m) },
          from: 'audit@example.com',
          to: ['sec@example.com'],
        }),
      ],
    });
    const store = new MemoryStore();
    const key = generateSigningKey();
    const log = await AuditLog.open({ store, signingKey: key, checkpointIntervalMs: 0, now });
    engine.attach(log);
    for (const e of record([
      [0, fail],
      [1, fail],
      [2, fail],
    ]))
      await log.append(e);
    await engine.settled();
    await log.close();

    const alerts = store.records.filter((r) => r.event?.action.startsWith('alert.'));
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]?.event as AuditEvent;
    expect(alert).toMatchObject({
      actor: { type: 'system' },
      target: { type: 'account', id: 'acme/ann' },
      data: { severity: 'high', events: ['ev-0', 'ev-1', 'ev-2'] },
    });
    expect(alert.time).toBe(new Date(now()).toISOString());
    expect(verifyLines(store.lines(), { publicKeys: [key] }).ok).toBe(true);

    expect(received).toHaveLength(1);
    const hook = received[0] as (typeof received)[number];
    const ts = hook.headers['x-fluxel-timestamp'] as string;
    expect(ts).toBe(String(Math.floor(now() / 1000)));
    const expected = createHmac('sha256', secret).update(`${ts}.${hook.body}`).digest('hex');
    expect(hook.headers['x-fluxel-signature']).toBe(`v1=${expected}`);
    expect(JSON.parse(hook.body).id).toBe(alert.id);
    expect(mails).toEqual([
      expect.objectContaining({
        to: ['sec@example.com'],
        subject: '[audit alert] high: alert.brute-force-account account acme/ann',
      }),
    ]);
    await peer.stop();
  });

  it('a rule that throws does not fail the log', async () => {
    const engine = new AlertEngine({
      rules: [
        {
          name: 'broken',
          observe() {
            throw new Error('rule bug');
          },
        },
      ],
    });
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
    });
    engine.attach(log);
    const receipt = await log.append({
      tenant: 't',
      actor: { type: 'user', id: 'u' },
      action: 'auth.login',
      outcome: 'success',
    });
    expect(receipt.seq).toBe(2);
    await log.close();
    expect(verifyLines(store.lines()).ok).toBe(true);
  });

  it('a failing hook is retried and then reported, the alert stays recorded', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const engine = new AlertEngine({
      rules: [adminRoleChange()],
      hooks: [
        async () => {
          calls++;
          throw new Error('smtp down');
        },
      ],
      onHookError: (e) => errors.push(e),
    });
    const store = new MemoryStore();
    const log = await AuditLog.open({
      store,
      signingKey: generateSigningKey(),
      checkpointIntervalMs: 0,
    });
    engine.attach(log);
    await log.append({
      tenant: 't',
      actor: { type: 'user', id: 'root' },
      action: 'admin.role.grant',
      outcome: 'success',
    });
    await engine.settled();
    await log.close();
    expect(calls).toBe(3);
    expect(errors).toHaveLength(1);
    expect(store.records.some((r) => r.event?.action === 'alert.admin-role-change')).toBe(true);
  });
});
