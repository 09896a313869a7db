/** `/invite/:token`: accept an invitation — name and password, then the mandatory enrolment. */
import { authContract as c } from '../../../../src/features/auth/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { type RunRequest, SubmitForm } from '../../forms/submit-form.tsx';
import { useMessages } from '../../messages.ts';
import { Link, navigate } from '../../router.tsx';
import {
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  NewPasswordField,
  Notice,
  PageTitle,
  useLoad,
} from '../../ui.tsx';
import { authMessages } from './messages.ts';

export function InvitePage({ token }: { token: string }) {
  const { t, locale, setSession } = useApp();
  const m = useMessages(authMessages);
  const invitation = useLoad(() => call(c.invitation, { params: { token } }), [token]);

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const body = { name: formValue(form, 'name'), password: formValue(form, 'password'), locale };
    const next = await run(() => call(c.acceptInvitation, { params: { token }, body }));
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
            <SubmitForm
              testId="invite-form"
              onSubmit={submit}
              note={<p className="hint">{m('invite.next')}</p>}
              submitLabel={m('invite.accept')}
              submitTestId="invite-accept"
            >
              <input type="hidden" name="username" autoComplete="username" value={info.email} />
              <Field
                label={t('field.name')}
                name="name"
                required
                maxLength={120}
                autoComplete="name"
              />
              <NewPasswordField />
            </SubmitForm>
          </Card>
        </>
      ) : null}
    </div>
  );
}
