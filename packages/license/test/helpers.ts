/** Test harness: an authority over a given store, and devices that make signed requests. */

import type { PrivateJwk } from '../src/jwk.ts';
import {
  type AuthorityEvent,
  type AuthorityRequest,
  LicenseAuthority,
  type LicenseAuthorityOptions,
} from '../src/lib/authority.ts';
import type { DeviceDescription } from '../src/lib/device-description.ts';
import { createDpopSigner, type DpopSigner } from '../src/lib/dpop.ts';
import { MemoryReplayStore } from '../src/lib/replay.ts';
import type { LicenseStore } from '../src/lib/store.ts';
import { generateKeyPair } from '../src/sig.ts';

export const RELAY = 'https://relay.test';

export interface Harness {
  authority: LicenseAuthority;
  events: AuthorityEvent[];
  clock: { now: number };
}

export async function harness(
  store: LicenseStore,
  options: Partial<LicenseAuthorityOptions> = {},
): Promise<Harness> {
  const events: AuthorityEvent[] = [];
  const clock = { now: Date.now() };
  const { privateJwk } = await generateKeyPair('EdDSA');
  const authority = new LicenseAuthority({
    store,
    pepper: crypto.getRandomValues(new Uint8Array(32)),
    issuer: RELAY,
    signingKeys: [{ kid: 'k1', privateJwk }],
    replay: new MemoryReplayStore({ now: () => clock.now }),
    onEvent: (event) => {
      events.push(event);
    },
    now: () => clock.now,
    ...options,
  });
  return { authority, events, clock };
}

/** A machine with a device key that can make DPoP-signed requests. */
export class Device {
  token: string | undefined;
  constructor(
    readonly signer: DpopSigner,
    readonly clock: { now: number },
    /** The device's private key, for a second signer of the same device. */
    readonly key?: PrivateJwk,
  ) {}

  static async create(clock: { now: number }, device?: DeviceDescription): Promise<Device> {
    const { privateJwk } = await generateKeyPair('ES256');
    return new Device(
      createDpopSigner(privateJwk, { now: () => clock.now, ...(device ? { device } : {}) }),
      clock,
      privateJwk,
    );
  }

  async request(
    method: string,
    path: string,
    options: {
      body?: string;
      withToken?: boolean;
      token?: string;
      nonce?: string;
      clientIp?: string;
    } = {},
  ): Promise<AuthorityRequest> {
    const url = `${RELAY}${path}`;
    const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
    const token = options.token ?? (options.withToken === false ? undefined : this.token);
    const proof = await this.signer.proof({
      method,
      url,
      ...(token ? { accessToken: token } : {}),
      ...(body ? { body } : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
    });
    const headers: Record<string, string> = { dpop: proof };
    if (token) headers.authorization = `DPoP ${token}`;
    return {
      method,
      url,
      headers,
      body,
      ...(options.clientIp ? { clientIp: options.clientIp } : {}),
    };
  }

  async activate(authority: LicenseAuthority, licenseKey: string, clientIp?: string) {
    const tokens = await authority.activate({
      licenseKey,
      request: await this.request('POST', '/v1/activate', {
        withToken: false,
        body: '{}',
        ...(clientIp ? { clientIp } : {}),
      }),
    });
    this.token = tokens.accessToken;
    return tokens;
  }
}
