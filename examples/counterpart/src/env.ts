/** The counterpart's settings from environment variables (see README). */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CounterpartOptions } from './index.ts';

export const DEFAULT_WEBHOOK_SECRET = 'whsec_Zmx1eGVsLWRldi13ZWJob29rLXNlY3JldC0zMmI=';

export function counterpartOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaultCaPath: string,
): CounterpartOptions & { caPath: string } {
  const caPath = resolve(env.COUNTERPART_RELAY_CA ?? defaultCaPath);
  const port = Number(env.COUNTERPART_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('COUNTERPART_PORT must be a port number');
  return {
    caPath,
    apiKey: env.COUNTERPART_API_KEY ?? 'dev-counterpart-key',
    ...(env.COUNTERPART_ADMIN_KEY ? { adminKey: env.COUNTERPART_ADMIN_KEY } : {}),
    port,
    down: env.COUNTERPART_DOWN === '1' || env.COUNTERPART_DOWN === 'true',
    logger: env.COUNTERPART_LOG === '1',
    idempotent: env.COUNTERPART_IDEMPOTENT === '1' || env.COUNTERPART_IDEMPOTENT === 'true',
    webhook: {
      url: env.COUNTERPART_WEBHOOK_URL ?? 'https://127.0.0.1:8443/v1/hooks/shop-1',
      secret: env.COUNTERPART_WEBHOOK_SECRET ?? DEFAULT_WEBHOOK_SECRET,
      ca: () => (existsSync(caPath) ? readFileSync(caPath, 'utf8') : undefined),
    },
  };
}
