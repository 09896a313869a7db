/**
 * Setting up a second factor: authenticator app (TOTP), e-mail code, SMS, passkey. Used by the
 * mandatory enrolment and by the security page.
 */
import { type ComponentProps, type FormEvent, type ReactNode, useState } from 'react';
import {
  accountContract as c,
  type EnrolDone,
  type TotpStart,
} from '../../../../src/features/account/contract.ts';
import { Button, type ButtonProps } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Field, isWebAuthnAbort, Notice, useAction, formValue as value } from '../../ui.tsx';
import { accountMessages } from './messages.ts';

interface SetupProps {
  onDone(done: EnrolDone): void;
}

/**
 * What every setup shares: its texts, the request state, and `finish`, which runs the last step
 * (each request inside it re-authenticates where the session is too old) and hands the result on.
 */
function useSetup({ onDone }: SetupProps) {
  const app = useApp();
  const t = useMessages(accountMessages);
  const action = useAction();
  async function finish(lastStep: () => Promise<EnrolDone | undefined>): Promise<void> {
    const done = await action.run(lastStep);
    if (done) onDone(done);
  }
  return { app, t, action, withReauth: app.withReauth, finish };
}

type Setup = ReturnType<typeof useSetup>;

type FieldProps = ComponentProps<typeof Field>;

/** The code the authenticator app shows or the e-mail / SMS brought. */
function OneTimeCodeField(props: Omit<FieldProps, 'label' | 'name'>) {
  const { t } = useApp();
  return (
    <Field label={t('field.code')} name="code" required autoComplete="one-time-code" {...props} />
  );
}

/** The factor's own name, to tell two of a kind apart in the list (optional). */
function FactorLabelField({ hint }: { hint: ReactNode }) {
  const { t } = useApp();
  return <Field label={t('field.factorLabel')} name="label" maxLength={60} hint={hint} />;
}

/** The SVG QR code as an image (a data: URL, so no markup is injected into the page). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

function groupSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

export function TotpSetup(props: SetupProps) {
  const { app, t, action, withReauth, finish } = useSetup(props);
  const [start, setStart] = useState<TotpStart | undefined>(undefined);

  async function begin(): Promise<void> {
    const result = await action.run(() => withReauth(() => call(c.totpStart)));
    if (result) setStart(result);
  }

  function confirm(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const form = event.currentTarget;
    const label = value(form, 'label');
    const body = label ? { code: value(form, 'code'), label } : { code: value(form, 'code') };
    void finish(() => withReauth(() => call(c.totpConfirm, { body })));
  }

  if (!start) {
    return (
      <div className="setup">
        <p>{t('totp.intro')}</p>
        <Button testId="totp-start" disabled={action.busy} onClick={() => void begin()}>
          {t('totp.start')}
        </Button>
        <Notice error={action.error} />
      </div>
    );
  }
  return (
    <form className="setup" data-testid="totp-form" onSubmit={confirm}>
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
      <OneTimeCodeField
        inputMode="numeric"
        pattern="[0-9A-Za-z\- ]{6,24}"
        hint={t('totp.codeHint')}
      />
      <FactorLabelField hint={app.t('field.factorLabelHint')} />
      <Button type="submit" testId="totp-confirm" disabled={action.busy}>
        {t('totp.confirm')}
      </Button>
      <Notice error={action.error} />
    </form>
  );
}

export function EmailSetup(props: SetupProps & { email: string }) {
  const { email } = props;
  const setup = useSetup(props);
  const { t, action, withReauth } = setup;
  const [sent, setSent] = useState(false);

  async function send(): Promise<void> {
    const ok = await action.run(
      () => withReauth(() => call(c.emailStart)).then(() => true),
      t('emailFactor.sent', { email }),
    );
    if (ok) setSent(true);
  }

  return (
    <SentCodeSetup
      kind="email"
      setup={setup}
      intro={t('emailFactor.intro', { email })}
      sent={sent}
      confirmLabel={t('emailFactor.confirm')}
      codeField={{ hint: t('emailFactor.codeHint') }}
    >
      <SendCodeButton kind="email" sent={sent} busy={action.busy} onClick={() => void send()}>
        {sent ? t('emailFactor.resend') : t('emailFactor.start')}
      </SendCodeButton>
    </SentCodeSetup>
  );
}

export function SmsSetup(props: SetupProps) {
  const setup = useSetup(props);
  const { app, t, action, withReauth } = setup;
  const [phone, setPhone] = useState<string | undefined>(undefined);

  async function send(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const number = value(event.currentTarget, 'phone').replace(/[\s/-]/g, '');
    const ok = await action.run(
      () => withReauth(() => call(c.smsStart, { body: { phone: number } })).then(() => true),
      t('sms.sent', { phone: number }),
    );
    if (ok) setPhone(number);
  }

  const sent = Boolean(phone);
  return (
    <SentCodeSetup
      kind="sms"
      setup={setup}
      intro={t('sms.intro')}
      sent={sent}
      confirmLabel={t('sms.confirm')}
      codeField={{ inputMode: 'numeric' }}
    >
      <form data-testid="sms-phone-form" onSubmit={(e) => void send(e)}>
        <Field
          label={app.t('field.phone')}
          name="phone"
          type="tel"
          required
          autoComplete="tel"
          placeholder="+491701234567"
          hint={t('sms.phoneHint')}
        />
        <SendCodeButton kind="sms" sent={sent} busy={action.busy} type="submit">
          {sent ? t('sms.resend') : t('sms.start')}
        </SendCodeButton>
      </form>
    </SentCodeSetup>
  );
}

/**
 * The e-mail and SMS factors: the sending control (`children`), and once a code went out the
 * form to enter and confirm it, which goes to the factor's own route.
 */
function SentCodeSetup(props: {
  kind: 'email' | 'sms';
  setup: Setup;
  intro: string;
  sent: boolean;
  confirmLabel: string;
  /** How the code field differs per factor (a hint, a numeric keyboard). */
  codeField: Omit<FieldProps, 'label' | 'name'>;
  children: ReactNode;
}) {
  const { kind } = props;
  const { action, withReauth, finish } = props.setup;
  const confirmRoute = kind === 'email' ? c.emailConfirm : c.smsConfirm;

  function confirm(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const code = value(event.currentTarget, 'code');
    void finish(() => withReauth(() => call(confirmRoute, { body: { code } })));
  }

  return (
    <div className="setup">
      <p>{props.intro}</p>
      {props.children}
      {props.sent ? (
        <form data-testid={`${kind}-form`} onSubmit={confirm}>
          <OneTimeCodeField {...props.codeField} />
          <Button type="submit" testId={`${kind}-confirm`} disabled={action.busy}>
            {props.confirmLabel}
          </Button>
        </form>
      ) : null}
      <Notice error={action.error} status={action.status} />
    </div>
  );
}

/** Sends the code; once one went out it is the lesser button ("send again"). */
function SendCodeButton({
  kind,
  sent,
  busy,
  ...button
}: { kind: 'email' | 'sms'; sent: boolean; busy: boolean } & Pick<
  ButtonProps,
  'type' | 'onClick' | 'children'
>) {
  return (
    <Button
      variant={sent ? 'secondary' : 'primary'}
      testId={`${kind}-start`}
      disabled={busy}
      {...button}
    />
  );
}

export function PasskeySetup(props: SetupProps) {
  const { app, t, action, withReauth, finish } = useSetup(props);
  const [webAuthnError, setWebAuthnError] = useState<string | undefined>(undefined);

  function register(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    setWebAuthnError(undefined);
    const label = value(event.currentTarget, 'label');
    void finish(async () => {
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
  }

  return (
    <form className="setup" data-testid="passkey-form" onSubmit={register}>
      <p>{t('passkey.intro')}</p>
      <FactorLabelField hint={t('passkey.labelHint')} />
      <Button type="submit" testId="passkey-register" disabled={action.busy}>
        {t('passkey.register')}
      </Button>
      <Notice error={action.error ?? webAuthnError} />
    </form>
  );
}
