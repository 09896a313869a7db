/** `/reset` (ask for a link) and `/reset/:token` (set a new password). */
import { useState } from 'react';
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { type RunRequest, SubmitForm } from '../../forms/submit-form.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import { Card, Field, formValue, NewPasswordField, PageTitle } from '../../ui.tsx';
import { authMessages } from './messages.ts';

export function ResetRequestPage() {
  const { t } = useApp();
  const m = useMessages(authMessages);
  const [sent, setSent] = useState(false);

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const email = formValue(form, 'email');
    const ok = await run(() => call(c.resetRequest, { body: { email } }).then(() => true));
    if (ok) setSent(true);
  }

  return (
    <div className="narrow">
      <PageTitle title={m('reset.title')}>{m('reset.title')}</PageTitle>
      <p className="lead">{m('reset.intro')}</p>
      <Card>
        <SubmitForm
          testId="reset-request-form"
          onSubmit={submit}
          status={sent ? m('reset.sent') : undefined}
          submitLabel={m('reset.send')}
          submitTestId="reset-request"
          besideSubmit={<Link to="/login">{t('common.toLogin')}</Link>}
        >
          <Field
            label={t('field.email')}
            name="email"
            type="email"
            required
            autoComplete="username"
          />
        </SubmitForm>
      </Card>
    </div>
  );
}

export function ResetConfirmPage({ token }: { token: string }) {
  const { t, reload } = useApp();
  const m = useMessages(authMessages);
  const [done, setDone] = useState(false);

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const password = formValue(form, 'password');
    const ok = await run(() =>
      call(c.resetConfirm, { body: { token, password } }).then(() => true),
    );
    if (ok) {
      setDone(true);
      // Every session ended: take the fresh (anonymous) session and its CSRF token.
      await reload().catch(() => undefined);
    }
  }

  if (done) {
    return (
      <div className="narrow">
        <PageTitle key="done" title={m('reset.doneTitle')}>
          {m('reset.doneTitle')}
        </PageTitle>
        <div className="notice notice-ok" role="status" data-testid="status">
          <p>{m('reset.done')}</p>
        </div>
        <p>
          <Link to="/login" className="button" data-testid="reset-to-login">
            {t('common.toLogin')}
          </Link>
        </p>
      </div>
    );
  }

  return (
    <div className="narrow">
      <PageTitle title={m('reset.newTitle')}>{m('reset.newTitle')}</PageTitle>
      <Card>
        <SubmitForm
          testId="reset-form"
          onSubmit={submit}
          submitLabel={m('reset.save')}
          submitTestId="reset-submit"
        >
          <NewPasswordField />
          <p className="hint">{m('reset.afterHint')}</p>
        </SubmitForm>
      </Card>
    </div>
  );
}
