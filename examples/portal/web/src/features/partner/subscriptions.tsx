/** The partner page's webhook subscriptions: list (pause, test, delete), create (secret once). */
import { type FormEvent, useState } from 'react';
import {
  partnerContract as c,
  type PartnerMeta,
  type SubscriptionRow,
} from '../../../../src/features/partner/contract.ts';
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
import { Checkboxes, checkedOf, TenantChoice } from './form-parts.tsx';
import { partnerLabel, partnerMessages } from './messages.ts';

export function SubscriptionsCard({ meta }: { meta: PartnerMeta }) {
  const t = useMessages(partnerMessages);
  const list = useLoad(() => call(c.subscriptions).then((r) => r.subscriptions), []);
  const action = useAction();
  const [secret, setSecret] = useState<string | undefined>(undefined);

  async function create(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const eventTypes = checkedOf(form, 'eventTypes', meta.eventTypes);
    if (eventTypes.length === 0) {
      action.setError(new Error(t('eventsRequired')));
      return;
    }
    const tenantId = formValue(form, 'tenantId');
    const result = await action.run(() =>
      call(c.createSubscription, {
        body: { url: formValue(form, 'url'), eventTypes, ...(tenantId ? { tenantId } : {}) },
      }),
    );
    if (result) {
      form.reset();
      setSecret(result.secret);
      list.reload();
    }
  }

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
        <div className="card-highlight" data-testid="subscription-created">
          <h3>{t('subCreatedTitle')}</h3>
          <OneTimeSecret
            testId="webhook-secret"
            label={t('subSecret')}
            value={secret}
            note={t('shownOnce')}
          />
          <button type="button" className="button-secondary" onClick={() => setSecret(undefined)}>
            {t('done')}
          </button>
        </div>
      ) : null}
      <Notice status={action.status} />
      <DataTable
        caption={t('subsCaption')}
        captionHidden
        testId="partner-subscriptions"
        rows={list.data}
        loading={list.loading}
        error={list.error}
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
            <button
              type="button"
              className="button-secondary button-small"
              disabled={action.busy}
              onClick={() => void setActive(s, !s.active)}
            >
              {s.active ? t('subPause') : t('subResume')}
            </button>
            <button
              type="button"
              className="button-secondary button-small"
              disabled={action.busy || !s.active}
              onClick={() => void ping(s)}
            >
              {t('subPing')}
            </button>
            <button
              type="button"
              className="button-secondary button-small"
              aria-label={t('subDeleteLabel', { url: s.url })}
              disabled={action.busy}
              onClick={() => void remove(s)}
            >
              {t('subDelete')}
            </button>
          </>
        )}
      />
      <form
        className="form-grid"
        data-testid="subscription-create-form"
        onSubmit={(e) => void create(e)}
      >
        <TenantChoice meta={meta} />
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
        <Checkboxes
          legend={t('subEvents')}
          name="eventTypes"
          values={meta.eventTypes}
          label={(e) => partnerLabel(t, 'event', e)}
        />
        <Notice error={action.error} />
        <div className="actions">
          <button type="submit" className="button" disabled={action.busy}>
            {t('subCreate')}
          </button>
        </div>
      </form>
    </Card>
  );
}
