/**
 * Single sign-on's HTTP contract: the providers the login page offers, and the top-level
 * navigations that start a sign-in (answered with a redirect to the IdP, not JSON). The IdP's
 * returns (`/sso/oidc/:id/callback`, `/sso/saml/:id/acs`) are browser navigations outside
 * `/api` with their own checks (routes.ts), not part of the JSON API.
 */
import { z } from 'zod';
import { file, route } from '../../shared/contract.ts';

/** One button on the login page. */
export const SsoProviderInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['oidc', 'saml']),
  /** Where the button navigates (a top-level GET). */
  loginUrl: z.string(),
});
export type SsoProviderInfo = z.infer<typeof SsoProviderInfoSchema>;

export const ssoContract = {
  providers: route({
    method: 'GET',
    path: '/api/sso/providers',
    access: 'public',
    response: z.object({ providers: z.array(SsoProviderInfoSchema) }),
  }),
  /** 303 to the IdP's authorization endpoint. */
  oidcLogin: route({
    method: 'GET',
    path: '/api/sso/oidc/:id/login',
    access: 'public',
    response: file(),
  }),
  /** 303 to the IdP with a SAML AuthnRequest (redirect binding). */
  samlLogin: route({
    method: 'GET',
    path: '/api/sso/saml/:id/login',
    access: 'public',
    response: file(),
  }),
  /** The service provider's metadata (XML) for the IdP's administrator. */
  samlMetadata: route({
    method: 'GET',
    path: '/api/sso/saml/:id/metadata',
    access: 'public',
    response: file(),
  }),
} as const;
