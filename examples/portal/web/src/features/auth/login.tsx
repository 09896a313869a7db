/** `/login`: password, then the second factor (or a passkey instead of both). */
import { useState } from 'react';
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import type { SecondFactorMethod } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { type RunRequest, SubmitForm } from '../../forms/submit-form.tsx';
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
  const [email, setEmail] = useState('');

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const body = { email: formValue(form, 'email'), password: formValue(form, 'password') };
    const next = await run(() => call(c.login, { body }));
    if (next) setSession(next);
  }

  return (
    <>
      <PageTitle title={m('login.title')}>{m('login.title')}</PageTitle>
      <p className="lead">{m('login.intro')}</p>
      <section className="card">
        <SubmitForm
          testId="login-form"
          onSubmit={submit}
          submitLabel={m('login.submit')}
          submitTestId="login-submit"
          besideSubmit={
            <Link to="/reset" data-testid="forgot-password">
              {m('login.forgot')}
            </Link>
          }
        >
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
        </SubmitForm>
      </section>
      {/* A typed address narrows the passkeys offered to that account's. */}
      <PasskeyCard
        hint={m('login.passkeyHint')}
        label={m('login.passkey')}
        email={email.includes('@') ? email.trim() : undefined}
      />
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
  const methods: readonly SecondFactorMethod[] =
    session.methods && session.methods.length > 0 ? session.methods : ['totp', 'recovery'];
  const [method, setMethod] = useState<SecondFactorMethod>(methods[0] ?? 'totp');

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const code = formValue(form, 'code').replace(/\s+/g, '');
    const next = await run(() => call(c.secondFactor, { body: { method, code } }));
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
        <SubmitForm
          testId="second-factor-form"
          onSubmit={submit}
          submitLabel={m('login.confirm')}
          submitTestId="code-submit"
        >
          <CodeMethodPicker methods={methods} method={method} onMethod={setMethod} />
        </SubmitForm>
      </section>
      <PasskeyCard hint={m('login.passkeySecondHint')} label={m('login.passkeyConfirm')} />
      <p>
        <Button variant="link" testId="login-restart" onClick={() => void restart()}>
          {m('login.restart')}
        </Button>
      </p>
    </>
  );
}

/**
 * The passkey as the other way in, on both steps: instead of password and code, or instead of
 * the code once the password is in (`email` then stays unset: the session knows the account).
 */
function PasskeyCard(props: { hint: string; label: string; email?: string | undefined }) {
  const m = useMessages(authMessages);
  const passkey = usePasskeySignIn();
  return (
    <section className="card" aria-labelledby="passkey-heading">
      <h2 id="passkey-heading">{m('login.passkeyTitle')}</h2>
      <p className="hint">{props.hint}</p>
      <Button
        variant="secondary"
        testId="passkey-login"
        disabled={passkey.busy}
        onClick={() => void passkey.signIn(props.email)}
      >
        {props.label}
      </Button>
      <Notice error={passkey.error} />
    </section>
  );
}
