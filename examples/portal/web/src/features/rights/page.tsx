/**
 * `/rights`: ask for another role with a reason and follow one's requests; key users and
 * administrators decide the requests they may (approve with a note, reject with a reason). The
 * server decides who may decide — the page only hides what is not offered.
 */
import { type FormEvent, useState } from 'react';
import {
  rightsContract as c,
  type RightsRequestRow,
} from '../../../../src/features/rights/contract.ts';
import { ROLES, type Role } from '../../../../src/shared/permissions.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { RejectForm } from '../../forms/reject-form.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  DataTable,
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
import { rightsLabel, rightsMessages } from './messages.ts';

const TONE = { pending: 'warn', approved: 'ok', rejected: 'bad', withdrawn: 'neutral' } as const;

/** Roles a member of a tenant whose users hold `role` could hold (the server checks the tenant). */
function candidates(role: Role): Role[] {
  if (role === 'customer' || role === 'key-user')
    return (['customer', 'key-user'] as const).filter((r) => r !== role);
  return [];
}

export function RightsPage() {
  const { can } = useApp();
  const ot = useMessages(rightsMessages);
  return (
    <>
      <PageTitle title={ot('title')}>{ot('title')}</PageTitle>
      <p className="lead">{ot('intro')}</p>
      {can('rights.request') ? <MyRequests /> : null}
      {can('rights.approve') ? <Approvals /> : null}
    </>
  );
}

function MyRequests() {
  const { t, me, locale } = useApp();
  const ot = useMessages(rightsMessages);
  const list = useLoad(() => call(c.mine).then((r) => r.requests), []);
  const action = useAction();
  const role = me?.role ?? 'customer';
  const options = candidates(role);
  const open = (list.data ?? []).some((r) => r.status === 'pending');

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const done = await action.run(
      () =>
        call(c.request, {
          body: {
            // The select offers only roles; the server refuses anything else.
            role: ROLES.find((r) => r === formValue(form, 'role')) ?? role,
            reason: formValue(form, 'reason'),
          },
        }),
      ot('sent'),
    );
    if (done) {
      form.reset();
      list.reload();
    }
  }

  async function withdraw(r: RightsRequestRow): Promise<void> {
    const done = await action.run(() => call(c.withdraw, { params: { id: r.id } }));
    if (done) list.reload();
  }

  const rows = list.data ?? [];
  return (
    <Card title={ot('mine')}>
      <p data-testid="rights-current">{ot('current', { role: t(`role.${role}`) })}</p>
      {options.length === 0 ? (
        <p>{ot('none')}</p>
      ) : !open ? (
        <form onSubmit={(e) => void submit(e)} data-testid="rights-form">
          <SelectField
            label={ot('role')}
            name="role"
            required
            options={options.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          />
          <Field label={ot('reason')} name="reason" required minLength={2} maxLength={1000} />
          <div className="actions">
            <Button type="submit" testId="rights-submit" disabled={action.busy}>
              {ot('submit')}
            </Button>
          </div>
        </form>
      ) : null}
      <Notice error={action.error ?? list.error} status={action.status} />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && rows.length === 0 ? <p>{ot('mineEmpty')}</p> : null}
      {rows.length > 0 ? (
        <ul data-testid="rights-mine">
          {rows.map((r) => (
            <li key={r.id} data-status={r.status}>
              {t(`role.${r.currentRole}`)} → {t(`role.${r.requestedRole}`)}{' '}
              <Badge tone={TONE[r.status]}>{rightsLabel(ot, 'status', r.status)}</Badge>{' '}
              <span className="hint">{formatDate(locale, r.createdAt)}</span>
              {r.decisionNote ? <span className="hint"> – {r.decisionNote}</span> : null}{' '}
              {r.status === 'pending' ? (
                <Button variant="secondary" small onClick={() => void withdraw(r)}>
                  {ot('withdraw')}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

function Approvals() {
  const { t, locale } = useApp();
  const ot = useMessages(rightsMessages);
  const list = useLoad(
    () => call(c.list, { query: { status: 'pending' } }).then((r) => r.requests),
    [],
  );
  const action = useAction();
  const [rejecting, setRejecting] = useState<string | undefined>(undefined);

  async function approve(event: FormEvent<HTMLFormElement>, r: RightsRequestRow): Promise<void> {
    event.preventDefault();
    const note = formValue(event.currentTarget, 'note');
    const done = await action.run(
      () => call(c.approve, { params: { id: r.id }, body: note ? { note } : {} }),
      ot('decided'),
    );
    if (done) list.reload();
  }

  async function reject(r: RightsRequestRow, reason: string): Promise<void> {
    const done = await action.run(
      () => call(c.reject, { params: { id: r.id }, body: { reason } }),
      ot('decided'),
    );
    if (done) {
      setRejecting(undefined);
      list.reload();
    }
  }

  return (
    <Card title={ot('approvals')}>
      <Notice error={action.error} status={action.status} />
      <DataTable
        caption={ot('caption')}
        captionHidden
        testId="rights-approvals"
        source={list}
        empty={ot('approvalsEmpty')}
        rowKey={(r) => r.id}
        rowAttributes={() => ({ 'data-testid': 'rights-row' })}
        actionsHeader={ot('approve')}
        actionsHeaderHidden
        columns={[
          {
            key: 'user',
            header: ot('user'),
            cell: (r) => (
              <>
                {r.user.name}
                <br />
                <span className="hint">{r.user.email}</span>
              </>
            ),
          },
          { key: 'tenant', header: ot('tenant'), cell: (r) => r.tenantName },
          {
            key: 'change',
            header: ot('change'),
            cell: (r) => (
              <>
                {t(`role.${r.currentRole}`)} → {t(`role.${r.requestedRole}`)}
                <br />
                <span className="hint">{formatDate(locale, r.createdAt)}</span>
              </>
            ),
          },
          { key: 'reason', header: ot('reason'), cell: (r) => r.reason },
        ]}
        actions={(r) =>
          !r.canDecide ? (
            <span className="hint">{ot('notYours')}</span>
          ) : rejecting === r.id ? (
            <RejectForm
              reasonLabel={ot('rejectReason')}
              reject={ot('reject')}
              busy={action.busy}
              onReject={(reason) => reject(r, reason)}
            />
          ) : (
            <form
              className="inline-form"
              onSubmit={(e) => void approve(e, r)}
              data-testid="rights-approve-form"
            >
              <Field label={ot('note')} name="note" />
              <div className="row-actions">
                <Button
                  type="submit"
                  small
                  testId="rights-approve"
                  aria-label={ot('approveLabel', { name: r.user.name })}
                  disabled={action.busy}
                >
                  {ot('approve')}
                </Button>
                <Button
                  variant="secondary"
                  small
                  aria-label={ot('rejectLabel', { name: r.user.name })}
                  onClick={() => setRejecting(r.id)}
                >
                  {ot('reject')}
                </Button>
              </div>
            </form>
          )
        }
      />
    </Card>
  );
}
