/**
 * The portal's audit log: `@fluxel/audit` over the portal's own database (SqlStore), Ed25519
 * signed checkpoints, and the alert rules (brute force, password spraying, admin role change)
 * evaluated on every committed event.
 */
import {
  AlertEngine,
  AuditLog,
  adminRoleChange,
  bruteForce,
  type PrivacyTransform,
  passwordSpraying,
  type SigningKey,
  SqlStore,
  successAfterFailures,
} from '@fluxel/audit';
import type { AuditRow } from '../shared/api.ts';
import type { Database } from './db.ts';

export interface AuditStoreQuery {
  readonly tenant: string;
  readonly actorId?: string;
  readonly action?: string;
  readonly outcome?: 'success' | 'failure' | 'denied';
  readonly from?: string;
  readonly to?: string;
  readonly beforeSeq?: number;
  readonly limit?: number;
}

export interface PortalAudit {
  readonly log: AuditLog;
  readonly store: SqlStore;
  readonly alerts: AlertEngine;
  query(q: AuditStoreQuery): Promise<{ events: AuditRow[]; nextBefore?: number }>;
  close(): Promise<void>;
}

const LOGIN = { loginActions: ['auth.login', 'auth.second-factor'] };

export async function openPortalAudit(
  db: Database,
  signingKey: SigningKey,
  now: () => number,
  privacy?: PrivacyTransform,
): Promise<PortalAudit> {
  const store = new SqlStore(db, { table: 'portal_audit', stream: 'portal' });
  const log = await AuditLog.open({
    store,
    signingKey,
    now,
    checkpointIntervalMs: 0,
    ...(privacy ? { privacy } : {}),
  });
  const alerts = new AlertEngine({
    rules: [
      bruteForce({ ...LOGIN, by: 'account' }),
      bruteForce({ ...LOGIN, by: 'ip', threshold: 20 }),
      passwordSpraying({ ...LOGIN, accounts: 5 }),
      successAfterFailures(LOGIN),
      adminRoleChange({ actions: ['admin.role.granted', 'user.role.changed'] }),
    ],
    now,
  });
  const detach = alerts.attach(log);
  return {
    log,
    store,
    alerts,
    async query(q) {
      const result = await store.query({ ...q, limit: q.limit ?? 100 });
      return {
        events: result.events.map((e) => ({
          seq: e.seq,
          id: e.id,
          time: e.time,
          action: e.action,
          outcome: e.outcome,
          actor: {
            type: e.actor.type,
            id: e.actor.id,
            ...(e.actor.ip ? { ip: e.actor.ip } : {}),
          },
          ...(e.target ? { target: { type: e.target.type, id: e.target.id } } : {}),
          tenant: e.tenant,
          ...(e.data || e.reason
            ? { details: { ...(e.reason ? { reason: e.reason } : {}), ...(e.data ?? {}) } }
            : {}),
        })),
        ...(result.nextBeforeSeq ? { nextBefore: result.nextBeforeSeq } : {}),
      };
    },
    async close() {
      detach();
      await alerts.settled();
      await log.close();
    },
  };
}
