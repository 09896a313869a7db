import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanAlerts } from '../src/alerts.ts';
import { repoRoot } from '../src/proc.ts';
import { activatedAgent, type Booted, boot, relayAuditKeyFile } from './helpers.ts';

const auditCli = join(repoRoot, 'packages/audit/dist/cli.js');
const verify = (dir: string, keyFile: string) =>
  spawnSync(process.execPath, [auditCli, 'verify', dir, '--public-key', keyFile, '--json'], {
    encoding: 'utf8',
  });

describe('promise 8: everything is audited', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('the run is in a log that `fluxel-audit verify` accepts, and a second activation raised an alert', async () => {
    const first = await activatedAgent(sys, 'first');
    expect(scanAlerts(sys.relayAuditDir)).toEqual([]);
    const again = await sys.activateAgent(join(sys.dataDir, 'agents', 'thief'), first.licenseKey);
    expect(again.code).toBe(1);
    await sys.counterpartAdmin('POST', '/admin/webhook', { payload: { paymentId: 'p-8' } });

    // The relay's alert rules record the alert in its log right after the refused attempt.
    let alerts = scanAlerts(sys.relayAuditDir);
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      alerts = scanAlerts(sys.relayAuditDir);
    }
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'second-activation', severity: 'critical' });

    // The relay closes its log (a signed checkpoint); the verifier pins its key.
    await sys.stopComponent('relay');
    const keyFile = relayAuditKeyFile(sys);
    const ok = verify(sys.relayAuditDir, keyFile);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { ok?: boolean; events?: number };
    expect(report.events).toBeGreaterThanOrEqual(5);
    const log = readFileSync(
      join(
        sys.relayAuditDir,
        readdirSync(sys.relayAuditDir).find((f) => f.endsWith('.log')) as string,
      ),
      'utf8',
    );
    for (const action of [
      'license.issue',
      'license.activate',
      'credentials.put',
      'mailbox.receive',
      'admin.license.create',
    ])
      expect(log).toContain(`"action":"${action}"`);
    expect(log).not.toContain(first.licenseKey);

    // The check can fail: one changed outcome in a copy is found.
    const copy = join(sys.dataDir, 'audit-copy');
    cpSync(sys.relayAuditDir, copy, { recursive: true });
    const segment = readdirSync(copy).find((f) => f.endsWith('.log')) as string;
    const text = readFileSync(join(copy, segment), 'utf8');
    const tampered = text.replace('"outcome":"denied"', '"outcome":"success"');
    expect(tampered).not.toBe(text);
    writeFileSync(join(copy, segment), tampered);
    expect(verify(copy, keyFile).status).toBe(1);
    await sys.startComponent('relay');
  });
});
