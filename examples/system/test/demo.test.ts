import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { licenseAdminClient } from '../src/admin.ts';
import { Service } from '../src/proc.ts';
import { databaseUrl, removeDemoData } from './helpers.ts';
import { processesWith } from './processes.ts';

/** A GET over HTTPS trusting `ca`: the body. */
function fetchText(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('pnpm dev demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxel-demo-'));
  const schema = `demo_${Date.now().toString(36)}`;
  let url: string | undefined;
  afterAll(() => removeDemoData(url, schema, dataDir));

  const startDemo = async () => {
    url = await databaseUrl();
    const demo = new Service({
      name: 'demo',
      entry: 'examples/system/src/demo.ts',
      cwd: join(import.meta.dirname, '..'),
      env: {
        FLUXEL_DEMO_DATA_DIR: dataDir,
        FLUXEL_DEMO_EPHEMERAL_PORTS: '1',
        FLUXEL_DEMO_WEBHOOK_MS: '2000',
        FLUXEL_DEMO_SEND_MS: '3000',
        ...(url ? { DATABASE_URL: url, FLUXEL_DEMO_SCHEMA: schema } : {}),
      },
      logDir: join(dataDir, 'test-logs'),
    });
    await demo.waitFor(/^demo ready$/, READY_BOUND_MS);
    return demo;
  };
  const ctrlC = async (demo: Service) => {
    const children = processesWith(dataDir).filter((pid) => pid !== demo.pid);
    expect(children.length).toBeGreaterThanOrEqual(4); // relay, counterpart, portal, agent
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code).toBe(0);
    expect(demo.lines).toContain('demo: stopped.');
    expect(processesWith(dataDir)).toEqual([]);
  };

  it('seeds on the first start, stops every process on Ctrl-C, and resumes with the same data', async () => {
    const first = await startDemo();
    const out = () => first.lines.join('\n');
    expect(out()).toContain('demo: first start');
    expect(out()).toMatch(/TOTP secrets — shown ONCE/);
    expect(out()).toMatch(/otpauth:\/\/totp\//);
    expect(out()).toContain('second activation with the spent key was refused');
    // The key user's invitation mail: one console line with its link, and the mail viewer of
    // the portal's dev start lists it.
    expect(out()).toMatch(
      /\[portal\] e-mail to keyuser@demo-merchant\.test — Einladung zum Fluxel-Portal .* — https:\/\/localhost:\d+\/invite\/[\w-]{40,}/,
    );
    const portalUrl = out().match(/Portal: (https:\/\/localhost:\d+)/)?.[1];
    expect(out()).toContain(`${portalUrl}/dev/mails (linked from the portal's demo banner)`);
    const viewer = JSON.parse(
      await fetchText(
        `${portalUrl}/api/dev/mails`,
        readFileSync(join(dataDir, 'relay', 'tls', 'ca.pem')),
      ),
    ) as { mails: { to: string[]; subject: string }[] };
    expect(viewer.mails.map((m) => m.to)).toContainEqual(['keyuser@demo-merchant.test']);
    await first.waitFor(/\[alert\] critical second-activation/, READY_BOUND_MS);
    await first.waitFor(/\[agent\] inbox: /, READY_BOUND_MS); // a payment webhook reached the agent
    const state = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')) as {
      licenseId: string;
    };
    await ctrlC(first);

    const second = await startDemo();
    const again = second.lines.join('\n');
    expect(again).toContain('demo: resuming');
    expect(again).not.toMatch(/TOTP secrets — shown ONCE/);
    expect(again).toContain(state.licenseId);
    const secrets = JSON.parse(readFileSync(join(dataDir, 'system.json'), 'utf8')) as {
      adminToken: string;
    };
    const ports = JSON.parse(readFileSync(join(dataDir, 'ports.json'), 'utf8')) as {
      admin: number;
    };
    const admin = licenseAdminClient(
      `localhost:${ports.admin}`,
      secrets.adminToken,
      readFileSync(join(dataDir, 'relay/tls/ca.pem'), 'utf8'),
    );
    const licenses = await admin.list('demo-merchant');
    admin.close();
    expect(licenses.map((l) => l.id)).toEqual([state.licenseId]); // nothing created again
    await second.waitFor(/\[agent\] inbox: /, READY_BOUND_MS); // and the agent still works after the restart
    expect(existsSync(join(dataDir, 'agents/demo/inbox'))).toBe(true);
    await ctrlC(second);
  });
});
