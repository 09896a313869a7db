/** `/login`: password, then the second factor (or a passkey instead of both). */
import { type FormEvent, useState } from 'react';
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import type { SecondFactorMethod } from '../../../../src/shared/api.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import { Field, formValue, isWebAuthnAbort, Notice, PageTitle, useAction } from '../../ui.tsx';
import { SsoProviders } from '../sso/providers.tsx';
import { CodeMethodPicker } from './code-method.tsx';
import { authMessages } from './messages.ts';

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
      const optionsJSON = await call(c.passkeyOptions, { body: email ? { email } : {} });
      let response: Record<string, unknown>;
      try {
        // A plain object of the browser's answer (the body is any JSON object).
        response = { ...(await startAuthentication({ optionsJSON })) };
      } catch (e) {
        setWebAuthnError(isWebAuthnAbort(e) ? t('passkey.cancelled') : t('passkey.unsupported'));
        return undefined;
      }
      return call(c.passkeyVerify, { body: { response } });
    });
    if (next) setSession(next);
  }
  return { signIn, busy: action.busy, error: action.error ?? webAuthnError };
}

function PasswordStep() {
  const { t, setSession } = useApp();
  const m = useMessages(authMessages);
  const action = useAction();
  const passkey = usePasskeySignIn();
  const [email, setEmail] = useState('');

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { email: formValue(form, 'email'), password: formValue(form, 'password') };
    const next = await action.run(() => call(c.login, { body }));
    if (next) setSession(next);
  }

  return (
    <>
      <PageTitle title={m('login.title')}>{m('login.title')}</PageTitle>
      <p className="lead">{m('login.intro')}</p>
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
              {m('login.submit')}
            </button>
            <Link to="/reset" data-testid="forgot-password">
              {m('login.forgot')}
            </Link>
          </div>
        </form>
      </section>
      <section className="card" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">{m('login.passkeyTitle')}</h2>
        <p className="hint">{m('login.passkeyHint')}</p>
        <button
          type="button"
          className="button-secondary"
          data-testid="passkey-login"
          disabled={passkey.busy}
          onClick={() => void passkey.signIn(email.includes('@') ? email.trim() : undefined)}
        >
          {m('login.passkey')}
        </button>
        <Notice error={passkey.error} />
      </section>
      <SsoProviders />
      <p>
        <Link to="/partner-signup" data-testid="partner-signup-link">
          {m('login.partnerSignup')}
        </Link>
      </p>
    </>
  );
}

function SecondFactorStep() {
  const { session, setSession, reload } = useApp();
  const m = useMessages(authMessages);
  const action = useAction();
  const passkey = usePasskeySignIn();
  const methods: readonly SecondFactorMethod[] =
    session.methods && session.methods.length > 0 ? session.methods : ['totp', 'recovery'];
  const [method, setMethod] = useState<SecondFactorMethod>(methods[0] ?? 'totp');

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const code = formValue(event.currentTarget, 'code').replace(/\s+/g, '');
    const next = await action.run(() => call(c.secondFactor, { body: { method, code } }));
    if (next) setSession(next);
  }

  async function restart(): Promise<void> {
    await call(c.logout).catch(() => undefined);
    await reload().catch(() => undefined);
  }

  return (
    <>
      <PageTitle title={m('login.secondTitle')}>{m('login.secondTitle')}</PageTitle>
      <p className="lead">{m('login.secondIntro')}</p>
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
              {m('login.confirm')}
            </button>
          </div>
        </form>
      </section>
      <section className="card" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">{m('login.passkeyTitle')}</h2>
        <p className="hint">{m('login.passkeySecondHint')}</p>
        <button
          type="button"
          className="button-secondary"
          data-testid="passkey-login"
          disabled={passkey.busy}
          onClick={() => void passkey.signIn(undefined)}
        >
          {m('login.passkeyConfirm')}
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
          {m('login.restart')}
        </button>
      </p>
    </>
  );
}
