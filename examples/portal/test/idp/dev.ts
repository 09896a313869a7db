/**
 * The local IdPs for `pnpm dev` (opt-in): an OpenID provider and a SAML IdP on loopback, each
 * with one account per demo tenant, and the `SsoOptions` that point the portal at them. Start
 * them before the portal, pass `sso` to it, then call `ready(origin)` with the portal's public
 * origin (their redirect/ACS URL).
 */
import type { DevTls } from '@fluxel-example/relay';
import type { SsoOptions } from '../../src/features/sso/config.ts';
import { startOidcProvider } from './oidc-idp.ts';
import { startSamlIdp } from './saml-idp.ts';

export const DEV_IDP_PASSWORD = 'local-idp-password';

export async function startDevIdps(options: {
  readonly tls: DevTls;
  readonly oidcPort?: number;
  readonly samlPort?: number;
}): Promise<{ sso: SsoOptions; ready(origin: string): void; close(): Promise<void> }> {
  const oidc = await startOidcProvider({
    tls: options.tls,
    ...(options.oidcPort ? { port: options.oidcPort } : {}),
    accounts: [
      {
        sub: 'dev-merchant',
        email: 'merchant@demo-merchant.test',
        emailVerified: true,
        name: 'Demo Merchant (OIDC)',
        password: DEV_IDP_PASSWORD,
      },
    ],
  });
  const saml = await startSamlIdp({
    tls: options.tls,
    ...(options.samlPort ? { port: options.samlPort } : {}),
    users: [
      {
        nameId: 'dev-partner',
        email: 'partner@demo-partner.test',
        name: 'Demo Partner (SAML)',
        password: DEV_IDP_PASSWORD,
        groups: ['partners'],
      },
    ],
  });
  const spEntityId = 'urn:fluxel:portal:dev';
  const sso: SsoOptions = {
    trustMfa: true,
    providers: [
      {
        kind: 'oidc',
        id: 'local-oidc',
        name: 'Local OIDC',
        issuer: oidc.issuer,
        clientId: 'fluxel-portal-dev',
        clientSecret: 'fluxel-portal-dev-secret',
        ca: options.tls.ca,
        mapping: {
          rules: [{ emailDomain: 'demo-merchant.test', tenant: 'demo-merchant', role: 'customer' }],
        },
      },
      {
        kind: 'saml',
        id: 'local-saml',
        name: 'Local SAML',
        entryPoint: saml.ssoUrl,
        idpCert: saml.cert,
        idpIssuer: saml.entityId,
        issuer: spEntityId,
        mapping: { rules: [{ group: 'partners', tenant: 'demo-partner', role: 'partner' }] },
      },
    ],
  };
  return {
    sso,
    ready(origin) {
      oidc.configure([
        {
          clientId: 'fluxel-portal-dev',
          clientSecret: 'fluxel-portal-dev-secret',
          redirectUris: [`${origin}/sso/oidc/local-oidc/callback`],
        },
      ]);
      saml.registerSp({ entityId: spEntityId, acsUrl: `${origin}/sso/saml/local-saml/acs` });
      console.log(
        `portal: local IdPs — OIDC ${oidc.issuer} (merchant@demo-merchant.test), SAML ${saml.ssoUrl} (partner@demo-partner.test), password ${DEV_IDP_PASSWORD}`,
      );
    },
    async close() {
      await oidc.close();
      await saml.close();
    },
  };
}
