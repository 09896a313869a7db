/** What the agent reports about its machine: host name and its own version, never a refusal to start. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AGENT_VERSION, deviceDescription } from '../src/relay.ts';

describe('deviceDescription', () => {
  it('is the host name and the agent version', () => {
    expect(AGENT_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(deviceDescription('kasse-01.filiale')).toEqual({
      hostName: 'kasse-01.filiale',
      agentVersion: AGENT_VERSION,
    });
    expect(deviceDescription().hostName).toBe(hostname());
  });

  it('leaves out a host name the license service would refuse', () => {
    expect(deviceDescription('not a host\nname')).toEqual({ agentVersion: AGENT_VERSION });
    expect(deviceDescription('')).toEqual({ agentVersion: AGENT_VERSION });
  });
});
