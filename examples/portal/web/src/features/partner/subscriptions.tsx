/** The partner page's webhook subscriptions: list (pause, test, delete), create (secret once). */
import { useState } from 'react';
import {
  partnerContract as c,
  type PartnerMeta,
  type SubscriptionRow,
} from '../../../../src/features/partner/contract.ts';
import { Button, ConfirmButton } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  DataTable,
  Field,
  formValue,
  Notice,
  OneTimeSecret,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { CreatedBox, CreateForm } from './form-parts.tsx';
import { partnerLabel, partnerMessages } from './messages.ts';

export function SubscriptionsCard({ meta }: { meta: PartnerMeta }) {
  const t = useMessages(partnerMessages);
  const list = useLoad(() => call(c.subscriptions).then((r) => r.subscriptions), []);
  const action = useAction();
  const [secret, setSecret] = useState<string | undefined>(undefined);

  async function setActive(s: SubscriptionRow, active: boolean): Promise<void> {
    if (
      await action.run(() => call(c.updateSubscription, { params: { id: s.id }, body: { active } }))
    )
      list.reload();
  }

  async function ping(s: SubscriptionRow): Promise<void> {
    await action.run(() => call(c.pingSubscription, { params: { id: s.id } }), t('subPinged'));
  }

  async function remove(s: SubscriptionRow): Promise<void> {
    await action.run(() => call(c.deleteSubscription, { params: { id: s.id } }));
    list.reload();
  }

  return (
    <Card title={t('subsTitle')}>
      {secret ? (
        <CreatedBox
          testId="subscription-created"
          title={t('subCreatedTitle')}
          onDone={() => setSecret(undefined)}
        >
          <OneTimeSecret
            testId="webhook-secret"
            label={t('subSecret')}
            value={secret}
            note={t('shownOnce')}
          />
        </CreatedBox>
      ) : null}
      <Notice status={action.status} />
      <DataTable
        caption={t('subsCaption')}
        captionHidden
        testId="partner-subscriptions"
        source={list}
        empty={t('subsEmpty')}
        rowKey={(s) => s.id}
        rowAttributes={(s) => ({ 'data-subscription-id': s.id })}
        actionsHeader={t('actions')}
        columns={[
          {
            key: 'url',
            header: t('subUrl'),
            rowHeader: true,
            cell: (s) => <code className="mono-short">{s.url}</code>,
          },
          { key: 'tenant', header: t('tenant'), cell: (s) => s.tenantName },
          {
            key: 'events',
            header: t('subEvents'),
            cell: (s) => s.eventTypes.map((e) => partnerLabel(t, 'event', e)).join(', '),
          },
          {
            key: 'state',
            header: t('subState'),
            cell: (s) => (
              <Badge tone={s.active ? 'ok' : 'neutral'}>
                {s.active ? t('subActive') : t('subPaused')}
              </Badge>
            ),
          },
        ]}
        actions={(s) => (
          <>
            <Button
              variant="secondary"
              small
              disabled={action.busy}
              onClick={() => void setActive(s, !s.active)}
            >
              {s.active ? t('subPause') : t('subResume')}
            </Button>
            <Button
              variant="secondary"
              small
              disabled={action.busy || !s.active}
              onClick={() => void ping(s)}
            >
              {t('subPing')}
            </Button>
            <ConfirmButton
              testId="subscription-delete"
              label={t('subDelete')}
              ariaLabel={t('subDeleteLabel', { url: s.url })}
              question={t('subDeleteQuestion', { url: s.url })}
              confirm={t('subDeleteConfirm')}
              busy={action.busy}
              onConfirm={() => remove(s)}
            />
          </>
        )}
      />
      <CreateForm
        meta={meta}
        testId="subscription-create-form"
        action={action}
        choices={{
          legend: t('subEvents'),
          name: 'eventTypes',
          values: meta.eventTypes,
          label: (e) => partnerLabel(t, 'event', e),
          missing: t('eventsRequired'),
        }}
        submit={t('subCreate')}
        onCreate={(form, eventTypes, tenant) =>
          action.run(() =>
            call(c.createSubscription, {
              body: { url: formValue(form, 'url'), eventTypes, ...tenant },
            }),
          )
        }
        onCreated={(created) => {
          setSecret(created.secret);
          list.reload();
        }}
      >
        <Field
          label={t('subUrl')}
          name="url"
          type="url"
          required
          maxLength={2000}
          hint={t('subUrlHint')}
          spellCheck={false}
          autoCapitalize="off"
        />
      </CreateForm>
    </Card>
  );
}
