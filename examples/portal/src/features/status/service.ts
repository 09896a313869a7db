/**
 * The status page's use cases: the public answer (components, maintenance windows, security
 * notes — states, stable note codes and a few numbers, never host names, versions or error
 * texts), the administrators' system view, and the audited changes of windows and notes.
 */
import type { FastifyRequest } from 'fastify';
import {
  type Context,
  OPERATOR_TENANT,
  type Principal,
  recordUserAction,
} from '../../server/context.ts';
import type {
  ComponentStatus,
  MaintenanceWindow,
  PublicStatus,
  SecurityNote,
  SystemInfo,
} from './contract.ts';
import {
  acmeComponent,
  applyMaintenance,
  certificateInfo,
  overallState,
  probeDatabase,
  probeMailbox,
  probeRelay,
} from './probes.ts';
import { statsOf } from './relay-stats.ts';
import { type MaintenanceInput, type NoteInput, StatusStore } from './store.ts';

/** How long probe results and the public answer may be reused. */
export const STATUS_CACHE_SECONDS = 5;

export class StatusService {
  readonly #ctx: Context;
  readonly #store: StatusStore;
  #remote: { at: number; value: Promise<ComponentStatus[]> } | undefined;

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#store = new StatusStore(ctx.db, ctx.now);
  }

  /**
   * Remote probes (relay, mailbox) are shared for a few seconds and never run twice at once,
   * so a monitor polling every second costs the relay one call per 5 s.
   */
  #remoteProbes(): Promise<ComponentStatus[]> {
    const now = Date.now();
    if (this.#remote && now - this.#remote.at < STATUS_CACHE_SECONDS * 1000)
      return this.#remote.value;
    const value = Promise.all([
      probeRelay((tenant) => this.#ctx.relay.list(tenant), this.#ctx.statusThresholds),
      probeMailbox(statsOf(this.#ctx.relay), this.#ctx.statusThresholds?.relayTimeoutMs),
    ]);
    this.#remote = { at: now, value };
    return value;
  }

  async #components(): Promise<ComponentStatus[]> {
    const ctx = this.#ctx;
    const [portal, [relay, mailbox]] = await Promise.all([
      probeDatabase(ctx.db),
      this.#remoteProbes(),
    ]);
    const acme = acmeComponent(certificateInfo(ctx.tls.current().cert, ctx.now()));
    return [portal, relay as ComponentStatus, acme, mailbox as ComponentStatus];
  }

  async #lists(): Promise<{ windows: MaintenanceWindow[]; notes: SecurityNote[] }> {
    try {
      const [windows, notes] = await Promise.all([
        this.#store.currentAndUpcoming(),
        this.#store.recentNotes(),
      ]);
      return { windows, notes };
    } catch {
      // The database is down: the portal component says so; the lists stay empty.
      return { windows: [], notes: [] };
    }
  }

  async publicStatus(): Promise<PublicStatus> {
    const [probed, { windows, notes }] = await Promise.all([this.#components(), this.#lists()]);
    const shown = applyMaintenance(probed, windows);
    return {
      state: overallState(shown),
      checkedAt: new Date(this.#ctx.now()).toISOString(),
      components: shown,
      maintenance: windows,
      securityNotes: notes,
    };
  }

  async system(): Promise<SystemInfo> {
    const ctx = this.#ctx;
    const { windows } = await this.#lists();
    return {
      tls: certificateInfo(ctx.tls.current().cert, ctx.now()),
      node: process.version,
      uptimeSeconds: Math.floor(process.uptime()),
      database: ctx.db.kind,
      components: applyMaintenance(await this.#components(), windows),
    };
  }

  // ------------------------------------------------------------ administration

  #audit(
    req: FastifyRequest,
    p: Principal,
    action: string,
    target: { type: string; id: string },
    data?: Record<string, unknown>,
  ): Promise<void> {
    return recordUserAction(this.#ctx, req, p, action, OPERATOR_TENANT, target, data);
  }

  async createWindow(req: FastifyRequest, p: Principal, input: MaintenanceInput) {
    const created = await this.#store.createWindow(input, p.user.id);
    await this.#audit(
      req,
      p,
      'status.maintenance.created',
      { type: 'maintenance', id: created.id },
      windowData(created),
    );
    return created;
  }

  async updateWindow(req: FastifyRequest, p: Principal, id: string, input: MaintenanceInput) {
    const updated = await this.#store.updateWindow(id, input);
    if (!updated) return undefined;
    await this.#audit(
      req,
      p,
      'status.maintenance.updated',
      { type: 'maintenance', id: updated.id },
      windowData(updated),
    );
    return updated;
  }

  /** `false` when there is no such window. */
  async deleteWindow(req: FastifyRequest, p: Principal, id: string): Promise<boolean> {
    if (!(await this.#store.deleteWindow(id))) return false;
    await this.#audit(req, p, 'status.maintenance.deleted', { type: 'maintenance', id });
    return true;
  }

  async createNote(req: FastifyRequest, p: Principal, input: NoteInput) {
    const created = await this.#store.createNote(input, p.user.id);
    await this.#audit(
      req,
      p,
      'status.note.created',
      { type: 'security-note', id: created.id },
      { severity: created.severity },
    );
    return created;
  }

  async updateNote(req: FastifyRequest, p: Principal, id: string, input: NoteInput) {
    const updated = await this.#store.updateNote(id, input);
    if (!updated) return undefined;
    await this.#audit(
      req,
      p,
      'status.note.updated',
      { type: 'security-note', id: updated.id },
      { severity: updated.severity },
    );
    return updated;
  }

  /** `false` when there is no such note. */
  async deleteNote(req: FastifyRequest, p: Principal, id: string): Promise<boolean> {
    if (!(await this.#store.deleteNote(id))) return false;
    await this.#audit(req, p, 'status.note.deleted', { type: 'security-note', id });
    return true;
  }
}

const windowData = (w: MaintenanceWindow) => ({
  startsAt: w.startsAt,
  endsAt: w.endsAt,
  components: w.components,
});
