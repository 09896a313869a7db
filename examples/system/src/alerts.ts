/**
 * The system's view of the relay's alerts: the relay runs the `@fluxel/audit` alert rules over
 * its own hash-chained file log and records each alert there; this reads the log's segments
 * (read-only) and lists them. The portal raises its own login alerts over its own log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '@fluxel/audit';

export interface RaisedAlert {
  readonly rule: string;
  readonly severity: string;
  readonly summary: string;
  readonly time: string;
}

/** Reads the audit events of a relay's file log (segment files in order). */
export function readAuditEvents(auditDir: string): AuditEvent[] {
  if (!existsSync(auditDir)) return [];
  const out: AuditEvent[] = [];
  for (const file of readdirSync(auditDir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    for (const line of readFileSync(join(auditDir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as { k?: string; e?: AuditEvent };
        if (record.k === 'e' && record.e) out.push(record.e);
      } catch {
        // a torn last line while the relay writes: picked up at the next scan
      }
    }
  }
  return out;
}

/**
 * The alerts the relay raised: its alert rules (`RelayOptions.alerts`, by default a second
 * activation of a spent license) record each one in its own audit log as `alert.<rule>`.
 */
export function scanAlerts(auditDir: string): RaisedAlert[] {
  return readAuditEvents(auditDir)
    .filter((event) => event.action.startsWith('alert.'))
    .map((event) => ({
      rule: event.action.slice('alert.'.length),
      severity: String((event.data as { severity?: unknown } | undefined)?.severity ?? 'unknown'),
      summary: event.reason ?? event.action,
      time: event.time,
    }));
}
