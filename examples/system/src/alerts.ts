/**
 * The system's alert watch over the relay's audit log: the relay writes a hash-chained file
 * log; this reads its segments (read-only) and runs the `@fluxel/audit` alert rules that fit
 * the relay's events — second activation of a spent license, brute force on activation.
 * The portal raises its own login alerts over its own log.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertEngine, type AuditEvent, secondActivation } from '@fluxel/audit';

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

/** Runs the alert rules over every event of the log; returns the alerts raised. */
export function scanAlerts(auditDir: string): RaisedAlert[] {
  const engine = new AlertEngine({ rules: [secondActivation()] });
  const alerts: RaisedAlert[] = [];
  for (const event of readAuditEvents(auditDir))
    for (const alert of engine.observe(event)) {
      const data = (alert.data ?? {}) as { rule?: string; severity?: string; summary?: string };
      alerts.push({
        rule: data.rule ?? alert.action.replace(/^alert\./, ''),
        severity: data.severity ?? 'unknown',
        summary: data.summary ?? alert.reason ?? alert.action,
        time: event.time,
      });
    }
  return alerts;
}
