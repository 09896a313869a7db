/**
 * What the relay records: every event goes to its audit log and, as metadata, to the partner
 * event feed (`feed.ts`); the license authority's events become audit events; drops of the
 * feed are counted always and reported (audit + log) on the first drop and then at most once
 * per interval, so an outage does not flood the audit log.
 */
import type { AuditEventInput, AuditLog } from '@fluxel/audit';
import type { AuthorityEvent } from '@fluxel/license';
import { type DropNotice, EventFeed, type FeedOptions, type FeedSink } from './feed.ts';

export interface RecorderOptions {
  /** The feed's brokers (none: the feed is off). */
  readonly sinks: FeedSink[];
  readonly feed?: FeedOptions;
  /** How often a run of drops is written to the audit log and the log. Default 60 000 ms. */
  readonly dropReportIntervalMs?: number | undefined;
  /** The relay's log (warnings). */
  readonly warn: (message: string, data: Record<string, unknown>) => void;
}

export class Recorder {
  /** The partner event feed. */
  readonly feed: EventFeed;
  readonly #audit: AuditLog;
  readonly #warn: RecorderOptions['warn'];
  readonly #intervalMs: number;
  readonly #dropReported = new Map<string, number>();
  readonly #dropAudits = new Set<Promise<void>>();

  constructor(audit: AuditLog, options: RecorderOptions) {
    this.#audit = audit;
    this.#warn = options.warn;
    this.#intervalMs = options.dropReportIntervalMs ?? 60_000;
    this.feed = new EventFeed(options.sinks, options.feed ?? {}, (notice) => this.#onDrop(notice));
  }

  /** Appends `event` to the audit log, then publishes its metadata to the feed. */
  readonly record = async (event: AuditEventInput): Promise<void> => {
    await this.#audit.append(event);
    this.#publish(event);
  };

  /** Records an event of the license authority (activation, refresh, lock, …). */
  readonly authorityEvent = (event: AuthorityEvent): Promise<void> =>
    this.record({
      tenant: event.tenant ?? 'unknown',
      actor: event.actor
        ? { type: 'service', id: event.actor }
        : { type: 'device', id: event.jkt ?? 'unknown' },
      action: event.action,
      outcome: event.outcome,
      ...(event.licenseId ? { target: { type: 'license', id: event.licenseId } } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
    });

  /** Closes the feed (publishing what is queued, bounded), then waits for drop reports. */
  async close(): Promise<void> {
    await this.feed.close();
    await Promise.all(this.#dropAudits);
  }

  #publish(event: AuditEventInput): void {
    if (event.action.startsWith('feed.')) return;
    const data = event.data ?? {};
    const licenseId =
      event.target?.type === 'license'
        ? event.target.id
        : typeof data.license === 'string'
          ? data.license
          : undefined;
    const connection =
      event.target?.type === 'connection'
        ? event.target.id
        : typeof data.connection === 'string'
          ? data.connection
          : undefined;
    this.feed.publish({
      type: event.action,
      outcome: event.outcome,
      ...(event.tenant && event.tenant !== 'unknown' ? { tenant: event.tenant } : {}),
      ...(licenseId ? { licenseId } : {}),
      ...(connection ? { connection } : {}),
    });
  }

  #onDrop(notice: DropNotice): void {
    const last = this.#dropReported.get(notice.sink);
    const now = Date.now();
    if (last !== undefined && now - last < this.#intervalMs) return;
    this.#dropReported.set(notice.sink, now);
    const data = { sink: notice.sink, type: notice.type, dropped: notice.dropped };
    this.#warn('event feed dropped events', { ...data, reason: notice.reason });
    const appended = this.#audit
      .append({
        tenant: 'system',
        actor: { type: 'service', id: 'event-feed' },
        action: 'feed.drop',
        outcome: 'failure',
        reason: notice.reason,
        data,
      })
      .then(
        () => {},
        () => {},
      );
    this.#dropAudits.add(appended);
    void appended.finally(() => this.#dropAudits.delete(appended));
  }
}
