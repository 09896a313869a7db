/** `/invite/:token`: accept an invitation — name and password, then the mandatory enrolment. */
import type { FormEvent } from 'react';
import type { InvitationInfo, SessionInfo } from '../../../src/shared/api.ts';
import { api, enc } from '../api.ts';
import { useApp } from '../context.tsx';
import { Link, navigate } from '../router.tsx';
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
} from '../ui.tsx';

export function InvitePage({ token }: { token: string }) {
  const { t, locale, setSession } = useApp();
  const invitation = useLoad(
    () => api.get<InvitationInfo>(`/api/invitations/${enc(token)}`),
    [token],
  );
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: formValue(form, 'name'), password: formValue(form, 'password'), locale };
    const next = await action.run(() =>
      api.post<SessionInfo>(`/api/invitations/${enc(token)}/accept`, body),
    );
    if (next) {
      setSession(next);
      navigate('/enrol', { replace: true });
    }
  }

  const info = invitation.data;
  return (
    <div className="narrow">
      <PageTitle title={t('invite.title')}>{t('invite.title')}</PageTitle>
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
          <p className="lead">{t('invite.intro', { tenant: info.tenantName })}</p>
          <Card>
            <dl className="facts" data-testid="invitation">
              <dt>{t('field.email')}</dt>
              <dd>{info.email}</dd>
              <dt>{t('field.tenant')}</dt>
              <dd>{info.tenantName}</dd>
              <dt>{t('field.role')}</dt>
              <dd>{t(`role.${info.role}`)}</dd>
              <dt>{t('invite.expires')}</dt>
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
              <p className="hint">{t('invite.next')}</p>
              <div className="actions">
                <button
                  type="submit"
                  className="button"
                  data-testid="invite-accept"
                  disabled={action.busy}
                >
                  {t('invite.accept')}
                </button>
              </div>
            </form>
          </Card>
        </>
      ) : null}
    </div>
  );
}
