/** `/invite/:token`: accept an invitation — name and password, then the mandatory enrolment. */
import type { FormEvent } from 'react';
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link, navigate } from '../../router.tsx';
import {
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { authMessages } from './messages.ts';

export function InvitePage({ token }: { token: string }) {
  const { t, locale, setSession } = useApp();
  const m = useMessages(authMessages);
  const invitation = useLoad(() => call(c.invitation, { params: { token } }), [token]);
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: formValue(form, 'name'), password: formValue(form, 'password'), locale };
    const next = await action.run(() => call(c.acceptInvitation, { params: { token }, body }));
    if (next) {
      setSession(next);
      navigate('/enrol', { replace: true });
    }
  }

  const info = invitation.data;
  return (
    <div className="narrow">
      <PageTitle title={m('invite.title')}>{m('invite.title')}</PageTitle>
      {invitation.loading ? <Loading /> : null}
      {invitation.error ? (
        <>
          <Notice error={invitation.error} />
          <p>
            <Link to="/login">{t('common.toLogin')}</Link>
          </p>
        </>
      ) : null}
      {info ? (
        <>
          <p className="lead">{m('invite.intro', { tenant: info.tenantName })}</p>
          <Card>
            <dl className="facts" data-testid="invitation">
              <dt>{t('field.email')}</dt>
              <dd>{info.email}</dd>
              <dt>{t('field.tenant')}</dt>
              <dd>{info.tenantName}</dd>
              <dt>{t('field.role')}</dt>
              <dd>{t(`role.${info.role}`)}</dd>
              <dt>{m('invite.expires')}</dt>
              <dd>{formatDate(locale, info.expiresAt)}</dd>
            </dl>
          </Card>
          <Card>
            <form onSubmit={(e) => void submit(e)} data-testid="invite-form">
              <input type="hidden" name="username" autoComplete="username" value={info.email} />
              <Field
                label={t('field.name')}
                name="name"
                required
                maxLength={120}
                autoComplete="name"
              />
              <Field
                label={t('field.newPassword')}
                name="password"
                type="password"
                required
                autoComplete="new-password"
                hint={t('password.hint')}
              />
              <Notice error={action.error} />
              <p className="hint">{m('invite.next')}</p>
              <div className="actions">
                <button
                  type="submit"
                  className="button"
                  data-testid="invite-accept"
                  disabled={action.busy}
                >
                  {m('invite.accept')}
                </button>
              </div>
            </form>
          </Card>
        </>
      ) : null}
    </div>
  );
}
