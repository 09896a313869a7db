/** `/security`: own profile, e-mail, password, second factors, recovery codes, sessions. */
import { useState } from 'react';
import { accountContract as c } from '../../../../src/features/account/contract.ts';
import { call } from '../../client.ts';
import { useApp, useMe } from '../../context.tsx';
import { type RunRequest, SubmitForm } from '../../forms/submit-form.tsx';
import { useMessages } from '../../messages.ts';
import { Card, Field, formValue, NewPasswordField, PageTitle, SelectField } from '../../ui.tsx';
import { Factors, RecoveryCodes } from './factor-list.tsx';
import { accountMessages } from './messages.ts';
import { Sessions } from './sessions.tsx';

export function SecurityPage() {
  const t = useMessages(accountMessages);
  // A new password ends the other sessions: the list below shows that at once.
  const [passwordChanges, setPasswordChanges] = useState(0);
  return (
    <>
      <PageTitle title={t('security.title')}>{t('security.title')}</PageTitle>
      <p className="lead">{t('security.intro')}</p>
      <div className="grid-2">
        <Profile />
        <ChangeEmail />
      </div>
      <ChangePassword onChanged={() => setPasswordChanges((n) => n + 1)} />
      <Factors />
      <RecoveryCodes />
      <Sessions passwordChanges={passwordChanges} />
    </>
  );
}

function Profile() {
  const app = useApp();
  const t = useMessages(accountMessages);
  const me = useMe();

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const body = {
      name: formValue(form, 'name'),
      locale: formValue(form, 'locale') === 'en' ? ('en' as const) : ('de' as const),
    };
    const updated = await run(() => call(c.updateProfile, { body }), t('security.profileSaved'));
    if (updated) app.setMe(updated);
  }

  return (
    <Card title={t('security.profile')}>
      <SubmitForm
        testId="profile-form"
        onSubmit={submit}
        submitLabel={app.t('common.save')}
        submitTestId="profile-save"
      >
        <Field
          label={app.t('field.name')}
          name="name"
          required
          maxLength={120}
          defaultValue={me.name}
          autoComplete="name"
        />
        <SelectField
          label={app.t('field.locale')}
          name="locale"
          defaultValue={me.locale}
          options={[
            { value: 'de', label: 'Deutsch' },
            { value: 'en', label: 'English' },
          ]}
        />
      </SubmitForm>
    </Card>
  );
}

function ChangeEmail() {
  const app = useApp();
  const t = useMessages(accountMessages);
  const me = useMe();

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const email = formValue(form, 'email');
    const ok = await run(
      () => app.withReauth(() => call(c.changeEmail, { body: { email } })).then(() => true),
      t('security.emailChanged', { email }),
    );
    if (ok) {
      form.reset();
      await app.reload().catch(() => undefined);
    }
  }

  return (
    <Card title={t('security.email')}>
      <p>
        {t('security.currentEmail')} <strong data-testid="current-email">{me.email}</strong>
      </p>
      <SubmitForm
        testId="email-change-form"
        onSubmit={submit}
        submitLabel={t('security.changeEmail')}
        submitTestId="email-change"
      >
        <Field
          label={app.t('field.newEmail')}
          name="email"
          type="email"
          required
          autoComplete="email"
          hint={t('security.reauthHint')}
        />
      </SubmitForm>
    </Card>
  );
}

function ChangePassword({ onChanged }: { onChanged(): void }) {
  const app = useApp();
  const t = useMessages(accountMessages);

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const password = formValue(form, 'password');
    const ok = await run(
      () => app.withReauth(() => call(c.changePassword, { body: { password } })).then(() => true),
      t('security.passwordChanged'),
    );
    if (ok) {
      form.reset();
      onChanged();
    }
  }

  return (
    <Card title={t('security.password')}>
      <SubmitForm
        testId="password-change-form"
        onSubmit={submit}
        submitLabel={t('security.changePassword')}
        submitTestId="password-change"
      >
        <NewPasswordField extraHint={t('security.passwordHint')} />
      </SubmitForm>
    </Card>
  );
}
