/**
 * "Sign in with <IdP>" for each configured identity provider, on the login page. Plain links
 * (top-level GET navigations): the IdP sends the browser back to the portal, which continues
 * at `/`.
 */
import { useEffect, useState } from 'react';
import { type SsoProviderInfo, ssoContract } from '../../../../src/features/sso/contract.ts';
import { call } from '../../client.ts';
import { useMessages } from '../../messages.ts';
import { useLocation } from '../../router.tsx';
import { ssoMessages } from './messages.ts';

export function SsoProviders() {
  const st = useMessages(ssoMessages);
  const { search } = useLocation();
  const [providers, setProviders] = useState<readonly SsoProviderInfo[]>([]);
  useEffect(() => {
    let live = true;
    call(ssoContract.providers)
      .then((r) => {
        if (live) setProviders(r.providers);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  const failed = search.get('sso') === 'failed';
  if (providers.length === 0 && !failed) return null;
  return (
    <section className="card" aria-labelledby="sso-heading" data-testid="sso">
      <h2 id="sso-heading">{st('title')}</h2>
      <p className="hint">{st('hint')}</p>
      {failed ? (
        <div className="notice notice-error" role="alert" data-testid="sso-failed">
          <p>{st('failed')}</p>
        </div>
      ) : null}
      <div className="actions">
        {providers.map((p) => (
          <a key={p.id} className="button-secondary" href={p.loginUrl} data-testid={`sso-${p.id}`}>
            {st('signInWith', { name: p.name })}
          </a>
        ))}
      </div>
    </section>
  );
}
