/**
 * `/privacy`: own consents, the data export (a zip, after a re-authentication) and the request
 * to delete the account (grace period, cancel by the mailed link). Administrators also see the
 * scheduled deletions and can cancel them. `ErasureCancelPage` is the page of the mailed link
 * (`/privacy/cancel/:token`, public).
 */
import { type FormEvent, useState } from 'react';
import {
  type ConsentState,
  type ErasureStatus,
  privacyContract,
} from '../../../../src/features/privacy/contract.ts';
import type { ErrorCode, Problem } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { ApiError } from '../../api.ts';
import { call, hrefOf } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { SubmitRow } from '../../forms/submit-row.tsx';
import { useMessages } from '../../messages.ts';
import { navigate } from '../../router.tsx';
import { TableCard } from '../../table-card.tsx';
import { Card, formatDate, Loading, Notice, PageTitle, useAction, useLoad } from '../../ui.tsx';
import { privacyMessages } from './messages.ts';

const usePrivacyT = () => useMessages(privacyMessages);

/** Fetches the export zip and hands it to the browser as a download. */
async function downloadExport(): Promise<void> {
  let res: Response;
  try {
    res = await fetch(hrefOf(privacyContract.export), {
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError({ status: 0, code: 'upstream_unavailable', title: 'Network error' });
  }
  if (!res.ok) {
    let problem: Partial<Problem> = {};
    try {
      problem = (await res.json()) as Partial<Problem>;
    } catch {
      // Not problem+json: the status alone.
    }
    throw new ApiError({
      status: res.status,
      code: (typeof problem.code === 'string' ? problem.code : 'internal') as ErrorCode,
      title: typeof problem.title === 'string' ? problem.title : `HTTP ${res.status}`,
    });
  }
  const name =
    /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ??
    'fluxel-data.zip';
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function PrivacyPage() {
  const { can } = useApp();
  const pt = usePrivacyT();
  const [scheduled, setScheduled] = useState<ErasureStatus | undefined>(undefined);
  return (
    <>
      <PageTitle title={pt('title')}>{pt('title')}</PageTitle>
      <p className="lead">{pt('intro')}</p>
      {scheduled ? (
        <Scheduled status={scheduled} />
      ) : (
        <>
          <Consents />
          <Export />
          <Erasure onScheduled={setScheduled} />
          {can('privacy.manage') ? <AdminErasures /> : null}
        </>
      )}
    </>
  );
}

function Consents() {
  const { locale } = useApp();
  const pt = usePrivacyT();
  const load = useLoad(() => call(privacyContract.consents), []);
  const action = useAction();

  async function toggle(consent: ConsentState, granted: boolean): Promise<void> {
    const body = { purpose: consent.purpose, version: consent.version, granted };
    const next = await action.run(
      () => call(privacyContract.decideConsent, { body }),
      pt('consentSaved'),
    );
    if (next) load.setData(next);
  }

  return (
    <Card title={pt('consents')}>
      <p>{pt('consentsIntro')}</p>
      {load.loading && !load.data ? <Loading /> : null}
      <Notice error={load.error} />
      {load.data ? (
        <fieldset className="methods" data-testid="consents">
          <legend>{pt('consents')}</legend>
          {load.data.consents.map((c) => (
            <div key={c.purpose}>
              <label className="radio">
                <input
                  type="checkbox"
                  name={`consent-${c.purpose}`}
                  data-testid={`consent-${c.purpose}`}
                  checked={c.granted}
                  disabled={action.busy}
                  onChange={(e) => void toggle(c, e.currentTarget.checked)}
                />
                <strong>{c.title[locale]}</strong>
              </label>
              <p className="hint">
                {c.text[locale]} {pt('consentVersion', { version: c.version })}
                {c.decidedAt
                  ? ` · ${pt('consentDecided', { time: formatDate(locale, c.decidedAt) })}`
                  : ''}
              </p>
              {c.decidedVersion && c.decidedVersion !== c.version ? (
                <p className="hint">{pt('consentOutdated')}</p>
              ) : null}
            </div>
          ))}
        </fieldset>
      ) : null}
      <Notice error={action.error} status={action.status} />
    </Card>
  );
}

function Export() {
  const { withReauth } = useApp();
  const pt = usePrivacyT();
  const action = useAction();
  return (
    <Card title={pt('export')}>
      <p>{pt('exportIntro')}</p>
      <p className="hint">{pt('reauthHint')}</p>
      <div className="actions">
        <Button
          testId="privacy-export"
          disabled={action.busy}
          onClick={() => void action.run(() => withReauth(downloadExport), pt('exportDone'))}
        >
          {pt('exportButton')}
        </Button>
      </div>
      <Notice error={action.error} status={action.status} />
    </Card>
  );
}

function Erasure({ onScheduled }: { onScheduled(status: ErasureStatus): void }) {
  const { locale, withReauth } = useApp();
  const pt = usePrivacyT();
  const load = useLoad(() => call(privacyContract.erasure), []);
  const action = useAction();
  const days = load.data?.graceDays ?? 30;
  // The date the deletion would run if requested now.
  const date = formatDate(locale, new Date(Date.now() + days * 86_400_000).toISOString());

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const result = await action.run(() => withReauth(() => call(privacyContract.requestErasure)));
    if (result) onScheduled(result);
  }

  return (
    <Card title={pt('erasure')}>
      <p data-testid="erasure-intro">{pt('erasureIntro', { days, date })}</p>
      <p className="hint">{pt('erasureKeeps')}</p>
      <form onSubmit={(e) => void submit(e)} data-testid="erasure-form">
        <div className="methods">
          <label className="radio">
            <input type="checkbox" name="confirm" required data-testid="erasure-confirm" />
            {pt('erasureConfirm')}
          </label>
        </div>
        <p className="hint">{pt('reauthHint')}</p>
        <SubmitRow action={action} testId="erasure-request" variant="danger">
          {pt('erasureButton')}
        </SubmitRow>
      </form>
    </Card>
  );
}

function Scheduled({ status }: { status: ErasureStatus }) {
  const { locale, reload } = useApp();
  const pt = usePrivacyT();
  return (
    <Card title={pt('erasure')}>
      <div className="notice notice-warn" data-testid="erasure-scheduled" role="status">
        <p>{pt('erasureScheduled', { date: formatDate(locale, status.dueAt) })}</p>
      </div>
      <div className="actions">
        <Button
          testId="erasure-to-login"
          onClick={() => {
            // Signed out either way: the session ended with the request.
            const toLogin = () => navigate('/login', { replace: true });
            reload().then(toLogin, toLogin);
          }}
        >
          {pt('toLogin')}
        </Button>
      </div>
    </Card>
  );
}

function AdminErasures() {
  const { locale } = useApp();
  const pt = usePrivacyT();
  const load = useLoad(() => call(privacyContract.erasures), []);
  const action = useAction();

  async function cancel(userId: string): Promise<void> {
    const done = await action.run(
      () => call(privacyContract.cancelFor, { params: { id: userId } }),
      pt('adminCancelled'),
    );
    if (done) load.reload();
  }

  return (
    <TableCard
      title={pt('adminErasures')}
      testId="admin-erasures"
      rows={load.data?.erasures}
      loading={load.loading}
      error={load.error}
      rowKey={(r) => r.userId}
      empty={pt('adminNone')}
      columns={[
        {
          key: 'user',
          header: pt('adminUser'),
          rowHeader: true,
          cell: (r) => `${r.name} <${r.email}>`,
        },
        { key: 'due', header: pt('adminDue'), cell: (r) => formatDate(locale, r.dueAt) },
        {
          key: 'by',
          header: pt('adminRequestedBy'),
          cell: (r) => (r.requestedBy === 'self' ? pt('bySelf') : pt('byAdmin')),
        },
      ]}
      actionsHeader={pt('adminCancel')}
      actions={(r) => (
        <Button
          variant="secondary"
          small
          disabled={action.busy}
          onClick={() => void cancel(r.userId)}
        >
          {pt('adminCancel')}
        </Button>
      )}
    >
      <Notice error={action.error} status={action.status} />
    </TableCard>
  );
}

/** The page behind the mailed link: keeps the account (no sign-in needed). */
export function ErasureCancelPage({ token }: { token: string }) {
  const pt = usePrivacyT();
  const action = useAction();
  const [done, setDone] = useState(false);
  return (
    <>
      <PageTitle title={pt('cancelTitle')}>{pt('cancelTitle')}</PageTitle>
      {done ? (
        <p data-testid="erasure-cancelled">{pt('cancelDone')}</p>
      ) : (
        <>
          <p>{pt('cancelIntro')}</p>
          <div className="actions">
            <Button
              testId="erasure-cancel"
              disabled={action.busy}
              onClick={() =>
                void action
                  .run(() =>
                    call(privacyContract.cancelByToken, { body: { token } }).then(() => true),
                  )
                  .then((ok) => setDone(ok === true))
              }
            >
              {pt('cancelButton')}
            </Button>
          </div>
        </>
      )}
      <Notice error={action.error} />
    </>
  );
}
