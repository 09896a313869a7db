/** The re-authentication dialog: password plus a second-factor code before a sensitive change. */
import { useEffect, useId, useRef, useState } from 'react';
import { reauthRoute } from '../../../../src/features/account/contract.ts';
import type { Me, SecondFactorMethod } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { type RunRequest, SubmitForm } from '../../forms/submit-form.tsx';
import { useMessages } from '../../messages.ts';
import { Field, formValue } from '../../ui.tsx';
import { CodeMethodPicker } from '../auth/code-method.tsx';
import { accountMessages } from './messages.ts';

export function methodsOf(me: Me | undefined): SecondFactorMethod[] {
  if (!me) return ['recovery'];
  const types = new Set(me.factors.map((f) => f.type));
  const methods: SecondFactorMethod[] = [];
  if (types.has('totp')) methods.push('totp');
  if (types.has('email')) methods.push('email');
  if (types.has('sms')) methods.push('sms');
  if (me.recoveryCodesLeft > 0 || methods.length === 0) methods.push('recovery');
  return methods;
}

export function ReauthDialog({ onDone, onCancel }: { onDone(): void; onCancel(): void }) {
  const app = useApp();
  const { me, setMe } = app;
  const t = useMessages(accountMessages);
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const methods = methodsOf(me);
  const [method, setMethod] = useState<SecondFactorMethod>(methods[0] ?? 'recovery');

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  async function submit(form: HTMLFormElement, run: RunRequest): Promise<void> {
    const body = { password: formValue(form, 'password'), method, code: formValue(form, 'code') };
    const result = await run(() => call(reauthRoute, { body }));
    if (result) {
      if (me) setMe({ ...me, reauthUntil: result.reauthUntil });
      onDone();
    }
  }

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid="reauth-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <SubmitForm
        onSubmit={submit}
        submitLabel={t('reauth.submit')}
        submitTestId="reauth-submit"
        besideSubmit={
          <Button variant="secondary" testId="reauth-cancel" onClick={onCancel}>
            {app.t('common.cancel')}
          </Button>
        }
      >
        <h2 id={titleId}>{t('reauth.title')}</h2>
        <p>{t('reauth.explain')}</p>
        <Field
          label={app.t('field.currentPassword')}
          name="password"
          type="password"
          required
          autoComplete="current-password"
          autoFocus
        />
        <CodeMethodPicker methods={methods} method={method} onMethod={setMethod} />
      </SubmitForm>
    </dialog>
  );
}
