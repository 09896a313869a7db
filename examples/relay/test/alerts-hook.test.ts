/**
 * The start script's alert target (`RELAY_ALERTS_URL` + `RELAY_ALERTS_SECRET`): both or
 * neither, an https URL, a secret the portal accepts; errors name the variable, never the secret.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { READY_BOUND_MS } from '@fluxel/internal/testing';
import { describe, expect, it } from 'vitest';
import { alertsTarget } from '../src/alerts-hook.ts';

const SECRET = 'a-relay-alerts-secret-0123456789';
const URL_OK = 'https://127.0.0.1:8445/internal/relay/v1/alerts';

describe('alertsTarget', () => {
  it('is off with neither, on with both', () => {
    expect(alertsTarget(undefined, undefined)).toBeUndefined();
    expect(alertsTarget('', '')).toBeUndefined();
    expect(alertsTarget(URL_OK, SECRET)).toEqual({ url: URL_OK, secret: SECRET });
  });

  it('refuses one without the other, a non-https URL, a short secret, a missing CA file', () => {
    expect(() => alertsTarget(URL_OK, undefined)).toThrow(
      'RELAY_ALERTS_URL and RELAY_ALERTS_SECRET go together (RELAY_ALERTS_SECRET is missing)',
    );
    expect(() => alertsTarget(undefined, SECRET)).toThrow(/RELAY_ALERTS_URL is missing/);
    expect(() => alertsTarget('not a url', SECRET)).toThrow('RELAY_ALERTS_URL is not a URL');
    expect(() => alertsTarget('http://127.0.0.1/alerts', SECRET)).toThrow(/must be an https URL/);
    expect(() => alertsTarget(URL_OK, 'short')).toThrow(/at least 16 bytes/);
    expect(() => alertsTarget(URL_OK, SECRET, '/nonexistent/ca.pem')).toThrow(
      'RELAY_ALERTS_CA=/nonexistent/ca.pem is not readable',
    );
    const error = (() => {
      try {
        alertsTarget(URL_OK, 'short-secret');
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/RELAY_ALERTS_SECRET needs/);
    expect(error?.message).not.toContain('short-secret');
  });

  it('the start script exits 1 with the message when only one of the two is set', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../src/main.ts')],
      {
        env: { PATH: process.env.PATH, RELAY_ALERTS_URL: URL_OK, RELAY_DEV_TOKENS: '0' },
        encoding: 'utf8',
        timeout: READY_BOUND_MS,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'relay: RELAY_ALERTS_URL and RELAY_ALERTS_SECRET go together (RELAY_ALERTS_SECRET is missing)',
    );
  });
});
