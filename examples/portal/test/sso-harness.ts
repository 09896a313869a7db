/**
 * SSO test wiring: the portal harness with `ssoRoutes` added through `extraRoutes`, the local
 * OpenID provider (`oidc-provider`) and the local SAML IdP, both over HTTPS with a CA of their
 * own; optionally the built web app and Chromium trusting both certificates by SPKI pin.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevTls, ensureDevTls } from '@fluxel-example/relay';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent } from 'undici';
import type { SsoMapping, SsoOptions } from '../src/features/sso/config.ts';
import { type BrowserHarness, startBrowserHarness } from './browser-helpers.ts';
import { type PortalHarness, startPortalHarness } from './helpers.ts';
import { type LocalOidcProvider, type OidcTestAccount, startOidcProvider } from './idp/oidc-idp.ts';
import { type LocalSamlIdp, type SamlTestUser, startSamlIdp } from './idp/saml-idp.ts';

export const OIDC_ID = 'local-oidc';
export const SAML_ID = 'local-saml';
export const SP_ENTITY_ID = 'https://portal.fluxel.test/saml';
export const IDP_PASSWORD = 'idp-password-for-tests';

export interface SsoHarness {
  readonly h: PortalHarness;
  readonly oidc: LocalOidcProvider;
  readonly saml: LocalSamlIdp;
  readonly idpTls: DevTls;
  /** An undici dispatcher trusting the IdPs' CA. */
  readonly idpDispatcher: Agent;
  readonly sso: SsoOptions;
  readonly browser: Browser | undefined;
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function startSsoHarness(options: {
  readonly trustMfa: boolean;
  readonly mapping: SsoMapping;
  readonly oidcAccounts: readonly OidcTestAccount[];
  readonly samlUsers: readonly SamlTestUser[];
  readonly browser?: boolean;
}): Promise<SsoHarness> {
  const idpTls = ensureDevTls(join(mkdtempSync(join(tmpdir(), 'fluxel-idp-')), 'tls'));
  const oidc = await startOidcProvider({ tls: idpTls, accounts: options.oidcAccounts });
  const saml = await startSamlIdp({ tls: idpTls, users: options.samlUsers });
  const sso: SsoOptions = {
    trustMfa: options.trustMfa,
    providers: [
      {
        kind: 'oidc',
        id: OIDC_ID,
        name: 'Local OIDC',
        issuer: oidc.issuer,
        clientId: 'fluxel-portal',
        clientSecret: 'fluxel-portal-test-secret-0123456789',
        ca: idpTls.ca,
        mapping: options.mapping,
      },
      {
        kind: 'saml',
        id: SAML_ID,
        name: 'Local SAML',
        entryPoint: saml.ssoUrl,
        idpCert: saml.cert,
        idpIssuer: saml.entityId,
        issuer: SP_ENTITY_ID,
        mapping: options.mapping,
      },
    ],
  };
  // With a browser: the shared web build and Chromium, trusting the IdPs' certificate too.
  const b: BrowserHarness | undefined = options.browser
    ? await startBrowserHarness({ portal: { sso }, trust: [idpTls.cert] })
    : undefined;
  const h = b?.h ?? (await startPortalHarness({ sso }));
  oidc.configure([
    {
      clientId: 'fluxel-portal',
      clientSecret: 'fluxel-portal-test-secret-0123456789',
      redirectUris: [`${h.portal.origin}/sso/oidc/${OIDC_ID}/callback`],
    },
  ]);
  saml.registerSp({ entityId: SP_ENTITY_ID, acsUrl: `${h.portal.origin}/sso/saml/${SAML_ID}/acs` });
  const idpDispatcher = new Agent({ connect: { ca: idpTls.ca } });
  return {
    h,
    oidc,
    saml,
    idpTls,
    idpDispatcher,
    sso,
    browser: b?.browser,
    async newPage() {
      if (!b) throw new Error('started without a browser');
      return b.newPage();
    },
    async close() {
      await (b ?? h).close();
      await oidc.close();
      await saml.close();
      await idpDispatcher.close();
    },
  };
}
