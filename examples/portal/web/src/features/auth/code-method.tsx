/** Choosing a second-factor method and entering its code (sign-in and re-authentication). */
import { useState } from 'react';
import { authContract } from '../../../../src/features/auth/contract.ts';
import type { SecondFactorMethod } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Field, Notice, useAction } from '../../ui.tsx';
import { authMessages } from './messages.ts';

export function CodeMethodPicker({
  methods,
  method,
  onMethod,
}: {
  methods: readonly SecondFactorMethod[];
  method: SecondFactorMethod;
  onMethod(method: SecondFactorMethod): void;
}) {
  const { t } = useApp();
  const m = useMessages(authMessages);
  const send = useAction();
  const [sentFor, setSentFor] = useState<SecondFactorMethod | undefined>(undefined);

  async function sendCode(kind: 'email' | 'sms'): Promise<void> {
    const ok = await send.run(
      () => call(authContract.sendCode, { body: { method: kind } }).then(() => true),
      kind === 'email' ? m('signin.sentEmail') : m('signin.sentSms'),
    );
    if (ok) setSentFor(kind);
  }

  const hint =
    method === 'totp'
      ? m('signin.totpHint')
      : method === 'recovery'
        ? m('signin.recoveryHint')
        : sentFor === method
          ? m('signin.sentHint')
          : m('signin.sendFirst');

  return (
    <>
      {methods.length > 1 ? (
        <fieldset className="methods">
          <legend>{m('signin.method')}</legend>
          {methods.map((option) => (
            <label key={option} className="radio">
              <input
                type="radio"
                name="method"
                value={option}
                checked={method === option}
                data-testid={`method-${option}`}
                onChange={() => {
                  onMethod(option);
                  send.setError(undefined);
                  send.setStatus(undefined);
                }}
              />
              {m(`method.${option}`)}
            </label>
          ))}
        </fieldset>
      ) : (
        <p>
          {m('signin.method')}: <strong>{m(`method.${method}`)}</strong>
          <input type="hidden" name="method" value={method} />
        </p>
      )}
      {method === 'email' || method === 'sms' ? (
        <p>
          <Button
            variant="secondary"
            testId={`send-code-${method}`}
            disabled={send.busy}
            onClick={() => void sendCode(method)}
          >
            {sentFor === method
              ? m('signin.resend')
              : method === 'email'
                ? m('signin.sendEmail')
                : m('signin.sendSms')}
          </Button>
        </p>
      ) : null}
      <Notice error={send.error} status={send.status} />
      <Field
        key={method}
        label={method === 'recovery' ? t('field.recoveryCode') : t('field.code')}
        name="code"
        required
        autoComplete="one-time-code"
        inputMode={method === 'recovery' ? 'text' : 'numeric'}
        spellCheck={false}
        autoCapitalize="off"
        hint={hint}
      />
    </>
  );
}
