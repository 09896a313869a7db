/**
 * OpenID Connect relying party through `openid-client`: discovery (cached per provider),
 * authorization code + PKCE (S256) + state + nonce, and the ID token checks (iss, aud, exp,
 * nonce, signature) done by the library in `authorizationCodeGrant`.
 */
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { OidcProviderConfig } from './config.ts';
import { DEFAULT_MFA_ACR, MFA_AMR } from './config.ts';

export interface OidcStart {
  readonly url: URL;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface OidcResult {
  readonly claims: Record<string, unknown>;
  readonly subject: string;
  readonly mfa: boolean;
  readonly amr: readonly string[];
  readonly acr: string | undefined;
}

export class OidcRelyingParty {
  private config: Promise<client.Configuration> | undefined;
  private readonly dispatcher: Agent | undefined;

  constructor(
    readonly provider: OidcProviderConfig,
    private readonly redirectUri: () => string,
  ) {
    this.dispatcher = provider.ca ? new Agent({ connect: { ca: provider.ca } }) : undefined;
  }

  /** Discovery once; a failure is not cached, so the next sign-in retries. */
  configuration(): Promise<client.Configuration> {
    if (!this.config) {
      const p = this.provider;
      const dispatcher = this.dispatcher;
      const customFetch: client.CustomFetch | undefined = dispatcher
        ? (url, init) =>
            undiciFetch(url, {
              ...(init as object),
              dispatcher,
            }) as unknown as Promise<Response>
        : undefined;
      this.config = client
        .discovery(
          new URL(p.issuer),
          p.clientId,
          undefined,
          client.ClientSecretBasic(p.clientSecret),
          {
            ...(customFetch ? { [client.customFetch]: customFetch } : {}),
            ...(p.allowHttpLoopback ? { execute: [client.allowInsecureRequests] } : {}),
            timeout: 10,
          },
        )
        .then((config) => {
          if (customFetch) config[client.customFetch] = customFetch;
          return config;
        });
      this.config.catch(() => {
        this.config = undefined;
      });
    }
    return this.config;
  }

  async start(): Promise<OidcStart> {
    const config = await this.configuration();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(),
      scope: this.provider.scope ?? 'openid email profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // Ask for the authentication facts in the ID token (OIDC Core 5.5; ignored where unsupported).
      claims: JSON.stringify({ id_token: { amr: null, acr: null, auth_time: null } }),
    });
    return { url, state, nonce, codeVerifier };
  }

  /** Exchanges the code; throws on any failed check (state, PKCE, ID token). */
  async finish(
    currentUrl: URL,
    checks: { state: string; nonce: string; codeVerifier: string },
  ): Promise<OidcResult> {
    const config = await this.configuration();
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    let merged: Record<string, unknown> = { ...claims };
    // E-mail and groups may only be in the userinfo response (same subject, checked).
    if (
      tokens.access_token &&
      (merged.email === undefined || merged.email_verified === undefined)
    ) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        merged = { ...info, ...merged };
      } catch {
        // Without userinfo the ID token's claims are all there is.
      }
    }
    const amr = Array.isArray(claims.amr)
      ? claims.amr.filter((x): x is string => typeof x === 'string')
      : [];
    const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
    const mfa =
      amr.some((m) => MFA_AMR.has(m)) ||
      (acr !== undefined && (this.provider.mfaAcrValues ?? DEFAULT_MFA_ACR).includes(acr));
    return { claims: merged, subject: claims.sub, mfa, amr, acr };
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}
