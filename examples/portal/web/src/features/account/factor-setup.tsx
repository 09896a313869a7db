/**
 * Setting up a second factor: authenticator app (TOTP), e-mail code, SMS, passkey. Used by the
 * mandatory enrolment and by the security page.
 */
import { type FormEvent, useState } from 'react';
import {
  accountContract as c,
  type EnrolDone,
  type TotpStart,
} from '../../../../src/features/account/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Field, isWebAuthnAbort, Notice, useAction, formValue as value } from '../../ui.tsx';
import { accountMessages } from './messages.ts';

interface SetupProps {
  onDone(done: EnrolDone): void;
}

/** The SVG QR code as an image (a data: URL, so no markup is injected into the page). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

function groupSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

export function TotpSetup({ onDone }: SetupProps) {
  const app = useApp();
  const { withReauth } = app;
  const t = useMessages(accountMessages);
  const action = useAction();
  const [start, setStart] = useState<TotpStart | undefined>(undefined);

  async function begin(): Promise<void> {
    const result = await action.run(() => withReauth(() => call(c.totpStart)));
    if (result) setStart(result);
  }

  async function confirm(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const label = value(form, 'label');
    const body = label ? { code: value(form, 'code'), label } : { code: value(form, 'code') };
    const done = await action.run(() => withReauth(() => call(c.totpConfirm, { body })));
    if (done) onDone(done);
  }

  if (!start) {
    return (
      <div className="setup">
        <p>{t('totp.intro')}</p>
        <button
          type="button"
          className="button"
          data-testid="totp-start"
          disabled={action.busy}
          onClick={() => void begin()}
        >
          {t('totp.start')}
        </button>
        <Notice error={action.error} />
      </div>
    );
  }
  return (
    <form className="setup" data-testid="totp-form" onSubmit={(e) => void confirm(e)}>
      <ol className="steps">
        <li>{t('totp.step1')}</li>
        <li>
          {t('totp.step2')}
          <div className="qr">
            <img
              src={svgDataUrl(start.qrSvg)}
              alt={t('totp.qrAlt')}
              width={200}
              height={200}
              data-testid="totp-qr"
            />
          </div>
          <p className="hint">{t('totp.secretHint')}</p>
          <p>
            <code className="secret-text" data-testid="totp-secret" data-secret={start.secret}>
              {groupSecret(start.secret)}
            </code>
          </p>
        </li>
        <li>{t('totp.step3')}</li>
      </ol>
      <Field
        label={app.t('field.code')}
        name="code"
        required
        autoComplete="one-time-code"
        inputMode="numeric"
        pattern="[0-9A-Za-z\- ]{6,24}"
        hint={t('totp.codeHint')}
      />
      <Field
        label={app.t('field.factorLabel')}
        name="label"
        maxLength={60}
        hint={app.t('field.factorLabelHint')}
      />
      <button type="submit" className="button" data-testid="totp-confirm" disabled={action.busy}>
        {t('totp.confirm')}
      </button>
      <Notice error={action.error} />
    </form>
  );
}

export function EmailSetup({ onDone, email }: SetupProps & { email: string }) {
  const app = useApp();
  const { withReauth } = app;
  const t = useMessages(accountMessages);
  const action = useAction();
  const [sent, setSent] = useState(false);

  async function begin(): Promise<void> {
    const ok = await action.run(
      () => withReauth(() => call(c.emailStart)).then(() => true),
      t('emailFactor.sent', { email }),
    );
    if (ok) setSent(true);
  }

  async function confirm(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const code = value(event.currentTarget, 'code');
    const done = await action.run(() => withReauth(() => call(c.emailConfirm, { body: { code } })));
    if (done) onDone(done);
  }

  return (
    <div className="setup">
      <p>{t('emailFactor.intro', { email })}</p>
      <button
        type="button"
        className={sent ? 'button-secondary' : 'button'}
        data-testid="email-start"
        disabled={action.busy}
        onClick={() => void begin()}
      >
        {sent ? t('emailFactor.resend') : t('emailFactor.start')}
      </button>
      {sent ? (
        <form data-testid="email-form" onSubmit={(e) => void confirm(e)}>
          <Field
            label={app.t('field.code')}
            name="code"
            required
            autoComplete="one-time-code"
            hint={t('emailFactor.codeHint')}
          />
          <button
            type="submit"
            className="button"
            data-testid="email-confirm"
            disabled={action.busy}
          >
            {t('emailFactor.confirm')}
          </button>
        </form>
      ) : null}
      <Notice error={action.error} status={action.status} />
    </div>
  );
}

export function SmsSetup({ onDone }: SetupProps) {
  const app = useApp();
  const { withReauth } = app;
  const t = useMessages(accountMessages);
  const action = useAction();
  const [phone, setPhone] = useState<string | undefined>(undefined);

  async function begin(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const number = value(event.currentTarget, 'phone').replace(/[\s/-]/g, '');
    const ok = await action.run(
      () => withReauth(() => call(c.smsStart, { body: { phone: number } })).then(() => true),
      t('sms.sent', { phone: number }),
    );
    if (ok) setPhone(number);
  }

  async function confirm(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const code = value(event.currentTarget, 'code');
    const done = await action.run(() => withReauth(() => call(c.smsConfirm, { body: { code } })));
    if (done) onDone(done);
  }

  return (
    <div className="setup">
      <p>{t('sms.intro')}</p>
      <form data-testid="sms-phone-form" onSubmit={(e) => void begin(e)}>
        <Field
          label={app.t('field.phone')}
          name="phone"
          type="tel"
          required
          autoComplete="tel"
          placeholder="+491701234567"
          hint={t('sms.phoneHint')}
        />
        <button
          type="submit"
          className={phone ? 'button-secondary' : 'button'}
          data-testid="sms-start"
          disabled={action.busy}
        >
          {phone ? t('sms.resend') : t('sms.start')}
        </button>
      </form>
      {phone ? (
        <form data-testid="sms-form" onSubmit={(e) => void confirm(e)}>
          <Field
            label={app.t('field.code')}
            name="code"
            required
            autoComplete="one-time-code"
            inputMode="numeric"
          />
          <button type="submit" className="button" data-testid="sms-confirm" disabled={action.busy}>
            {t('sms.confirm')}
          </button>
        </form>
      ) : null}
      <Notice error={action.error} status={action.status} />
    </div>
  );
}

export function PasskeySetup({ onDone }: SetupProps) {
  const app = useApp();
  const { withReauth } = app;
  const t = useMessages(accountMessages);
  const action = useAction();
  const [webAuthnError, setWebAuthnError] = useState<string | undefined>(undefined);

  async function register(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    setWebAuthnError(undefined);
    const label = value(event.currentTarget, 'label');
    const done = await action.run(async () => {
      const { startRegistration } = await import('@simplewebauthn/browser');
      const optionsJSON = await withReauth(() => call(c.passkeyOptions));
      // The browser's RegistrationResponseJSON, as the plain JSON object the server checks.
      let response: Record<string, unknown>;
      try {
        response = { ...(await startRegistration({ optionsJSON })) };
      } catch (e) {
        setWebAuthnError(
          isWebAuthnAbort(e) ? app.t('passkey.cancelled') : app.t('passkey.unsupported'),
        );
        return undefined;
      }
      return withReauth(() =>
        call(c.passkeyVerify, { body: label ? { response, label } : { response } }),
      );
    });
    if (done) onDone(done);
  }

  return (
    <form className="setup" data-testid="passkey-form" onSubmit={(e) => void register(e)}>
      <p>{t('passkey.intro')}</p>
      <Field
        label={app.t('field.factorLabel')}
        name="label"
        maxLength={60}
        hint={t('passkey.labelHint')}
      />
      <button
        type="submit"
        className="button"
        data-testid="passkey-register"
        disabled={action.busy}
      >
        {t('passkey.register')}
      </button>
      <Notice error={action.error ?? webAuthnError} />
    </form>
  );
}
