import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDevTls } from '@fluxel-example/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activatedAgent, type Booted, boot } from './helpers.ts';

/** Socket inodes in LISTEN state (TCP/TCP6) on this machine, from /proc. */
function listeningInodes(): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) out.add(cols[9]);
    }
  }
  return out;
}

function socketInodes(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m?.[1]) out.push(m[1]);
    } catch {}
  }
  return out;
}

describe('promise 1: no inbound access to the merchant', () => {
  let sys: Booted;
  beforeAll(async () => {
    sys = await boot();
  });
  afterAll(async () => sys?.close());

  it('the agent refuses a relay whose certificate does not chain to the given CA, and never listens', async () => {
    const admin = sys.admin();
    const { license, licenseKey } = await admin.create({
      tenant: 'demo-merchant',
      product: 'wawi-sync',
    });
    const otherCa = ensureDevTls(join(sys.dataDir, 'other-ca')).caPath;
    const dir = join(sys.dataDir, 'agents', 'wrong-ca');
    const refused = await sys.agent(dir, [
      'activate',
      licenseKey,
      '--relay',
      sys.relayUrl,
      '--ca',
      otherCa,
      '--key-store',
      'file',
      '--json',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ ok: false, code: 'ERR_RELAY_TLS' });
    // Nothing reached the relay: the license is still unspent.
    expect((await admin.get(license.id)).status).toBe('issued');

    // Plain HTTP is not even offered.
    const plain = await sys.agent(dir, [
      'activate',
      licenseKey,
      '--relay',
      sys.relayUrl.replace('https:', 'http:'),
      '--ca',
      sys.caPath,
      '--key-store',
      'file',
      '--json',
    ]);
    expect(plain.code).not.toBe(0);
    expect((await admin.get(license.id)).status).toBe('issued');

    // With the right CA the same key activates, and the running agent holds no listening socket.
    const good = await activatedAgent(sys, 'right-ca');
    const agent = await sys.startAgent(good.dir);
    const sockets = socketInodes(agent.pid);
    expect(sockets.length).toBeGreaterThan(0); // it does talk to the relay (outbound)
    const listening = listeningInodes();
    expect(sockets.filter((s) => listening.has(s))).toEqual([]);
    // The relay, by contrast, does listen — the check can see a listener.
    const relayPid = sys.services.relay?.pid as number;
    expect(socketInodes(relayPid).some((s) => listening.has(s))).toBe(true);
    await agent.stop();
  });
});
