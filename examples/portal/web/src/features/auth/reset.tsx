/** `/reset` (ask for a link) and `/reset/:token` (set a new password). */
import { type FormEvent, useState } from 'react';
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import { Card, Field, formValue, Notice, PageTitle, useAction } from '../../ui.tsx';
import { authMessages } from './messages.ts';

export function ResetRequestPage() {
  const { t } = useApp();
  const m = useMessages(authMessages);
  const action = useAction();
  const [sent, setSent] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const email = formValue(event.currentTarget, 'email');
    const ok = await action.run(() => call(c.resetRequest, { body: { email } }).then(() => true));
    if (ok) setSent(true);
  }

  return (
    <div className="narrow">
      <PageTitle title={m('reset.title')}>{m('reset.title')}</PageTitle>
      <p className="lead">{m('reset.intro')}</p>
      <Card>
        <form onSubmit={(e) => void submit(e)} data-testid="reset-request-form">
          <Field
            label={t('field.email')}
            name="email"
            type="email"
            required
            autoComplete="username"
          />
          <Notice error={action.error} status={sent ? m('reset.sent') : undefined} />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="reset-request"
              disabled={action.busy}
            >
              {m('reset.send')}
            </button>
            <Link to="/login">{t('common.toLogin')}</Link>
          </div>
        </form>
      </Card>
    </div>
  );
}

export function ResetConfirmPage({ token }: { token: string }) {
  const { t, reload } = useApp();
  const m = useMessages(authMessages);
  const action = useAction();
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const password = formValue(event.currentTarget, 'password');
    const ok = await action.run(() =>
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
        <form onSubmit={(e) => void submit(e)} data-testid="reset-form">
          <Field
            label={t('field.newPassword')}
            name="password"
            type="password"
            required
            autoComplete="new-password"
            hint={t('password.hint')}
          />
          <p className="hint">{m('reset.afterHint')}</p>
          <Notice error={action.error} />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="reset-submit"
              disabled={action.busy}
            >
              {m('reset.save')}
            </button>
          </div>
        </form>
      </Card>
    </div>
  );
}
