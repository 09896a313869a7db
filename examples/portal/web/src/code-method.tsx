/** Choosing a second-factor method and entering its code (sign-in and re-authentication). */
import { useState } from 'react';
import type { SecondFactorMethod } from '../../src/shared/api.ts';
import { api } from './api.ts';
import { useApp } from './context.tsx';
import { Field, Notice, useAction } from './ui.tsx';

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
  const send = useAction();
  const [sentFor, setSentFor] = useState<SecondFactorMethod | undefined>(undefined);

  async function sendCode(kind: 'email' | 'sms'): Promise<void> {
    const ok = await send.run(
      () => api.post<void>('/api/auth/code/send', { method: kind }).then(() => true),
      kind === 'email' ? t('signin.sentEmail') : t('signin.sentSms'),
    );
    if (ok) setSentFor(kind);
  }

  const hint =
    method === 'totp'
      ? t('signin.totpHint')
      : method === 'recovery'
        ? t('signin.recoveryHint')
        : sentFor === method
          ? t('signin.sentHint')
          : t('signin.sendFirst');

  return (
    <>
      {methods.length > 1 ? (
        <fieldset className="methods">
          <legend>{t('signin.method')}</legend>
          {methods.map((m) => (
            <label key={m} className="radio">
              <input
                type="radio"
                name="method"
                value={m}
                checked={method === m}
                data-testid={`method-${m}`}
                onChange={() => {
                  onMethod(m);
                  send.setError(undefined);
                  send.setStatus(undefined);
                }}
              />
              {t(`method.${m}`)}
            </label>
          ))}
        </fieldset>
      ) : (
        <p>
          {t('signin.method')}: <strong>{t(`method.${method}`)}</strong>
          <input type="hidden" name="method" value={method} />
        </p>
      )}
      {method === 'email' || method === 'sms' ? (
        <p>
          <button
            type="button"
            className="button-secondary"
            data-testid={`send-code-${method}`}
            disabled={send.busy}
            onClick={() => void sendCode(method)}
          >
            {sentFor === method
              ? t('signin.resend')
              : method === 'email'
                ? t('signin.sendEmail')
                : t('signin.sendSms')}
          </button>
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
