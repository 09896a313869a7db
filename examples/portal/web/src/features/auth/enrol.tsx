/** `/enrol`: the mandatory first second factor, then the recovery codes (shown once). */
import { useState } from 'react';
import type { EnrolDone } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { navigate } from '../../router.tsx';
import { Card, PageTitle, RecoveryCodeList } from '../../ui.tsx';
import { EmailSetup, TotpSetup } from '../account/factor-setup.tsx';
import { authMessages } from './messages.ts';

export function EnrolPage() {
  const { t, me, setSession } = useApp();
  const m = useMessages(authMessages);
  const [done, setDone] = useState<EnrolDone | undefined>(undefined);

  function finish(result: EnrolDone): void {
    setSession(result.session);
    navigate('/', { replace: true });
  }

  function onDone(result: EnrolDone): void {
    if (result.recoveryCodes && result.recoveryCodes.length > 0) setDone(result);
    else finish(result);
  }

  if (done?.recoveryCodes) {
    return (
      <div className="narrow">
        <PageTitle key="codes" title={m('enrol.codesTitle')}>
          {m('enrol.codesTitle')}
        </PageTitle>
        <p className="lead">{m('enrol.codesIntro')}</p>
        <Card>
          <RecoveryCodeList codes={done.recoveryCodes} />
          <div className="actions">
            <Button testId="recovery-saved" onClick={() => finish(done)}>
              {t('recovery.saved')}
            </Button>
          </div>
        </Card>
      </div>
    );
  }

  return (
    <div className="wide">
      <PageTitle title={m('enrol.title')}>{m('enrol.title')}</PageTitle>
      <p className="lead">{m('enrol.intro')}</p>
      <p className="hint">{m('enrol.why')}</p>
      <div className="grid-2">
        <Card title={m('enrol.totpTitle')} className="option">
          <p className="badge-line">
            <span className="badge badge-ok">{m('enrol.recommended')}</span>
          </p>
          <TotpSetup onDone={onDone} />
        </Card>
        <Card title={m('enrol.emailTitle')} className="option">
          <p className="hint">{m('enrol.emailHint')}</p>
          <EmailSetup onDone={onDone} email={me?.email ?? ''} />
        </Card>
      </div>
      <p className="hint">{m('enrol.later')}</p>
    </div>
  );
}
