/** The partner page's API clients: list (revoke), create (the secret is shown once). */
import { useState } from 'react';
import {
  type ApiClientRow,
  partnerContract as c,
  type PartnerMeta,
} from '../../../../src/features/partner/contract.ts';
import { ConfirmButton } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  DataTable,
  Field,
  formatDate,
  formValue,
  OneTimeSecret,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { CreatedBox, CreateForm } from './form-parts.tsx';
import { partnerLabel, partnerMessages } from './messages.ts';

export function ClientsCard({ meta }: { meta: PartnerMeta }) {
  const t = useMessages(partnerMessages);
  const { locale } = useApp();
  const list = useLoad(() => call(c.clients).then((r) => r.clients), []);
  const action = useAction();
  const [created, setCreated] = useState<
    { client: ApiClientRow; clientSecret: string } | undefined
  >(undefined);

  async function revoke(client: ApiClientRow): Promise<void> {
    const result = await action.run(() =>
      call(c.revokeClient, { params: { id: client.clientId } }),
    );
    if (result) list.reload();
  }

  return (
    <Card title={t('clientsTitle')}>
      <p className="hint">{t('tokenHint', { url: meta.tokenUrl, api: meta.apiBase })}</p>
      {created ? (
        <CreatedBox
          testId="client-created"
          title={t('clientCreatedTitle', { name: created.client.name })}
          onDone={() => setCreated(undefined)}
        >
          <p>
            {t('clientId')}: <code data-testid="client-id">{created.client.clientId}</code>
          </p>
          <OneTimeSecret
            testId="client-secret"
            label={t('clientSecret')}
            value={created.clientSecret}
            note={t('shownOnce')}
          />
        </CreatedBox>
      ) : null}
      <DataTable
        caption={t('clientsCaption')}
        captionHidden
        testId="partner-clients"
        source={list}
        empty={t('clientsEmpty')}
        rowKey={(client) => client.clientId}
        rowAttributes={(client) => ({ 'data-client-id': client.clientId })}
        actionsHeader={t('actions')}
        columns={[
          { key: 'name', header: t('clientName'), rowHeader: true, cell: (client) => client.name },
          {
            key: 'id',
            header: t('clientId'),
            cell: (client) => <code className="mono-short">{client.clientId}</code>,
          },
          {
            key: 'tenant',
            header: t('tenant'),
            cell: (client) =>
              meta.tenants.find((tenant) => tenant.id === client.tenantId)?.name ?? client.tenantId,
          },
          {
            key: 'scopes',
            header: t('clientScopes'),
            cell: (client) => client.scopes.map((s) => partnerLabel(t, 'scope', s)).join(', '),
          },
          {
            key: 'lastUsed',
            header: t('clientLastUsed'),
            cell: (client) => formatDate(locale, client.lastUsedAt),
          },
        ]}
        actions={(client) =>
          client.revokedAt ? (
            <Badge tone="neutral">{t('clientRevoked')}</Badge>
          ) : (
            <ConfirmButton
              testId="client-revoke"
              label={t('clientRevoke')}
              ariaLabel={t('clientRevokeLabel', { name: client.name })}
              question={t('clientRevokeQuestion', { name: client.name })}
              confirm={t('clientRevokeConfirm')}
              busy={action.busy}
              onConfirm={() => revoke(client)}
            />
          )
        }
      />
      <CreateForm
        meta={meta}
        testId="client-create-form"
        action={action}
        choices={{
          legend: t('clientScopes'),
          name: 'scopes',
          values: meta.scopes,
          label: (s) => partnerLabel(t, 'scope', s),
          missing: t('scopesRequired'),
        }}
        submit={t('clientCreate')}
        onCreate={(form, scopes, tenant) =>
          action.run(() =>
            call(c.createClient, { body: { name: formValue(form, 'name'), scopes, ...tenant } }),
          )
        }
        onCreated={(created) => {
          setCreated(created);
          list.reload();
        }}
      >
        <Field label={t('clientName')} name="name" required maxLength={100} />
      </CreateForm>
    </Card>
  );
}
