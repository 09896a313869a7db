import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { candidatePort } from '../src/ports.ts';
import { type Booted, boot } from './helpers.ts';

/**
 * `freePort` picked a port, closed it and handed it on; another process could bind it before
 * the counterpart did, and the system failed to start with EADDRINUSE. Here the picker's first
 * answer is a port another process (this test) already holds — the race lost every time.
 */
describe('a picked port taken before its component binds it', () => {
  let squatter: Server | undefined;
  let system: Booted | undefined;
  afterAll(async () => {
    await system?.close();
    await new Promise<void>((done) => (squatter ? squatter.close(() => done()) : done()));
  });

  it('is picked again and the system starts (freePort check-then-bind race)', async () => {
    squatter = createServer();
    const server = squatter;
    const held = await new Promise<number>((done) =>
      server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)),
    );
    const picks: number[] = [];
    system = await boot({
      pickPort: async () => {
        const port = picks.length === 0 ? held : await candidatePort(new Set([held]));
        picks.push(port);
        return port;
      },
    });
    expect(picks[0]).toBe(held);
    expect(picks).toHaveLength(2);
    const port = Number(new URL(system.counterpartUrl).port);
    expect(port).toBe(picks[1]);
    expect(system.services.counterpart?.lines.join('\n')).toContain(
      `counterpart listening on http://127.0.0.1:${port}`,
    );
    // The relay was started again, told the counterpart's new URL.
    const relayEnv = readFileSync(`/proc/${system.services.relay?.pid}/environ`, 'latin1');
    expect(relayEnv.split('\0')).toContain(`COUNTERPART_URL=http://127.0.0.1:${port}`);
    expect(await system.counterpartAdmin('GET', '/admin/effects')).toBeDefined();
  });
});
