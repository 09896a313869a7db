import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { makeTestPki } from '@fluxel/internal/pki';
import { missingDependency, waitUntilReady } from '@fluxel/internal/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, attachSink, generateSigningKey, MemoryStore } from '../src/index.ts';
import { syslogSink } from '../src/node.ts';
import { loginEvent, tempDir } from './helpers.ts';
import { until } from './servers.ts';

// A real syslog daemon: Debian's rsyslog (and rsyslog-openssl for TLS), started per test
// on a loopback port with a temporary configuration that writes to a temporary file.
const RSYSLOGD = '/usr/sbin/rsyslogd';
const skip = existsSync(RSYSLOGD)
  ? undefined
  : missingDependency('rsyslogd', 'apt-get install rsyslog rsyslog-openssl');
const tlsSkip =
  skip ??
  (['x86_64', 'aarch64'].some((a) => existsSync(`/usr/lib/${a}-linux-gnu/rsyslog/lmnsd_ossl.so`))
    ? undefined
    : missingDependency('the rsyslog OpenSSL driver', 'apt-get install rsyslog-openssl'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const daemons: ChildProcess[] = [];
afterAll(() => {
  for (const d of daemons) d.kill('SIGTERM');
});

async function startRsyslog(dir: string, tls?: { ca: string; cert: string; key: string }) {
  const port = await freePort();
  const out = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  const global = tls
    ? `global(workDirectory="${dir}" DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="${tls.ca}" DefaultNetstreamDriverCertFile="${tls.cert}" DefaultNetstreamDriverKeyFile="${tls.key}")`
    : `global(workDirectory="${dir}")`;
  const input = tls
    ? `module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")`
    : 'module(load="imtcp")';
  writeFileSync(
    conf,
    `${global}
${input}
template(name="audit" type="string" string="%msgid%|%structured-data%|%msg%\\n")
ruleset(name="audit") { action(type="omfile" file="${out}" template="audit" flushOnTXEnd="on" asyncWriting="off") }
input(type="imtcp" port="${port}" address="127.0.0.1" ruleset="audit")
`,
  );
  execFileSync(RSYSLOGD, ['-N1', '-f', conf], { stdio: 'pipe' });
  const daemon = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  daemons.push(daemon);
  // Ready when it accepts connections (it used to give up silently after 100 tries).
  await waitUntilReady(
    `rsyslogd to accept connections on 127.0.0.1:${port}`,
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    { intervalMs: 50 },
  );
  return {
    port,
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []),
    stop: () => daemon.kill('SIGTERM'),
  };
}

async function ship(port: number, tls?: { ca: Buffer }) {
  const store = new MemoryStore();
  const log = await AuditLog.open({
    store,
    signingKey: generateSigningKey(),
    checkpointIntervalMs: 0,
  });
  const runner = await attachSink(log, {
    sink: syslogSink({
      host: '127.0.0.1',
      port,
      hostname: 'relay-1',
      ...(tls ? { tls: { ca: tls.ca, servername: 'localhost' } } : {}),
    }),
    retry: { initialMs: 10, maxMs: 100 },
  });
  for (let i = 0; i < 25; i++) await log.append(loginEvent(i, { data: { note: 'ünïcödé', i } }));
  await runner.drain();
  await runner.stop();
  await log.close();
  return store.records.filter((r) => r.event);
}

describe.skipIf(skip !== undefined)(
  `syslog sink against rsyslogd ${skip ? `(skipped: ${skip})` : ''}`,
  () => {
    it('rsyslogd parses every RFC 5424 message: MSGID, structured data with sequenceId, JSON body', async () => {
      const dir = tempDir();
      const daemon = await startRsyslog(dir);
      const records = await ship(daemon.port);
      await until(() => daemon.lines().length >= records.length);
      const lines = daemon.lines();
      expect(lines).toHaveLength(records.length);
      for (const [i, line] of lines.entries()) {
        const record = records[i];
        const [msgid, sd, ...rest] = line.split('|');
        expect(msgid).toBe('auth.login');
        expect(sd).toContain(`[meta sequenceId="${record?.seq}"]`);
        expect(sd).toContain(`id="${record?.event?.id}"`);
        expect(JSON.parse(rest.join('|').replace(/^\uFEFF/, ''))).toEqual(record?.event);
      }
      daemon.stop();
    });

    it.skipIf(tlsSkip !== undefined)('over TLS (rsyslog-openssl) with a test CA', async () => {
      const dir = tempDir();
      const pki = makeTestPki({ dir, names: ['localhost', '127.0.0.1'] });
      const daemon = await startRsyslog(dir, {
        ca: pki.caPath,
        cert: pki.certPath,
        key: pki.keyPath,
      });
      const records = await ship(daemon.port, { ca: Buffer.from(pki.caPem) });
      await until(() => daemon.lines().length >= records.length);
      expect(daemon.lines().map((l) => /id="([^"]+)"/.exec(l)?.[1])).toEqual(
        records.map((r) => r.event?.id),
      );
      daemon.stop();
    });
  },
);
