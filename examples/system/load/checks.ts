/**
 * The verdict, from what the stopped system left behind: the counterpart's effect log, the
 * agents' outboxes, drop folders and inboxes, the database, the relays' audit logs and the
 * RSS samples. Each check states what it saw; the figures go into the report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signingKeyFromSeed, verifyingKeyFromRaw } from '@fluxel/audit';
import { verifyPath } from '@fluxel/audit/node';
import { FileOutboxStore } from '@fluxel/relay-client/node';
import pg from 'pg';
import type { FaultRun } from './faults.ts';
import { type Check, type MemoryFigure, percentile } from './report.ts';
import type { Settings } from './settings.ts';
import type { Topology } from './topology.ts';
import { DORMANT, type Traffic } from './traffic.ts';

export interface Effect {
  readonly seq: number;
  readonly operation: string;
  readonly idempotencyKey: string | null;
  readonly body: { order?: string };
  readonly at: string;
}

export interface Evidence {
  readonly settings: Settings;
  readonly top: Topology;
  readonly traffic: Traffic;
  readonly faults: readonly FaultRun[];
  readonly effects: readonly Effect[];
  /** Calls the counterpart answered from its idempotency store (re-forwards absorbed). */
  readonly replayedByTarget: number;
  readonly memory: readonly MemoryFigure[];
  readonly loadStartedAt: number;
  readonly drained: boolean;
  readonly drainMs: number;
  readonly dormantSeenAfterAging: number | undefined;
}

type Latency = { p50: number | null; p99: number | null; n: number };
const latency = (values: number[]): Latency => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  n: values.length,
});

/** A fault's window for latency: from its start until 5 s after its end. */
const SETTLE_MS = 5000;

export async function examine(ev: Evidence) {
  const { top, traffic, settings, faults, effects } = ev;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  // records: exactly once, by order and by idempotency key
  const byOrder = new Map<string, number>();
  const byKey = new Map<string, number>();
  for (const e of effects) {
    const order = e.body.order ?? '?';
    byOrder.set(order, (byOrder.get(order) ?? 0) + 1);
    if (e.idempotencyKey) byKey.set(e.idempotencyKey, (byKey.get(e.idempotencyKey) ?? 0) + 1);
  }
  const dropTimes = traffic.dropTimes;
  const lost = [...dropTimes.keys()].filter((o) => !byOrder.has(o));
  const dupOrders = [...byOrder].filter(([, n]) => n > 1).map(([o, n]) => `${o}×${n}`);
  const dupKeys = [...byKey].filter(([, n]) => n > 1).map(([k, n]) => `${k}×${n}`);
  const unknown = [...byOrder.keys()].filter((o) => !dropTimes.has(o));
  const noKey = effects.filter((e) => !e.idempotencyKey).length;

  // dead letters, rejected and left-over files, from the stopped agents' own stores
  let deadLetters = 0;
  let leftInOutbox = 0;
  let rejected = 0;
  let leftInDropFolder = 0;
  const deadDetail: string[] = [];
  const files = (dir: string) => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  };
  for (const a of top.agents) {
    const store = await FileOutboxStore.open(join(a.dir, 'outbox'));
    try {
      const stats = await store.stats();
      deadLetters += stats.dead;
      leftInOutbox += stats.depth;
      for (const d of await store.deadLetters())
        deadDetail.push(`agent-${a.index} ${d.id}: ${d.lastError?.code ?? '?'}`);
    } finally {
      await store.close();
    }
    rejected += files(join(a.dir, 'rejected')).length;
    leftInDropFolder +=
      files(join(a.dir, 'outgoing')).length +
      readdirSync(join(a.dir, 'outgoing', '.claimed')).length;
  }

  // mailbox: every accepted webhook picked up by its own agent exactly once, or expired
  const hooks = [...traffic.hooks.values()];
  const acceptedHooks = hooks.filter((h) => h.accepted);
  const agentHooks = acceptedHooks.filter((h) => h.license !== DORMANT);
  const dormantHooks = acceptedHooks.filter((h) => h.license === DORMANT);
  let pickedRight = 0;
  const pickedWrong: string[] = [];
  const notPicked: string[] = [];
  const inboxes = top.agents.map((a) => new Set(files(join(a.dir, 'inbox'))));
  for (const h of agentHooks) {
    const holders = inboxes.flatMap((set, i) => (set.has(`${h.id}.json`) ? [i] : []));
    if (holders.length === 1 && holders[0] === h.license) pickedRight++;
    else if (holders.length === 0) notPicked.push(h.id);
    else pickedWrong.push(`${h.id} in agent(s) ${holders.join(',')}, for agent ${h.license}`);
  }
  const strayInbox = inboxes
    .flatMap((set) => [...set])
    .filter((f) => !traffic.hooks.has(f.replace(/\.json$/, '')));

  // database leftovers
  const admin = new pg.Client({ connectionString: settings.databaseUrl });
  await admin.connect();
  const leftRows = (
    await admin.query(
      `SELECT license_id, count(*)::int AS n FROM ${top.schema}.relay_mailbox GROUP BY 1`,
    )
  ).rows as { license_id: string; n: number }[];
  const idem = (
    await admin.query(
      `SELECT state, count(*)::int AS n FROM ${top.schema}.relay_idempotency GROUP BY 1`,
    )
  ).rows as { state: string; n: number }[];
  await admin.end();

  // audit logs: verify each instance's log against the pinned key; read its events
  const secrets = JSON.parse(readFileSync(join(top.relayDirA, 'secrets.json'), 'utf8')) as {
    auditSeed: string;
  };
  const auditKey = verifyingKeyFromRaw(
    signingKeyFromSeed(new Uint8Array(Buffer.from(secrets.auditSeed, 'base64'))).publicKey,
  );
  const audit: { instance: string; ok: boolean; records: number; findings: string[] }[] = [];
  type AuditEvent = {
    instance: string;
    action: string;
    outcome: string;
    time?: string;
    reason?: string;
    target?: { id: string };
    data?: Record<string, unknown>;
  };
  const auditEvents: AuditEvent[] = [];
  for (const r of top.relays) {
    const dir = join(r.dir, 'audit');
    const report = await verifyPath(dir, { publicKeys: [auditKey] });
    audit.push({
      instance: r.name,
      ok: report.ok && report.trust === 'pinned',
      records: report.records,
      findings: report.findings.map(
        (f) => `${f.code}${f.seq !== undefined ? ` at ${f.seq}` : ''}: ${f.message}`,
      ),
    });
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort())
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        if (!line) continue;
        const rec = JSON.parse(line) as { k: string; e?: AuditEvent };
        if (rec.k === 'e' && rec.e) auditEvents.push({ ...rec.e, instance: r.name });
      }
  }
  const expiredIds = new Set(
    auditEvents.filter((e) => e.action === 'mailbox.expire').map((e) => e.target?.id),
  );
  const dormantExpired = dormantHooks.filter((h) => expiredIds.has(h.id)).length;
  const dormantPickedUp = auditEvents.filter(
    (e) =>
      e.action === 'mailbox.pickup' &&
      e.data?.license === top.dormant.license &&
      Array.isArray(e.data.ids) &&
      e.data.ids.length > 0,
  ).length;
  const sendSuccess = new Map<string, number>();
  for (const e of auditEvents)
    if (e.action === 'relay.send' && e.outcome === 'success') {
      const key = String(e.data?.idempotencyKey);
      sendSuccess.set(key, (sendSuccess.get(key) ?? 0) + 1);
    }
  const duplicateEvidence = [...byKey]
    .filter(([, n]) => n > 1)
    .slice(0, 20)
    .map(([key]) => ({
      idempotencyKey: key,
      effects: effects
        .filter((e) => e.idempotencyKey === key)
        .map((e) => ({ seq: e.seq, at: e.at, order: e.body.order })),
      audited: auditEvents
        .filter((e) => e.action === 'relay.send' && String(e.data?.idempotencyKey) === key)
        .map(({ instance, outcome, time, reason }) => ({ instance, outcome, time, reason })),
    }));

  // latency: drop into the folder → recorded at the counterpart; before, during, after faults
  const windows = faults
    .filter((f) => f.startedAt !== undefined)
    .map((f) => [f.startedAt as number, (f.endedAt ?? Date.now()) + SETTLE_MS] as const);
  const firstFault = Math.min(...windows.map(([s]) => s));
  const all: number[] = [];
  const before: number[] = [];
  const during: number[] = [];
  const between: number[] = [];
  for (const e of effects) {
    const dropped = e.body.order ? dropTimes.get(e.body.order) : undefined;
    if (dropped === undefined) continue;
    const ms = Date.parse(e.at) - dropped;
    all.push(ms);
    if (dropped < firstFault) before.push(ms);
    else if (windows.some(([s, end]) => dropped >= s && dropped < end)) during.push(ms);
    else between.push(ms);
  }
  const latencyMs = {
    what: 'file dropped into the agent folder → recorded by the counterpart',
    all: latency(all),
    beforeFaults: latency(before),
    duringFaults: latency(during),
    outsideFaults: latency(between),
  };

  // what the faults did to the agents: failed attempts by error code (from their logs)
  const retriesByCode: Record<string, number> = {};
  for (const a of top.agents) {
    let text = '';
    try {
      text = readFileSync(a.log, 'utf8');
    } catch {}
    for (const m of text.matchAll(/attempt \d+ failed \((?:[\w.]+: )?(\w+)\)/g))
      retriesByCode[m[1] as string] = (retriesByCode[m[1] as string] ?? 0) + 1;
  }

  // the agent faults: what the agent said
  const diskRuns = faults.filter((f) => f.kind === 'agent disk full');
  const clockRuns = faults.filter((f) => f.kind === 'agent clock 5 min off');
  const clockOutcome = clockRuns.map((f) => {
    const mine = [...dropTimes].filter(
      ([order, t]) =>
        order.startsWith(`L${f.agent}-`) &&
        f.startedAt !== undefined &&
        t >= f.startedAt + 3000 &&
        t < (f.endedAt ?? 0) - 8000,
    );
    const deliveredInWindow = mine.filter(([order]) =>
      effects.some((e) => e.body.order === order && Date.parse(e.at) < (f.endedAt ?? 0) - 4000),
    ).length;
    return {
      agent: f.agent,
      worked: mine.length > 0 && deliveredInWindow === mine.length,
      deliveredWhileSkewed: `${deliveredInWindow}/${mine.length}`,
      namedTheClock: (f.said ?? []).some((l) => /clock/i.test(l)),
      said: (f.said ?? []).slice(0, 3),
    };
  });

  check(
    'every record delivered',
    lost.length === 0,
    `${lost.length} lost${lost.length ? `: ${lost.slice(0, 10).join(', ')}` : ''}`,
  );
  check(
    'no duplicate effect',
    dupOrders.length === 0 && dupKeys.length === 0,
    `${dupOrders.length} orders / ${dupKeys.length} idempotency keys more than once${dupOrders.length ? `: ${dupOrders.slice(0, 10).join(', ')}` : ''}; ${ev.replayedByTarget} re-forwards absorbed by the key`,
  );
  check(
    'every delivery carries an idempotency key',
    noKey === 0 && unknown.length === 0,
    `${noKey} without key, ${unknown.length} unknown orders`,
  );
  check(
    'nothing dead-lettered or rejected',
    deadLetters === 0 && rejected === 0,
    `${deadLetters} dead letters, ${rejected} rejected${deadDetail.length ? `: ${deadDetail.slice(0, 5).join('; ')}` : ''}`,
  );
  check(
    'outboxes and drop folders empty',
    leftInOutbox === 0 && leftInDropFolder === 0,
    `${leftInOutbox} in outboxes, ${leftInDropFolder} files left`,
  );
  check(
    'every webhook accepted by a relay',
    acceptedHooks.length === hooks.length,
    `${acceptedHooks.length}/${hooks.length} accepted`,
  );
  check(
    'every event picked up by its own agent, once',
    pickedRight === agentHooks.length && pickedWrong.length === 0 && strayInbox.length === 0,
    `${pickedRight}/${agentHooks.length} picked${notPicked.length ? `; missing ${notPicked.slice(0, 5).join(', ')}` : ''}${pickedWrong.length ? `; wrong ${pickedWrong.slice(0, 5).join('; ')}` : ''}${strayInbox.length ? `; stray ${strayInbox.length}` : ''}`,
  );
  check(
    'dormant events expired, never handed out',
    dormantHooks.length > 0 &&
      dormantExpired === dormantHooks.length &&
      dormantPickedUp === 0 &&
      ev.dormantSeenAfterAging === 0,
    `${dormantExpired}/${dormantHooks.length} expired (audited mailbox.expire), ${dormantPickedUp} pickups`,
  );
  check(
    'no mailbox row left',
    leftRows.length === 0,
    leftRows.length ? JSON.stringify(leftRows) : '0 rows',
  );
  check(
    'audit logs verify (pinned key)',
    audit.every((a) => a.ok),
    audit.map((a) => `${a.instance}: ${a.ok ? 'OK' : 'FAILED'} (${a.records} records)`).join(', '),
  );
  check(
    'each delivery audited as relay.send success',
    [...byKey.keys()].every((k) => (sendSuccess.get(k) ?? 0) >= 1),
    `${sendSuccess.size} keys audited as delivered for ${byKey.size} delivered keys`,
  );
  const kindsRun = new Map<string, number>();
  for (const f of faults) if (f.ok) kindsRun.set(f.kind, (kindsRun.get(f.kind) ?? 0) + 1);
  check(
    `every fault injected ${settings.repeats}× as planned`,
    faults.every((f) => f.ok) && [...kindsRun.values()].every((n) => n === settings.repeats),
    `${faults.filter((f) => f.ok).length}/${faults.length} ran: ${[...kindsRun].map(([k, n]) => `${k} ${n}×`).join(', ')}`,
  );
  const saidFull = (f: FaultRun) => (f.said ?? []).some((l) => /disk is full/.test(l));
  const saidResumed = (f: FaultRun) => (f.said ?? []).some((l) => /writes work again/.test(l));
  check(
    'disk full: the agent stops claiming, says so, resumes',
    diskRuns.length > 0 &&
      diskRuns.every((f) => saidFull(f) && saidResumed(f) && (f.unclaimed ?? 0) > 0),
    diskRuns
      .map(
        (f) =>
          `${f.unclaimed ?? 0} files left unclaimed; ${saidFull(f) ? 'said the disk is full' : 'did NOT say the disk is full'}; ${saidResumed(f) ? 'said it resumed' : 'did NOT say it resumed'}`,
      )
      .join(' | '),
  );
  check(
    'clock 5 min off: works (server nonce) or the agent names the clock',
    clockOutcome.length > 0 && clockOutcome.every((c) => c.worked || c.namedTheClock),
    clockOutcome
      .map(
        (c) =>
          `agent-${c.agent}: ${c.worked ? 'worked' : 'did not deliver'} (${c.deliveredWhileSkewed} while skewed)${c.namedTheClock ? ', named the clock' : ''}`,
      )
      .join('; '),
  );
  check(
    `RSS growth after warm-up within bounds (${Object.entries(settings.rssBoundMiB)
      .map(
        ([p, b]) =>
          `${p} ${b} MiB${p === 'counterpart' ? ` + ${settings.counterpartKiBPerRecord} KiB/record` : ''}`,
      )
      .join(', ')})`,
    ev.memory.every((m) => m.ok),
    ev.memory
      .filter((m) => !m.ok)
      .map((m) => `${m.process} +${m.growthMiB} MiB`)
      .join(', ') || 'all within',
  );
  check('drained in time', ev.drained, `${(ev.drainMs / 1000).toFixed(1)}s after the load`);

  return {
    checks,
    figures: {
      records: {
        sent: dropTimes.size,
        delivered: byOrder.size,
        deliveries: effects.length,
        duplicates: effects.length - byOrder.size,
        reforwardedDeduplicatedByTarget: ev.replayedByTarget,
        lost: lost.length,
        deadLettered: deadLetters,
        rejected,
        latencyMs,
        failedAttemptsByCode: retriesByCode,
      },
      mailbox: {
        webhooksSent: hooks.length,
        webhookAttempts: hooks.reduce((n, h) => n + h.attempts, 0),
        in: acceptedHooks.length,
        picked: pickedRight,
        expectedPicked: agentHooks.length,
        expired: dormantExpired,
        expectedExpired: dormantHooks.length,
        left: leftRows.reduce((n, r) => n + r.n, 0),
      },
      clockSkew: clockOutcome,
      duplicateEvidence,
      idempotencyRecords: Object.fromEntries(idem.map((r) => [r.state, r.n])),
      audit,
    },
  };
}
