/**
 * What a device says about itself: its host name and the version of the software that runs
 * on it. The owner sees them on the license (which machine, which agent); they are not
 * credentials and prove nothing — the device key does. The caller supplies the values (e.g.
 * `os.hostname()` in Node), so this module runs on every platform.
 *
 * On the wire it travels in the DPoP proofs of activation and refresh (claim `dvc`, signed with
 * the device key), so no request body or route changes.
 */
import { LicenseError } from './errors.js';

/**
 * A device's description. Both parts optional; an empty description sends nothing.
 *
 * @example
 * ```ts
 * import { createDpopSigner, type DeviceDescription, generateKeyPair } from '@fluxel/license';
 *
 * const device: DeviceDescription = { hostName: 'kasse-01', agentVersion: '2.4.1' };
 * const signer = createDpopSigner((await generateKeyPair()).privateJwk, { device });
 * await signer.proof({ method: 'POST', url: 'https://relay.example/v1/activate' });
 * ```
 */
export interface DeviceDescription {
  /** The machine's host name: 1–253 letters, digits, `.`, `_`, `-` (starting with a letter or digit). */
  readonly hostName?: string;
  /** The version of the agent software: 1–64 of `0-9 A-Z a-z . + _ -` (semver fits). */
  readonly agentVersion?: string;
}

const HOST_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,252}$/u;
const AGENT_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

/**
 * The description, checked: an object with at most `hostName` and `agentVersion`, each
 * matching its pattern. Anything else is `ERR_LICENSE_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { checkDeviceDescription } from '@fluxel/license/client';
 *
 * assert.deepEqual(checkDeviceDescription({ hostName: 'kasse-01' }), { hostName: 'kasse-01' });
 * assert.throws(() => checkDeviceDescription({ hostName: 'no spaces' }), {
 *   code: 'ERR_LICENSE_INVALID_ARGUMENT',
 * });
 * ```
 */
export function checkDeviceDescription(value: unknown): DeviceDescription {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid('the device description must be an object');
  const { hostName, agentVersion, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    invalid('the device description takes only hostName and agentVersion');
  if (hostName !== undefined && (typeof hostName !== 'string' || !HOST_NAME.test(hostName)))
    invalid(
      'hostName must be 1 to 253 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  if (
    agentVersion !== undefined &&
    (typeof agentVersion !== 'string' || !AGENT_VERSION.test(agentVersion))
  )
    invalid('agentVersion must be 1 to 64 of 0-9 A-Z a-z . + _ -, starting with a letter or digit');
  return {
    ...(hostName !== undefined ? { hostName } : {}),
    ...(agentVersion !== undefined ? { agentVersion } : {}),
  };
}

/** The proof claim of a description (`{ hn, av }`), or undefined when it is empty. */
export function deviceClaim(
  description: DeviceDescription,
): { hn?: string; av?: string } | undefined {
  const claim = {
    ...(description.hostName !== undefined ? { hn: description.hostName } : {}),
    ...(description.agentVersion !== undefined ? { av: description.agentVersion } : {}),
  };
  return Object.keys(claim).length > 0 ? claim : undefined;
}

/** The description in a proof's `dvc` claim; `ERR_DPOP_INVALID_PROOF` when it is malformed. */
export function deviceFromClaim(claim: unknown): DeviceDescription | undefined {
  if (claim === undefined) return undefined;
  const fields =
    typeof claim === 'object' && claim !== null && !Array.isArray(claim)
      ? (claim as Record<string, unknown>)
      : undefined;
  try {
    if (!fields || Object.keys(fields).some((k) => k !== 'hn' && k !== 'av')) throw new Error();
    return checkDeviceDescription({
      ...(fields.hn !== undefined ? { hostName: fields.hn } : {}),
      ...(fields.av !== undefined ? { agentVersion: fields.av } : {}),
    });
  } catch {
    throw new LicenseError(
      'ERR_DPOP_INVALID_PROOF',
      'the proof carries a malformed device description',
    );
  }
}

function invalid(message: string): never {
  throw new LicenseError('ERR_LICENSE_INVALID_ARGUMENT', message);
}
