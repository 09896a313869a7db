/** `/login`: password, then the second factor (or a passkey instead of both). */
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import type { SecondFactorMethod, SessionInfo } from '../../../src/shared/api.ts';
import { api } from '../api.ts';
import { CodeMethodPicker } from '../code-method.tsx';
import { useApp } from '../context.tsx';
import { Link, useLocation } from '../router.tsx';
import { Field, formValue, isWebAuthnAbort, Notice, PageTitle, useAction } from '../ui.tsx';
import { ssoTranslate } from './sso.i18n.ts';

interface SsoProvider {
  readonly id: string;
  readonly name: string;
  readonly kind: 'oidc' | 'saml';
  readonly loginUrl: string;
}

/**
 * "Sign in with <IdP>" for each configured identity provider. Plain links (top-level GET
 * navigations): the IdP sends the browser back to the portal, which continues at `/`.
 */
function SsoProviders() {
  const { locale } = useApp();
  const st = useMemo(() => ssoTranslate(locale), [locale]);
  const { search } = useLocation();
  const [providers, setProviders] = useState<readonly SsoProvider[]>([]);
  useEffect(() => {
    let live = true;
    api
      .get<{ providers: SsoProvider[] }>('/api/sso/providers')
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

export function LoginPage() {
  const { session } = useApp();
  return (
    <div className="narrow">
      {session.stage === 'password' ? <SecondFactorStep /> : <PasswordStep />}
    </div>
  );
}

/** Passkey sign-in: passwordless (optionally for one address) or as the second factor. */
function usePasskeySignIn() {
  const { t, setSession } = useApp();
  const action = useAction();
  const [webAuthnError, setWebAuthnError] = useState<string | undefined>(undefined);
  async function signIn(email: string | undefined): Promise<void> {
    setWebAuthnError(undefined);
    const next = await action.run(async () => {
      const { startAuthentication } = await import('@simplewebauthn/browser');
      const optionsJSON = await api.post<PublicKeyCredentialRequestOptionsJSON>(
        '/api/auth/passkey/options',
        email ? { email } : {},
      );
      let response: unknown;
      try {
        response = await startAuthentication({ optionsJSON });
      } catch (e) {
        setWebAuthnError(isWebAuthnAbort(e) ? t('passkey.cancelled') : t('passkey.unsupported'));
        return undefined;
      }
      return api.post<SessionInfo>('/api/auth/passkey/verify', { response });
    });
    if (next) setSession(next);
  }
  return { signIn, busy: action.busy, error: action.error ?? webAuthnError };
}

function PasswordStep() {
  const { t, setSession } = useApp();
  const action = useAction();
  const passkey = usePasskeySignIn();
  const [email, setEmail] = useState('');

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { email: formValue(form, 'email'), password: formValue(form, 'password') };
    const next = await action.run(() => api.post<SessionInfo>('/api/auth/login', body));
    if (next) setSession(next);
  }

  return (
    <>
      <PageTitle title={t('login.title')}>{t('login.title')}</PageTitle>
      <p className="lead">{t('login.intro')}</p>
      <section className="card">
        <form onSubmit={(e) => void submit(e)} data-testid="login-form">
          <Field
            label={t('field.email')}
            name="email"
            type="email"
            required
            autoComplete="username webauthn"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
          />
          <Field
            label={t('field.password')}
            name="password"
            type="password"
            required
            autoComplete="current-password"
          />
          <Notice error={action.error} />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="login-submit"
              disabled={action.busy}
            >
              {t('login.submit')}
            </button>
            <Link to="/reset" data-testid="forgot-password">
              {t('login.forgot')}
            </Link>
          </div>
        </form>
      </section>
      <section className="card" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">{t('login.passkeyTitle')}</h2>
        <p className="hint">{t('login.passkeyHint')}</p>
        <button
          type="button"
          className="button-secondary"
          data-testid="passkey-login"
          disabled={passkey.busy}
          onClick={() => void passkey.signIn(email.includes('@') ? email.trim() : undefined)}
        >
          {t('login.passkey')}
        </button>
        <Notice error={passkey.error} />
      </section>
      <SsoProviders />
      <p>
        <Link to="/partner-signup" data-testid="partner-signup-link">
          {t('login.partnerSignup')}
        </Link>
      </p>
    </>
  );
}

function SecondFactorStep() {
  const { t, session, setSession, reload } = useApp();
  const action = useAction();
  const passkey = usePasskeySignIn();
  const methods: readonly SecondFactorMethod[] =
    session.methods && session.methods.length > 0 ? session.methods : ['totp', 'recovery'];
  const [method, setMethod] = useState<SecondFactorMethod>(methods[0] ?? 'totp');

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const code = formValue(event.currentTarget, 'code').replace(/\s+/g, '');
    const next = await action.run(() =>
      api.post<SessionInfo>('/api/auth/second-factor', { method, code }),
    );
    if (next) setSession(next);
  }

  async function restart(): Promise<void> {
    await api.post<void>('/api/auth/logout').catch(() => undefined);
    await reload().catch(() => undefined);
  }

  return (
    <>
      <PageTitle title={t('login.secondTitle')}>{t('login.secondTitle')}</PageTitle>
      <p className="lead">{t('login.secondIntro')}</p>
      <section className="card">
        <form onSubmit={(e) => void submit(e)} data-testid="second-factor-form">
          <CodeMethodPicker methods={methods} method={method} onMethod={setMethod} />
          <Notice error={action.error} />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="code-submit"
              disabled={action.busy}
            >
              {t('login.confirm')}
            </button>
          </div>
        </form>
      </section>
      <section className="card" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">{t('login.passkeyTitle')}</h2>
        <p className="hint">{t('login.passkeySecondHint')}</p>
        <button
          type="button"
          className="button-secondary"
          data-testid="passkey-login"
          disabled={passkey.busy}
          onClick={() => void passkey.signIn(undefined)}
        >
          {t('login.passkeyConfirm')}
        </button>
        <Notice error={passkey.error} />
      </section>
      <p>
        <button
          type="button"
          className="link-button"
          data-testid="login-restart"
          onClick={() => void restart()}
        >
          {t('login.restart')}
        </button>
      </p>
    </>
  );
}
