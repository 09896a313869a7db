/** `/users`: the users in scope; invite, change role, disable/enable, end sessions. */
import { type FormEvent, useState } from 'react';
import { type Tenant, tenantsContract } from '../../../../src/features/tenants/contract.ts';
import {
  usersContract as c,
  type InvitationRow,
  type UserRow,
} from '../../../../src/features/users/contract.ts';
import { GRANTABLE, type Role } from '../../../../src/shared/permissions.ts';
import { Button, ConfirmButton } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp, useMe } from '../../context.tsx';
import { SubmitRow } from '../../forms/submit-row.tsx';
import { useMessages } from '../../messages.ts';
import { TableCard } from '../../table-card.tsx';
import {
  Badge,
  Card,
  Field,
  formatDate,
  formValue,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { usersMessages } from './messages.ts';

export function UsersPage() {
  const { t: ui, locale, can } = useApp();
  const t = useMessages(usersMessages);
  const me = useMe();
  const list = useLoad(() => call(c.list).then((r) => r.users), []);
  const tenants = useLoad(
    () =>
      can('tenants.read')
        ? call(tenantsContract.list).then((r) => r.tenants)
        : Promise.resolve<Tenant[]>([]),
    [],
  );
  const tenantName = (id: string) =>
    tenants.data?.find((tenant) => tenant.id === id)?.name ??
    (id === me.tenant.id ? me.tenant.name : id);
  const grantable = GRANTABLE[me.role];
  const manage = can('users.manage');
  // A new invitation reloads the pending list below.
  const [invitedCount, setInvitedCount] = useState(0);

  function replace(row: UserRow): void {
    list.setData((rows) => rows?.map((r) => (r.id === row.id ? row : r)));
  }

  return (
    <>
      <PageTitle title={t('title')}>{t('title')}</PageTitle>
      <p className="lead">{t('intro')}</p>
      <TableCard
        title={t('listTitle')}
        testId="users-table"
        source={list}
        empty={t('empty')}
        rowKey={(user) => user.id}
        rowAttributes={(user) => ({ 'data-user-id': user.id, 'data-email': user.email })}
        columns={[
          { key: 'name', header: ui('field.name'), rowHeader: true, cell: (user) => user.name },
          { key: 'email', header: ui('field.email'), cell: (user) => user.email },
          {
            key: 'role',
            header: ui('field.role'),
            cell: (user) => <span data-testid="user-role">{ui(`role.${user.role}`)}</span>,
          },
          {
            key: 'tenant',
            header: ui('field.tenant'),
            cell: (user) => tenantName(user.tenantId),
          },
          {
            key: 'status',
            header: ui('field.status'),
            cell: (user) => (
              <span data-testid="user-status" data-status={user.status}>
                <Badge tone={user.status === 'active' ? 'ok' : 'bad'}>
                  {ui(`userStatus.${user.status}`)}
                </Badge>
              </span>
            ),
          },
          {
            key: 'factors',
            header: t('factors'),
            cell: (user) =>
              user.factors.length > 0 ? user.factors.map((f) => ui(`factor.${f}`)).join(', ') : '–',
          },
          {
            key: 'lastSignIn',
            header: t('lastSignIn'),
            cell: (user) => formatDate(locale, user.lastSignInAt),
          },
        ]}
        {...(manage
          ? {
              actions: (user: UserRow) =>
                user.id !== me.id && grantable.includes(user.role) ? (
                  <UserActions user={user} grantable={grantable} onChanged={replace} />
                ) : (
                  <span className="hint">{user.id === me.id ? t('you') : '–'}</span>
                ),
            }
          : {})}
      />
      <PendingInvitations key={invitedCount} canInvite={can('users.invite')} />
      {can('users.invite') && grantable.length > 0 && (!can('tenants.all') || !tenants.loading) ? (
        <InviteForm
          grantable={grantable}
          tenants={can('tenants.all') ? (tenants.data ?? []) : undefined}
          onInvited={() => setInvitedCount((n) => n + 1)}
        />
      ) : null}
    </>
  );
}

function UserActions({
  user,
  grantable,
  onChanged,
}: {
  user: UserRow;
  grantable: readonly Role[];
  onChanged(row: UserRow): void;
}) {
  const { t: ui } = useApp();
  const t = useMessages(usersMessages);
  const action = useAction();
  const [role, setRole] = useState<Role>(user.role);
  const params = { id: user.id };

  async function saveRole(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const row = await action.run(() => call(c.update, { params, body: { role } }), t('roleSaved'));
    if (row) onChanged(row);
  }

  async function toggle(): Promise<void> {
    const status = user.status === 'active' ? 'disabled' : 'active';
    const row = await action.run(() => call(c.update, { params, body: { status } }));
    if (row) onChanged(row);
  }

  async function revoke(): Promise<void> {
    const result = await action.run(() => call(c.endSessions, { params }));
    if (result) action.setStatus(t('sessionsEnded', { n: result.ended }));
  }

  return (
    <div className="row-actions">
      <form className="inline-form compact" onSubmit={(e) => void saveRole(e)}>
        <SelectField
          label={t('roleFor', { name: user.name })}
          className="field-compact"
          name="role"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
          options={grantable.map((r) => ({ value: r, label: ui(`role.${r}`) }))}
        />
        <Button
          type="submit"
          variant="secondary"
          small
          testId="user-role-save"
          disabled={action.busy || role === user.role}
        >
          {t('changeRole')}
        </Button>
      </form>
      <Button
        variant={user.status === 'active' ? 'secondary' : 'primary'}
        small
        testId="user-toggle-status"
        disabled={action.busy}
        onClick={() => void toggle()}
      >
        {user.status === 'active' ? t('disable') : t('enable')}
      </Button>
      <Button
        variant="secondary"
        small
        testId="user-revoke-sessions"
        disabled={action.busy}
        onClick={() => void revoke()}
      >
        {t('endSessions')}
      </Button>
      <Notice error={action.error} status={action.status} />
    </div>
  );
}

/**
 * Invitations nobody has accepted yet (expired ones too): resending mails a new link (the old
 * one then says it was replaced), revoking makes the link invalid — after a confirmation.
 */
function PendingInvitations({ canInvite }: { canInvite: boolean }) {
  const { t: ui, locale } = useApp();
  const t = useMessages(usersMessages);
  const list = useLoad(() => call(c.invitations).then((r) => r.invitations), []);
  const action = useAction();
  const [revoking, setRevoking] = useState<string | undefined>(undefined);

  async function resend(row: InvitationRow): Promise<void> {
    const result = await action.run(() => call(c.resendInvitation, { params: { id: row.id } }));
    if (result) {
      action.setStatus(
        t('invitationResent', { email: row.email, date: formatDate(locale, result.expiresAt) }),
      );
      list.reload();
    }
  }

  async function revoke(row: InvitationRow): Promise<void> {
    const done = await action.run(() =>
      call(c.revokeInvitation, { params: { id: row.id } }).then(() => true),
    );
    if (done) {
      action.setStatus(t('invitationRevoked', { email: row.email }));
      list.reload();
    }
  }

  return (
    <TableCard
      title={t('pendingTitle')}
      testId="invitations-table"
      source={list}
      empty={t('pendingEmpty')}
      rowKey={(row) => row.id}
      rowAttributes={(row) => ({ 'data-invitation-id': row.id, 'data-email': row.email })}
      columns={[
        { key: 'email', header: ui('field.email'), rowHeader: true, cell: (row) => row.email },
        { key: 'role', header: ui('field.role'), cell: (row) => ui(`role.${row.role}`) },
        { key: 'tenant', header: ui('field.tenant'), cell: (row) => row.tenantName },
        { key: 'invitedBy', header: t('invitedBy'), cell: (row) => row.invitedBy ?? '–' },
        {
          key: 'expires',
          header: t('validUntil'),
          cell: (row) => (
            <span data-testid="invitation-expiry" data-expired={String(row.expired)}>
              {row.expired ? (
                <Badge tone="bad">{t('expired')}</Badge>
              ) : (
                formatDate(locale, row.expiresAt)
              )}
            </span>
          ),
        },
      ]}
      {...(canInvite
        ? {
            actions: (row: InvitationRow) => (
              <>
                {/* While the revoke question is open it stands alone in the row. */}
                {revoking === row.id ? null : (
                  <Button
                    variant="secondary"
                    small
                    testId="invitation-resend"
                    disabled={action.busy}
                    onClick={() => void resend(row)}
                  >
                    {t('resend')}
                  </Button>
                )}
                <ConfirmButton
                  testId="invitation-revoke"
                  label={t('revokeAsk')}
                  question={t('revokeQuestion', { email: row.email })}
                  confirm={t('revoke')}
                  busy={action.busy}
                  onOpenChange={(open) => setRevoking(open ? row.id : undefined)}
                  onConfirm={() => revoke(row)}
                />
              </>
            ),
          }
        : {})}
    >
      <Notice error={action.error} status={action.status} />
    </TableCard>
  );
}

function InviteForm({
  grantable,
  tenants,
  onInvited,
}: {
  grantable: readonly Role[];
  tenants: readonly Tenant[] | undefined;
  onInvited(): void;
}) {
  const { t: ui, locale } = useApp();
  const t = useMessages(usersMessages);
  const me = useMe();
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const email = formValue(form, 'email');
    const tenantId = formValue(form, 'tenantId');
    const chosen = formValue(form, 'role');
    const role = grantable.find((r) => r === chosen) ?? grantable[0] ?? 'customer';
    const body = { email, role, ...(tenantId ? { tenantId } : {}) };
    const result = await action.run(() => call(c.invite, { body }));
    if (result) {
      action.setStatus(t('invited', { email, date: formatDate(locale, result.expiresAt) }));
      form.reset();
      onInvited();
    }
  }

  return (
    <Card title={t('inviteTitle')}>
      <p className="hint">{t('inviteIntro')}</p>
      <form onSubmit={(e) => void submit(e)} data-testid="invite-form" className="form-grid">
        <Field label={ui('field.email')} name="email" type="email" required autoComplete="off" />
        <SelectField
          label={ui('field.role')}
          name="role"
          required
          defaultValue={grantable[0]}
          options={grantable.map((r) => ({ value: r, label: ui(`role.${r}`) }))}
        />
        {tenants ? (
          <SelectField
            label={ui('field.tenant')}
            name="tenantId"
            defaultValue={me.tenant.id}
            options={
              tenants.length > 0
                ? tenants.map((tenant) => ({ value: tenant.id, label: tenant.name }))
                : [{ value: me.tenant.id, label: me.tenant.name }]
            }
          />
        ) : null}
        <SubmitRow action={action} testId="invite-submit">
          {t('invite')}
        </SubmitRow>
      </form>
    </Card>
  );
}
