/**
 * `/onboarding` (administrators): the queue of partner registrations (approve, or reject with a
 * reason) and the onboarded partners' certification state, where production scopes are granted
 * once a partner is certified.
 */
import { type FormEvent, useState } from 'react';
import {
  type ApplicationRow,
  type ApplicationStatus,
  type CertificationState,
  onboardingContract as c,
} from '../../../../src/features/onboarding/contract.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { onboardingLabel, onboardingMessages } from './messages.ts';

const TONE: Record<ApplicationStatus, 'ok' | 'warn' | 'bad' | 'neutral'> = {
  unverified: 'neutral',
  pending: 'warn',
  approved: 'ok',
  rejected: 'bad',
};
const PRODUCTION = ['licenses:read', 'events:read', 'webhooks:manage'] as const;

export function OnboardingReviewPage() {
  const ot = useMessages(onboardingMessages);
  // An approval adds a partner: the partners' list reloads.
  const [approvals, setApprovals] = useState(0);
  return (
    <>
      <PageTitle title={ot('review.title')}>{ot('review.title')}</PageTitle>
      <p className="lead">{ot('review.intro')}</p>
      <Applications onApproved={() => setApprovals((n) => n + 1)} />
      <Partners version={approvals} />
    </>
  );
}

function Applications({ onApproved }: { onApproved(): void }) {
  const { locale } = useApp();
  const ot = useMessages(onboardingMessages);
  const [status, setStatus] = useState<ApplicationStatus | ''>('pending');
  const list = useLoad(
    () => call(c.applications, { query: status ? { status } : {} }).then((r) => r.applications),
    [status],
  );
  const action = useAction();
  const [rejecting, setRejecting] = useState<string | undefined>(undefined);

  async function approve(a: ApplicationRow): Promise<void> {
    const done = await action.run(
      () => call(c.approve, { params: { id: a.id } }),
      ot('review.approved', { name: a.companyName }),
    );
    if (done) {
      list.reload();
      onApproved();
    }
  }

  async function reject(event: FormEvent<HTMLFormElement>, a: ApplicationRow): Promise<void> {
    event.preventDefault();
    const reason = formValue(event.currentTarget, 'reason');
    const done = await action.run(
      () => call(c.reject, { params: { id: a.id }, body: { reason } }),
      ot('review.rejected', { name: a.companyName }),
    );
    if (done) {
      setRejecting(undefined);
      list.reload();
    }
  }

  const rows = list.data ?? [];
  return (
    <Card title={ot('review.queue')}>
      <SelectField
        className="field-compact"
        label={ot('review.filter')}
        name="status"
        value={status}
        data-testid="review-filter"
        onChange={(e) => setStatus(e.currentTarget.value as ApplicationStatus | '')}
        options={[
          { value: '', label: '–' },
          ...(['pending', 'unverified', 'approved', 'rejected'] as const).map((s) => ({
            value: s,
            label: onboardingLabel(ot, 'status', s),
          })),
        ]}
      />
      <Notice error={action.error ?? list.error} status={action.status} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && rows.length === 0 ? <p>{ot('review.empty')}</p> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="applications">
            <caption className="sr-only">{ot('review.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{ot('review.company')}</th>
                <th scope="col">{ot('review.contact')}</th>
                <th scope="col">{ot('review.submitted')}</th>
                <th scope="col">{ot('review.status')}</th>
                <th scope="col">
                  <span className="sr-only">{ot('review.approve')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id} data-testid="application-row" data-company={a.companyName}>
                  <td>
                    <strong>{a.companyName}</strong>
                    <br />
                    <span className="hint">{a.companyAddress}</span>
                    {a.website ? (
                      <>
                        <br />
                        <span className="hint">{a.website}</span>
                      </>
                    ) : null}
                  </td>
                  <td>
                    {a.contactName}
                    <br />
                    <span className="hint">{a.contactEmail}</span>
                  </td>
                  <td className="nowrap">{formatDate(locale, a.createdAt)}</td>
                  <td>
                    <Badge tone={TONE[a.status]}>{onboardingLabel(ot, 'status', a.status)}</Badge>
                    {a.rejectReason ? <p className="hint">{a.rejectReason}</p> : null}
                  </td>
                  <td>
                    {a.status === 'pending' ? (
                      rejecting === a.id ? (
                        <form
                          className="inline-form"
                          onSubmit={(e) => void reject(e, a)}
                          data-testid="reject-form"
                        >
                          <Field label={ot('review.reason')} name="reason" required minLength={2} />
                          <div className="row-actions">
                            <button type="submit" className="button-danger button-small">
                              {ot('review.reject')}
                            </button>
                            <button
                              type="button"
                              className="button-secondary button-small"
                              onClick={() => setRejecting(undefined)}
                            >
                              ×<span className="sr-only">{ot('review.reject')}</span>
                            </button>
                          </div>
                        </form>
                      ) : (
                        <div className="row-actions">
                          <button
                            type="button"
                            className="button button-small"
                            data-testid="approve"
                            aria-label={ot('review.approveLabel', { name: a.companyName })}
                            disabled={action.busy}
                            onClick={() => void approve(a)}
                          >
                            {ot('review.approve')}
                          </button>
                          <button
                            type="button"
                            className="button-secondary button-small"
                            data-testid="reject"
                            aria-label={ot('review.rejectLabel', { name: a.companyName })}
                            onClick={() => setRejecting(a.id)}
                          >
                            {ot('review.reject')}
                          </button>
                        </div>
                      )
                    ) : null}
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

function Partners({ version }: { version: number }) {
  const { locale } = useApp();
  const ot = useMessages(onboardingMessages);
  const list = useLoad(() => call(c.partners).then((r) => r.partners), [version]);
  const action = useAction();

  async function grant(p: CertificationState): Promise<void> {
    const done = await action.run(
      () => call(c.grant, { params: { tenantId: p.tenantId }, body: { scopes: [...PRODUCTION] } }),
      ot('review.granted', { name: p.tenantName }),
    );
    if (done) list.reload();
  }

  const rows = list.data ?? [];
  return (
    <Card title={ot('review.partners')}>
      <Notice error={action.error ?? list.error} status={action.status} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && rows.length === 0 ? <p>{ot('review.partnersEmpty')}</p> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="onboarded-partners">
            <caption className="sr-only">{ot('review.partnersCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{ot('review.partner')}</th>
                <th scope="col">{ot('cert.steps')}</th>
                <th scope="col">{ot('review.scopes')}</th>
                <th scope="col">
                  <span className="sr-only">{ot('review.grant')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.tenantId} data-testid="partner-row" data-certified={p.certified}>
                  <td>{p.tenantName}</td>
                  <td>
                    {p.steps.map((s) => (
                      <span key={s.id}>
                        <Badge
                          tone={
                            s.state === 'passed' ? 'ok' : s.state === 'failed' ? 'bad' : 'neutral'
                          }
                        >
                          {s.id === 'inbound' ? '(a)' : '(b)'}{' '}
                          {onboardingLabel(ot, 'cert.state', s.state)}
                        </Badge>{' '}
                      </span>
                    ))}
                    <br />
                    {p.certified ? (
                      <Badge tone="ok">
                        {ot('review.certified')} {formatDate(locale, p.certifiedAt)}
                      </Badge>
                    ) : (
                      <Badge tone="neutral">{ot('review.notCertified')}</Badge>
                    )}
                  </td>
                  <td>
                    <code>{p.scopes.join(' ')}</code>
                  </td>
                  <td>
                    {p.certified && !p.productionGrantedAt ? (
                      <button
                        type="button"
                        className="button button-small"
                        data-testid="grant"
                        aria-label={ot('review.grantLabel', { name: p.tenantName })}
                        disabled={action.busy}
                        onClick={() => void grant(p)}
                      >
                        {ot('review.grant')}
                      </button>
                    ) : null}
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
