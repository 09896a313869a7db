/**
 * `/partner`: API clients (OAuth2 client credentials; the secret is shown once), webhook
 * subscriptions (the signing secret is shown once; pause, test, delete) and the delivery log
 * with manual redelivery. Partners see their own tenant, administrators every tenant.
 */
import { type FormEvent, useMemo, useState } from 'react';
import type { Locale, Tenant } from '../../../src/shared/api.ts';
import { api, enc } from '../api.ts';
import { useApp } from '../context.tsx';
import {
  Badge,
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  OneTimeSecret,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../ui.tsx';
import { type PartnerTranslate, partnerLabel, partnerTranslate } from './partner.i18n.ts';

interface Meta {
  readonly scopes: readonly string[];
  readonly eventTypes: readonly string[];
  readonly tenants: readonly Tenant[];
  readonly tokenUrl: string;
  readonly apiBase: string;
}

interface ApiClient {
  readonly clientId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
}

interface Subscription {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly active: boolean;
  readonly createdAt: string;
}

interface Delivery {
  readonly id: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly tenantId: string;
  readonly status: 'pending' | 'delivering' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt?: string;
  readonly lastAttemptAt?: string;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly lastErrorReason?: string;
  readonly createdAt: string;
}

const STATUS_TONE: Record<Delivery['status'], 'ok' | 'warn' | 'bad' | 'neutral'> = {
  pending: 'warn',
  delivering: 'neutral',
  delivered: 'ok',
  failed: 'bad',
};

function usePartnerT(): { pt: PartnerTranslate; locale: Locale } {
  const { locale } = useApp();
  return { pt: useMemo(() => partnerTranslate(locale), [locale]), locale };
}

/** The checked values of the checkboxes named `name`. */
function checked(form: HTMLFormElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map(
    (i) => i.value,
  );
}

export function PartnerPage() {
  const { pt } = usePartnerT();
  const meta = useLoad(() => api.get<Meta>('/api/partner/meta'), []);
  return (
    <>
      <PageTitle title={pt('title')}>{pt('title')}</PageTitle>
      <p className="lead">{pt('intro')}</p>
      {meta.loading && !meta.data ? <Loading /> : null}
      <Notice error={meta.error} />
      {meta.data ? (
        <>
          <ClientsCard meta={meta.data} />
          <SubscriptionsCard meta={meta.data} />
          <DeliveryLog />
        </>
      ) : null}
    </>
  );
}

function TenantChoice({ meta }: { meta: Meta }) {
  const { pt } = usePartnerT();
  if (meta.tenants.length <= 1) return null;
  return (
    <SelectField
      label={pt('tenant')}
      name="tenantId"
      required
      options={[
        { value: '', label: pt('choose') },
        ...meta.tenants.map((t) => ({ value: t.id, label: t.name })),
      ]}
    />
  );
}

function Checkboxes({
  legend,
  name,
  values,
  label,
}: {
  legend: string;
  name: string;
  values: readonly string[];
  label(value: string): string;
}) {
  return (
    <fieldset className="field">
      <legend>{legend}</legend>
      {values.map((value) => (
        <p key={value}>
          <label>
            <input type="checkbox" name={name} value={value} /> {label(value)}
          </label>
        </p>
      ))}
    </fieldset>
  );
}

// ------------------------------------------------------------------ API clients

function ClientsCard({ meta }: { meta: Meta }) {
  const { pt, locale } = usePartnerT();
  const list = useLoad(
    () => api.get<{ clients: ApiClient[] }>('/api/partner/clients').then((r) => r.clients),
    [],
  );
  const action = useAction();
  const [created, setCreated] = useState<{ client: ApiClient; clientSecret: string } | undefined>(
    undefined,
  );

  async function create(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const scopes = checked(form, 'scopes');
    if (scopes.length === 0) {
      action.setError(new Error(pt('scopesRequired')));
      return;
    }
    const tenantId = formValue(form, 'tenantId');
    const result = await action.run(() =>
      api.post<{ client: ApiClient; clientSecret: string }>('/api/partner/clients', {
        name: formValue(form, 'name'),
        scopes,
        ...(tenantId ? { tenantId } : {}),
      }),
    );
    if (result) {
      form.reset();
      setCreated(result);
      list.reload();
    }
  }

  async function revoke(client: ApiClient): Promise<void> {
    const result = await action.run(() =>
      api.post<{ client: ApiClient }>(`/api/partner/clients/${enc(client.clientId)}/revoke`),
    );
    if (result) list.reload();
  }

  const clients = list.data ?? [];
  return (
    <Card title={pt('clientsTitle')}>
      <p className="hint">{pt('tokenHint', { url: meta.tokenUrl, api: meta.apiBase })}</p>
      {created ? (
        <div className="card-highlight" data-testid="client-created">
          <h3>{pt('clientCreatedTitle', { name: created.client.name })}</h3>
          <p>
            {pt('clientId')}: <code data-testid="client-id">{created.client.clientId}</code>
          </p>
          <OneTimeSecret
            testId="client-secret"
            label={pt('clientSecret')}
            value={created.clientSecret}
            note={pt('shownOnce')}
          />
          <button type="button" className="button-secondary" onClick={() => setCreated(undefined)}>
            {pt('done')}
          </button>
        </div>
      ) : null}
      {list.loading && !list.data ? <Loading /> : null}
      <Notice error={list.error} />
      {list.data && clients.length === 0 ? <p>{pt('clientsEmpty')}</p> : null}
      {clients.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="partner-clients">
            <caption className="sr-only">{pt('clientsCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{pt('clientName')}</th>
                <th scope="col">{pt('clientId')}</th>
                <th scope="col">{pt('tenant')}</th>
                <th scope="col">{pt('clientScopes')}</th>
                <th scope="col">{pt('clientLastUsed')}</th>
                <th scope="col">{pt('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.clientId} data-client-id={c.clientId}>
                  <th scope="row">{c.name}</th>
                  <td>
                    <code className="mono-short">{c.clientId}</code>
                  </td>
                  <td>{meta.tenants.find((t) => t.id === c.tenantId)?.name ?? c.tenantId}</td>
                  <td>{c.scopes.map((s) => partnerLabel(pt, 'scope', s)).join(', ')}</td>
                  <td>{formatDate(locale, c.lastUsedAt)}</td>
                  <td>
                    {c.revokedAt ? (
                      <Badge tone="neutral">{pt('clientRevoked')}</Badge>
                    ) : (
                      <button
                        type="button"
                        className="button-secondary button-small"
                        aria-label={pt('clientRevokeLabel', { name: c.name })}
                        disabled={action.busy}
                        onClick={() => void revoke(c)}
                      >
                        {pt('clientRevoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form className="form-grid" data-testid="client-create-form" onSubmit={(e) => void create(e)}>
        <TenantChoice meta={meta} />
        <Field label={pt('clientName')} name="name" required maxLength={100} />
        <Checkboxes
          legend={pt('clientScopes')}
          name="scopes"
          values={meta.scopes}
          label={(s) => partnerLabel(pt, 'scope', s)}
        />
        <Notice error={action.error} />
        <div className="actions">
          <button type="submit" className="button" disabled={action.busy}>
            {pt('clientCreate')}
          </button>
        </div>
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ subscriptions

function SubscriptionsCard({ meta }: { meta: Meta }) {
  const { pt } = usePartnerT();
  const list = useLoad(
    () =>
      api
        .get<{ subscriptions: Subscription[] }>('/api/partner/subscriptions')
        .then((r) => r.subscriptions),
    [],
  );
  const action = useAction();
  const [secret, setSecret] = useState<string | undefined>(undefined);

  async function create(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const eventTypes = checked(form, 'eventTypes');
    if (eventTypes.length === 0) {
      action.setError(new Error(pt('eventsRequired')));
      return;
    }
    const tenantId = formValue(form, 'tenantId');
    const result = await action.run(() =>
      api.post<{ subscription: Subscription; secret: string }>('/api/partner/subscriptions', {
        url: formValue(form, 'url'),
        eventTypes,
        ...(tenantId ? { tenantId } : {}),
      }),
    );
    if (result) {
      form.reset();
      setSecret(result.secret);
      list.reload();
    }
  }

  async function setActive(s: Subscription, active: boolean): Promise<void> {
    if (await action.run(() => api.patch(`/api/partner/subscriptions/${enc(s.id)}`, { active })))
      list.reload();
  }

  async function ping(s: Subscription): Promise<void> {
    await action.run(
      () => api.post(`/api/partner/subscriptions/${enc(s.id)}/ping`),
      pt('subPinged'),
    );
  }

  async function remove(s: Subscription): Promise<void> {
    await action.run(() => api.delete(`/api/partner/subscriptions/${enc(s.id)}`));
    list.reload();
  }

  const subs = list.data ?? [];
  return (
    <Card title={pt('subsTitle')}>
      {secret ? (
        <div className="card-highlight" data-testid="subscription-created">
          <h3>{pt('subCreatedTitle')}</h3>
          <OneTimeSecret
            testId="webhook-secret"
            label={pt('subSecret')}
            value={secret}
            note={pt('shownOnce')}
          />
          <button type="button" className="button-secondary" onClick={() => setSecret(undefined)}>
            {pt('done')}
          </button>
        </div>
      ) : null}
      {list.loading && !list.data ? <Loading /> : null}
      <Notice error={list.error} status={action.status} />
      {list.data && subs.length === 0 ? <p>{pt('subsEmpty')}</p> : null}
      {subs.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="partner-subscriptions">
            <caption className="sr-only">{pt('subsCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{pt('subUrl')}</th>
                <th scope="col">{pt('tenant')}</th>
                <th scope="col">{pt('subEvents')}</th>
                <th scope="col">{pt('subState')}</th>
                <th scope="col">{pt('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {subs.map((s) => (
                <tr key={s.id} data-subscription-id={s.id}>
                  <th scope="row">
                    <code className="mono-short">{s.url}</code>
                  </th>
                  <td>{s.tenantName}</td>
                  <td>{s.eventTypes.map((e) => partnerLabel(pt, 'event', e)).join(', ')}</td>
                  <td>
                    <Badge tone={s.active ? 'ok' : 'neutral'}>
                      {s.active ? pt('subActive') : pt('subPaused')}
                    </Badge>
                  </td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy}
                        onClick={() => void setActive(s, !s.active)}
                      >
                        {s.active ? pt('subPause') : pt('subResume')}
                      </button>
                      <button
                        type="button"
                        className="button-secondary button-small"
                        disabled={action.busy || !s.active}
                        onClick={() => void ping(s)}
                      >
                        {pt('subPing')}
                      </button>
                      <button
                        type="button"
                        className="button-secondary button-small"
                        aria-label={pt('subDeleteLabel', { url: s.url })}
                        disabled={action.busy}
                        onClick={() => void remove(s)}
                      >
                        {pt('subDelete')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form
        className="form-grid"
        data-testid="subscription-create-form"
        onSubmit={(e) => void create(e)}
      >
        <TenantChoice meta={meta} />
        <Field
          label={pt('subUrl')}
          name="url"
          type="url"
          required
          maxLength={2000}
          hint={pt('subUrlHint')}
          spellCheck={false}
          autoCapitalize="off"
        />
        <Checkboxes
          legend={pt('subEvents')}
          name="eventTypes"
          values={meta.eventTypes}
          label={(e) => partnerLabel(pt, 'event', e)}
        />
        <Notice error={action.error} />
        <div className="actions">
          <button type="submit" className="button" disabled={action.busy}>
            {pt('subCreate')}
          </button>
        </div>
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ delivery log

function DeliveryLog() {
  const { pt, locale } = usePartnerT();
  const list = useLoad(
    () =>
      api
        .get<{ deliveries: Delivery[] }>('/api/partner/deliveries?limit=200')
        .then((r) => r.deliveries),
    [],
  );
  const action = useAction();

  async function redeliver(d: Delivery): Promise<void> {
    const ok = await action.run(
      () => api.post(`/api/partner/deliveries/${enc(d.id)}/redeliver`),
      pt('logRedelivered'),
    );
    if (ok) list.reload();
  }

  const rows = list.data ?? [];
  return (
    <Card title={pt('logTitle')}>
      <div className="actions">
        <button
          type="button"
          className="button-secondary button-small"
          onClick={() => list.reload()}
        >
          {pt('logRefresh')}
        </button>
      </div>
      {list.loading && !list.data ? <Loading /> : null}
      <Notice error={list.error ?? action.error} status={action.status} />
      {list.data && rows.length === 0 ? <p>{pt('logEmpty')}</p> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="partner-deliveries">
            <caption className="sr-only">{pt('logCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{pt('logEvent')}</th>
                <th scope="col">{pt('tenant')}</th>
                <th scope="col">{pt('logStatus')}</th>
                <th scope="col">{pt('logAttempts')}</th>
                <th scope="col">{pt('logLast')}</th>
                <th scope="col">{pt('logNext')}</th>
                <th scope="col">{pt('logResult')}</th>
                <th scope="col">{pt('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-delivery-id={d.id} data-status={d.status}>
                  <th scope="row">
                    {partnerLabel(pt, 'event', d.eventType)}
                    <span className="hint block">
                      <code>{d.eventId}</code>
                    </span>
                  </th>
                  <td>{d.tenantId}</td>
                  <td>
                    <Badge tone={STATUS_TONE[d.status]}>
                      {partnerLabel(pt, 'status', d.status)}
                    </Badge>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{formatDate(locale, d.lastAttemptAt)}</td>
                  <td>{formatDate(locale, d.nextAttemptAt)}</td>
                  <td>
                    {d.lastStatus !== undefined ? `HTTP ${d.lastStatus}` : ''}
                    {/* The stable reason in words; the technical `lastError` stays off the page. */}
                    {d.lastError ? (
                      <span className="hint block" data-reason={d.lastErrorReason ?? 'failed'}>
                        {partnerLabel(pt, 'deliveryError', d.lastErrorReason ?? 'failed')}
                      </span>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button-secondary button-small"
                      data-testid="delivery-redeliver"
                      disabled={action.busy}
                      onClick={() => void redeliver(d)}
                    >
                      {pt('logRedeliver')}
                    </button>
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
