/** `/security`: own profile, e-mail, password, second factors, recovery codes, sessions. */
import { type FormEvent, useEffect, useState } from 'react';
import type { EnrolDone, Factor, Locale, Me, SessionRow } from '../../../src/shared/api.ts';
import { api, enc } from '../api.ts';
import { useApp, useMe } from '../context.tsx';
import { EmailSetup, PasskeySetup, SmsSetup, TotpSetup } from '../factors.tsx';
import {
  Badge,
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  RecoveryCodeList,
  SelectField,
  useAction,
  useLoad,
} from '../ui.tsx';

export function SecurityPage() {
  const { t } = useApp();
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
  const { t, setMe } = useApp();
  const me = useMe();
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { name: formValue(form, 'name'), locale: formValue(form, 'locale') as Locale };
    const updated = await action.run(
      () => api.patch<Me>('/api/me', body),
      t('security.profileSaved'),
    );
    if (updated) setMe(updated);
  }

  return (
    <Card title={t('security.profile')}>
      <form onSubmit={(e) => void submit(e)} data-testid="profile-form">
        <Field
          label={t('field.name')}
          name="name"
          required
          maxLength={120}
          defaultValue={me.name}
          autoComplete="name"
        />
        <SelectField
          label={t('field.locale')}
          name="locale"
          defaultValue={me.locale}
          options={[
            { value: 'de', label: 'Deutsch' },
            { value: 'en', label: 'English' },
          ]}
        />
        <Notice error={action.error} status={action.status} />
        <div className="actions">
          <button
            type="submit"
            className="button"
            data-testid="profile-save"
            disabled={action.busy}
          >
            {t('common.save')}
          </button>
        </div>
      </form>
    </Card>
  );
}

function ChangeEmail() {
  const { t, withReauth, reload } = useApp();
  const me = useMe();
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const email = formValue(form, 'email');
    const ok = await action.run(
      () => withReauth(() => api.post<void>('/api/me/email', { email })).then(() => true),
      t('security.emailChanged', { email }),
    );
    if (ok) {
      form.reset();
      await reload().catch(() => undefined);
    }
  }

  return (
    <Card title={t('security.email')}>
      <p>
        {t('security.currentEmail')} <strong data-testid="current-email">{me.email}</strong>
      </p>
      <form onSubmit={(e) => void submit(e)} data-testid="email-change-form">
        <Field
          label={t('field.newEmail')}
          name="email"
          type="email"
          required
          autoComplete="email"
          hint={t('security.reauthHint')}
        />
        <Notice error={action.error} status={action.status} />
        <div className="actions">
          <button
            type="submit"
            className="button"
            data-testid="email-change"
            disabled={action.busy}
          >
            {t('security.changeEmail')}
          </button>
        </div>
      </form>
    </Card>
  );
}

function ChangePassword({ onChanged }: { onChanged(): void }) {
  const { t, withReauth } = useApp();
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const password = formValue(form, 'password');
    const ok = await action.run(
      () => withReauth(() => api.post<void>('/api/me/password', { password })).then(() => true),
      t('security.passwordChanged'),
    );
    if (ok) {
      form.reset();
      onChanged();
    }
  }

  return (
    <Card title={t('security.password')}>
      <form onSubmit={(e) => void submit(e)} data-testid="password-change-form">
        <Field
          label={t('field.newPassword')}
          name="password"
          type="password"
          required
          autoComplete="new-password"
          hint={
            <>
              {t('password.hint')} {t('security.passwordHint')}
            </>
          }
        />
        <Notice error={action.error} status={action.status} />
        <div className="actions">
          <button
            type="submit"
            className="button"
            data-testid="password-change"
            disabled={action.busy}
          >
            {t('security.changePassword')}
          </button>
        </div>
      </form>
    </Card>
  );
}

type Adding = 'totp' | 'passkey' | 'sms' | 'email';

function Factors() {
  const { t, locale, withReauth, reload, setSession } = useApp();
  const me = useMe();
  const action = useAction();
  const [adding, setAdding] = useState<Adding | undefined>(undefined);
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);
  const types = new Set(me.factors.map((f) => f.type));
  const strong = types.has('totp') || types.has('passkey');

  async function remove(factor: Factor): Promise<void> {
    const ok = await action.run(
      () => withReauth(() => api.delete(`/api/me/factors/${enc(factor.id)}`)).then(() => true),
      t('factors.removed', { label: factor.label }),
    );
    if (ok) await reload().catch(() => undefined);
  }

  function added(done: EnrolDone): void {
    setSession(done.session);
    setAdding(undefined);
    if (done.recoveryCodes && done.recoveryCodes.length > 0) setCodes(done.recoveryCodes);
    action.setStatus(t('factors.added'));
    if (!done.session.user) void reload().catch(() => undefined);
  }

  const addButtons: { kind: Adding; label: string; show: boolean }[] = [
    { kind: 'totp', label: t('factors.addTotp'), show: true },
    { kind: 'passkey', label: t('factors.addPasskey'), show: true },
    { kind: 'sms', label: t('factors.addSms'), show: strong },
    { kind: 'email', label: t('factors.addEmail'), show: !types.has('email') },
  ];

  return (
    <Card title={t('factors.title')}>
      <p className="hint">{t('factors.why')}</p>
      <div className="table-wrap">
        <table data-testid="factors-table">
          <thead>
            <tr>
              <th scope="col">{t('factors.type')}</th>
              <th scope="col">{t('field.factorLabel')}</th>
              <th scope="col">{t('factors.created')}</th>
              <th scope="col">{t('factors.lastUsed')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {me.factors.map((factor) => (
              <tr key={factor.id} data-factor-id={factor.id} data-factor-type={factor.type}>
                <th scope="row">{t(`factor.${factor.type}`)}</th>
                <td>{factor.label}</td>
                <td>{formatDate(locale, factor.createdAt)}</td>
                <td>{formatDate(locale, factor.lastUsedAt)}</td>
                <td>
                  {me.factors.length > 1 ? (
                    <button
                      type="button"
                      className="button-secondary button-small"
                      data-testid="factor-remove"
                      disabled={action.busy}
                      onClick={() => void remove(factor)}
                    >
                      {t('factors.remove')}
                      <span className="sr-only"> {factor.label}</span>
                    </button>
                  ) : (
                    <span className="hint">{t('factors.lastOne')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Notice error={action.error} status={action.status} />
      {codes ? (
        <div className="card-inner">
          <h3>{t('recovery.title')}</h3>
          <RecoveryCodeList codes={codes} />
          <button
            type="button"
            className="button"
            data-testid="recovery-saved"
            onClick={() => setCodes(undefined)}
          >
            {t('recovery.saved')}
          </button>
        </div>
      ) : null}
      <h3>{t('factors.add')}</h3>
      {!strong ? <p className="hint">{t('factors.smsLater')}</p> : null}
      <div className="button-row">
        {addButtons
          .filter((b) => b.show)
          .map((b) => (
            <button
              key={b.kind}
              type="button"
              className={adding === b.kind ? 'button' : 'button-secondary'}
              aria-pressed={adding === b.kind}
              data-testid={`factor-add-${b.kind}`}
              onClick={() => setAdding(adding === b.kind ? undefined : b.kind)}
            >
              {b.label}
            </button>
          ))}
      </div>
      {adding ? (
        <div className="card-inner" data-testid={`factor-setup-${adding}`}>
          {adding === 'totp' ? <TotpSetup onDone={added} /> : null}
          {adding === 'passkey' ? <PasskeySetup onDone={added} /> : null}
          {adding === 'sms' ? <SmsSetup onDone={added} /> : null}
          {adding === 'email' ? <EmailSetup onDone={added} email={me.email} /> : null}
        </div>
      ) : null}
    </Card>
  );
}

function RecoveryCodes() {
  const { t, withReauth, reload } = useApp();
  const me = useMe();
  const action = useAction();
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);

  async function regenerate(): Promise<void> {
    const result = await action.run(() =>
      withReauth(() => api.post<{ recoveryCodes: string[] }>('/api/me/recovery-codes')),
    );
    if (result) {
      setCodes(result.recoveryCodes);
      await reload().catch(() => undefined);
    }
  }

  return (
    <Card title={t('recovery.title')}>
      <p className="hint">{t('recovery.what')}</p>
      <p data-testid="recovery-left">{t('recovery.left', { n: me.recoveryCodesLeft })}</p>
      {codes ? (
        <>
          <RecoveryCodeList codes={codes} />
          <button
            type="button"
            className="button"
            data-testid="recovery-saved"
            onClick={() => setCodes(undefined)}
          >
            {t('recovery.saved')}
          </button>
        </>
      ) : (
        <>
          <p className="hint">{t('recovery.regenerateHint')}</p>
          <button
            type="button"
            className="button-secondary"
            data-testid="recovery-regenerate"
            disabled={action.busy}
            onClick={() => void regenerate()}
          >
            {t('recovery.regenerate')}
          </button>
        </>
      )}
      <Notice error={action.error} />
    </Card>
  );
}

/** Kept current: reloaded after a password change and whenever the page is shown again. */
function Sessions({ passwordChanges }: { passwordChanges: number }) {
  const { t, locale } = useApp();
  const list = useLoad(
    () => api.get<{ sessions: SessionRow[] }>('/api/me/sessions').then((r) => r.sessions),
    [passwordChanges],
  );
  const { reload } = list;
  useEffect(() => {
    const shown = () => {
      if (document.visibilityState === 'visible') reload();
    };
    document.addEventListener('visibilitychange', shown);
    return () => document.removeEventListener('visibilitychange', shown);
  }, [reload]);
  const action = useAction();
  // Ending signs someone out at once: the row's button only asks, the confirm ends it.
  const [ending, setEnding] = useState<string | undefined>(undefined);

  async function end(row: SessionRow): Promise<void> {
    const ok = await action.run(
      () => api.delete(`/api/me/sessions/${enc(row.id)}`).then(() => true),
      t('sessions.ended'),
    );
    if (ok) {
      setEnding(undefined);
      list.reload();
    }
  }

  return (
    <Card title={t('sessions.title')}>
      <p className="hint">{t('sessions.intro')}</p>
      {list.loading && !list.data ? <Loading /> : null}
      <Notice error={action.error ?? list.error} status={action.status} />
      {list.data ? (
        <div className="table-wrap">
          <table data-testid="sessions-table">
            <thead>
              <tr>
                <th scope="col">{t('sessions.device')}</th>
                <th scope="col">{t('sessions.ip')}</th>
                <th scope="col">{t('sessions.created')}</th>
                <th scope="col">{t('sessions.lastSeen')}</th>
                <th scope="col">{t('sessions.expires')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((row) => (
                <tr
                  key={row.id}
                  data-session-id={row.id}
                  data-current={row.current ? 'true' : undefined}
                >
                  <th scope="row">
                    <span className="ua" title={row.userAgent}>
                      {row.userAgent || '–'}
                    </span>
                    {row.current ? (
                      <>
                        {' '}
                        <Badge tone="ok">{t('sessions.current')}</Badge>
                      </>
                    ) : null}
                  </th>
                  <td>{row.ip}</td>
                  <td>{formatDate(locale, row.createdAt)}</td>
                  <td>{formatDate(locale, row.lastSeenAt)}</td>
                  <td>{formatDate(locale, row.expiresAt)}</td>
                  <td>
                    {row.current ? (
                      <span className="hint">{t('sessions.thisOne')}</span>
                    ) : ending === row.id ? (
                      <div className="inline-form" data-testid="session-end-confirm">
                        <p role="alert">{t('sessions.endQuestion')}</p>
                        <div className="actions">
                          <button
                            type="button"
                            className="button button-danger button-small"
                            data-testid="session-end-yes"
                            disabled={action.busy}
                            onClick={() => void end(row)}
                          >
                            {t('sessions.endConfirm')}
                          </button>
                          <button
                            type="button"
                            className="button-secondary button-small"
                            data-testid="session-end-cancel"
                            onClick={() => setEnding(undefined)}
                          >
                            {t('common.cancel')}
                          </button>
                        </div>
                      </div>
                    ) : (
                      <button
                        type="button"
                        className="button-secondary button-small"
                        data-testid="session-end"
                        disabled={action.busy}
                        onClick={() => setEnding(row.id)}
                      >
                        {t('sessions.end')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Card>
  );
}
