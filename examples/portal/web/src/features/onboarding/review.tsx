/**
 * `/onboarding` (administrators): the queue of partner registrations (approve, or reject with a
 * reason) and the onboarded partners' certification state, where production scopes are granted
 * once a partner is certified.
 */
import { useState } from 'react';
import {
  type ApplicationRow,
  type ApplicationStatus,
  type CertificationState,
  onboardingContract as c,
} from '../../../../src/features/onboarding/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { RejectForm } from '../../forms/reject-form.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  DataTable,
  formatDate,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { STEP_TONE } from './certification.tsx';
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

  async function reject(a: ApplicationRow, reason: string): Promise<void> {
    const done = await action.run(
      () => call(c.reject, { params: { id: a.id }, body: { reason } }),
      ot('review.rejected', { name: a.companyName }),
    );
    if (done) {
      setRejecting(undefined);
      list.reload();
    }
  }

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
      <Notice error={action.error} status={action.status} />
      <DataTable
        caption={ot('review.caption')}
        captionHidden
        testId="applications"
        source={list}
        empty={ot('review.empty')}
        rowKey={(a) => a.id}
        rowAttributes={(a) => ({ 'data-testid': 'application-row', 'data-company': a.companyName })}
        actionsHeader={ot('review.approve')}
        actionsHeaderHidden
        columns={[
          {
            key: 'company',
            header: ot('review.company'),
            cell: (a) => (
              <>
                <strong>{a.companyName}</strong>
                <br />
                <span className="hint">{a.companyAddress}</span>
                {a.website ? (
                  <>
                    <br />
                    <span className="hint">{a.website}</span>
                  </>
                ) : null}
              </>
            ),
          },
          {
            key: 'contact',
            header: ot('review.contact'),
            cell: (a) => (
              <>
                {a.contactName}
                <br />
                <span className="hint">{a.contactEmail}</span>
              </>
            ),
          },
          {
            key: 'submitted',
            header: ot('review.submitted'),
            className: 'nowrap',
            cell: (a) => formatDate(locale, a.createdAt),
          },
          {
            key: 'status',
            header: ot('review.status'),
            cell: (a) => (
              <>
                <Badge tone={TONE[a.status]}>{onboardingLabel(ot, 'status', a.status)}</Badge>
                {a.rejectReason ? <p className="hint">{a.rejectReason}</p> : null}
              </>
            ),
          },
        ]}
        actions={(a) =>
          a.status !== 'pending' ? null : rejecting === a.id ? (
            <RejectForm
              testId="reject-form"
              reasonLabel={ot('review.reason')}
              reject={ot('review.reject')}
              busy={action.busy}
              onReject={(reason) => reject(a, reason)}
              cancel={
                <>
                  ×<span className="sr-only">{ot('review.reject')}</span>
                </>
              }
              onCancel={() => setRejecting(undefined)}
            />
          ) : (
            <>
              <Button
                small
                testId="approve"
                aria-label={ot('review.approveLabel', { name: a.companyName })}
                disabled={action.busy}
                onClick={() => void approve(a)}
              >
                {ot('review.approve')}
              </Button>
              <Button
                variant="secondary"
                small
                testId="reject"
                aria-label={ot('review.rejectLabel', { name: a.companyName })}
                onClick={() => setRejecting(a.id)}
              >
                {ot('review.reject')}
              </Button>
            </>
          )
        }
      />
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

  return (
    <Card title={ot('review.partners')}>
      <Notice error={action.error} status={action.status} />
      <DataTable
        caption={ot('review.partnersCaption')}
        captionHidden
        testId="onboarded-partners"
        source={list}
        empty={ot('review.partnersEmpty')}
        rowKey={(p) => p.tenantId}
        rowAttributes={(p) => ({
          'data-testid': 'partner-row',
          'data-certified': String(p.certified),
        })}
        actionsHeader={ot('review.grant')}
        actionsHeaderHidden
        columns={[
          { key: 'partner', header: ot('review.partner'), cell: (p) => p.tenantName },
          {
            key: 'steps',
            header: ot('cert.steps'),
            cell: (p) => (
              <>
                {p.steps.map((s) => (
                  <span key={s.id}>
                    <Badge tone={STEP_TONE[s.state]}>
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
              </>
            ),
          },
          {
            key: 'scopes',
            header: ot('review.scopes'),
            cell: (p) => <code>{p.scopes.join(' ')}</code>,
          },
        ]}
        actions={(p) =>
          p.certified && !p.productionGrantedAt ? (
            <Button
              small
              testId="grant"
              aria-label={ot('review.grantLabel', { name: p.tenantName })}
              disabled={action.busy}
              onClick={() => void grant(p)}
            >
              {ot('review.grant')}
            </Button>
          ) : null
        }
      />
    </Card>
  );
}
