/** The security page's sign-in methods: the second factors (add, remove) and the recovery codes. */
import { useState } from 'react';
import {
  accountContract as c,
  type EnrolDone,
  type Factor,
} from '../../../../src/features/account/contract.ts';
import { call } from '../../client.ts';
import { useApp, useMe } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Card, DataTable, formatDate, Notice, RecoveryCodeList, useAction } from '../../ui.tsx';
import { EmailSetup, PasskeySetup, SmsSetup, TotpSetup } from './factor-setup.tsx';
import { accountMessages } from './messages.ts';

type Adding = 'totp' | 'passkey' | 'sms' | 'email';

export function Factors() {
  const app = useApp();
  const { locale, withReauth, reload, setSession } = app;
  const t = useMessages(accountMessages);
  const me = useMe();
  const action = useAction();
  const [adding, setAdding] = useState<Adding | undefined>(undefined);
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);
  const types = new Set(me.factors.map((f) => f.type));
  const strong = types.has('totp') || types.has('passkey');

  async function remove(factor: Factor): Promise<void> {
    const ok = await action.run(
      () => withReauth(() => call(c.removeFactor, { params: { id: factor.id } })).then(() => true),
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
      <DataTable
        caption={t('factors.title')}
        captionHidden
        testId="factors-table"
        rows={me.factors}
        rowKey={(factor) => factor.id}
        rowAttributes={(factor) => ({
          'data-factor-id': factor.id,
          'data-factor-type': factor.type,
        })}
        empty={t('factors.none')}
        columns={[
          {
            key: 'type',
            header: t('factors.type'),
            rowHeader: true,
            cell: (factor) => app.t(`factor.${factor.type}`),
          },
          { key: 'label', header: app.t('field.factorLabel'), cell: (factor) => factor.label },
          {
            key: 'created',
            header: t('factors.created'),
            cell: (factor) => formatDate(locale, factor.createdAt),
          },
          {
            key: 'lastUsed',
            header: t('factors.lastUsed'),
            cell: (factor) => formatDate(locale, factor.lastUsedAt),
          },
        ]}
        actions={(factor) =>
          me.factors.length > 1 ? (
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
          )
        }
      />
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
            {app.t('recovery.saved')}
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

export function RecoveryCodes() {
  const app = useApp();
  const t = useMessages(accountMessages);
  const me = useMe();
  const action = useAction();
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);

  async function regenerate(): Promise<void> {
    const result = await action.run(() => app.withReauth(() => call(c.recoveryCodes)));
    if (result) {
      setCodes(result.recoveryCodes);
      await app.reload().catch(() => undefined);
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
            {app.t('recovery.saved')}
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
