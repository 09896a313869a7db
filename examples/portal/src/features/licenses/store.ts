/**
 * Where licenses live: not in the portal's database but at the relay, reached through the
 * relay gateway (its LicenseAdmin gRPC API and portal API). This module is the licenses
 * feature's only access to them, and turns the relay's refusals into the portal's problems.
 */
import type { Context } from '../../server/context.ts';
import { fail } from '../../server/http.ts';
import {
  type ConnectionMeta,
  type LicenseRecord,
  RelayGatewayError,
} from '../../server/relay-gateway.ts';

export type { ConnectionMeta, LicenseRecord } from '../../server/relay-gateway.ts';

function relayFailure(error: unknown): never {
  if (error instanceof RelayGatewayError) {
    if (error.reason === 'not_found') return fail(404, 'not_found', 'not found');
    if (error.reason === 'license_not_active')
      return fail(409, 'license_not_active', 'the license is not activated');
    if (error.reason === 'invalid') return fail(400, 'bad_request', error.message);
    if (error.reason === 'webhook_secret_invalid')
      return fail(400, 'webhook_secret_invalid', error.message);
    if (error.reason === 'forbidden') return fail(404, 'not_found', 'not found');
    return fail(503, 'upstream_unavailable', 'the relay is not reachable; try again shortly');
  }
  throw error;
}

async function viaRelay<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return relayFailure(error);
  }
}

/** A license id as the relay accepts it; anything else cannot exist (404 without asking). */
const LICENSE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function getLicense(ctx: Context, id: string): Promise<LicenseRecord> {
  if (!LICENSE_ID.test(id)) return fail(404, 'not_found', 'not found');
  return viaRelay(() => ctx.relay.get(id));
}

/** The licenses of one tenant, or of every tenant (`undefined`). */
export const listLicenses = (ctx: Context, tenant?: string): Promise<LicenseRecord[]> =>
  viaRelay(() => ctx.relay.list(tenant));

export const createLicense = (ctx: Context, input: Parameters<Context['relay']['create']>[0]) =>
  viaRelay(() => ctx.relay.create(input));

export const lockLicense = (ctx: Context, id: string, reason: string) =>
  viaRelay(() => ctx.relay.lock(id, reason));

export const unlockLicense = (ctx: Context, id: string) => viaRelay(() => ctx.relay.unlock(id));

export const rebindLicense = (ctx: Context, id: string) => viaRelay(() => ctx.relay.rebind(id));

export const connectionsOf = (ctx: Context, id: string): Promise<ConnectionMeta[]> =>
  viaRelay(() => ctx.relay.connections(id));

export const putCredentials = (
  ctx: Context,
  id: string,
  connection: string,
  body: Parameters<Context['relay']['putCredentials']>[2],
) => viaRelay(() => ctx.relay.putCredentials(id, connection, body));
