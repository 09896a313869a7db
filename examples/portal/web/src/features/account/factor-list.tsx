/** The security page's sign-in methods: the second factors (add, remove) and the recovery codes. */
import { useState } from 'react';
import {
  accountContract as c,
  type EnrolDone,
  type Factor,
} from '../../../../src/features/account/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp, useMe } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Card, DataTable, Notice, RecoveryCodeList, useAction } from '../../ui.tsx';
import { dateColumnsFor } from './date-column.ts';
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
  const dateColumn = dateColumnsFor<Factor>(locale);

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
          dateColumn('created', t('factors.created'), (factor) => factor.createdAt),
          dateColumn('lastUsed', t('factors.lastUsed'), (factor) => factor.lastUsedAt),
        ]}
        actions={(factor) =>
          me.factors.length > 1 ? (
            <Button
              variant="secondary"
              small
              testId="factor-remove"
              disabled={action.busy}
              onClick={() => void remove(factor)}
            >
              {t('factors.remove')}
              <span className="sr-only"> {factor.label}</span>
            </Button>
          ) : (
            <span className="hint">{t('factors.lastOne')}</span>
          )
        }
      />
      <Notice error={action.error} status={action.status} />
      {codes ? (
        <div className="card-inner">
          <h3>{t('recovery.title')}</h3>
          <NewRecoveryCodes codes={codes} onSaved={() => setCodes(undefined)} />
        </div>
      ) : null}
      <h3>{t('factors.add')}</h3>
      {!strong ? <p className="hint">{t('factors.smsLater')}</p> : null}
      <div className="button-row">
        {addButtons
          .filter((b) => b.show)
          .map((b) => (
            <Button
              key={b.kind}
              variant={adding === b.kind ? 'primary' : 'secondary'}
              aria-pressed={adding === b.kind}
              testId={`factor-add-${b.kind}`}
              onClick={() => setAdding(adding === b.kind ? undefined : b.kind)}
            >
              {b.label}
            </Button>
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
        <NewRecoveryCodes codes={codes} onSaved={() => setCodes(undefined)} />
      ) : (
        <>
          <p className="hint">{t('recovery.regenerateHint')}</p>
          <Button
            variant="secondary"
            testId="recovery-regenerate"
            disabled={action.busy}
            onClick={() => void regenerate()}
          >
            {t('recovery.regenerate')}
          </Button>
        </>
      )}
      <Notice error={action.error} />
    </Card>
  );
}

/** Recovery codes just made: shown once, until the person says they have kept them. */
function NewRecoveryCodes({ codes, onSaved }: { codes: readonly string[]; onSaved(): void }) {
  const { t } = useApp();
  return (
    <>
      <RecoveryCodeList codes={codes} />
      <Button testId="recovery-saved" onClick={onSaved}>
        {t('recovery.saved')}
      </Button>
    </>
  );
}
