/**
 * `/audit`: the audit trail with filters, paging, a count and a CSV export. "All tenants" is
 * every tenant the viewer may see (the server decides); actors appear by name and e-mail where
 * the server names them, actions by their label, details as key: value lines.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type { Tenant } from '../../../src/shared/api.ts';
import type {
  AuditVerifyResult,
  AuditViewPage,
  AuditViewRow,
} from '../../../src/shared/audit-view.ts';
import { api, query } from '../api.ts';
import { useApp } from '../context.tsx';
import { de, type MessageKey, type Translate } from '../i18n.ts';
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
} from '../ui.tsx';

interface Filters {
  tenantId?: string;
  actor?: string;
  action?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/** The translated label of an action; undefined when it has none (the raw action is shown). */
function actionLabel(t: Translate, action: string): string | undefined {
  const key = `auditAction.${action}`;
  return Object.hasOwn(de, key) ? t(key as MessageKey) : undefined;
}

/** A detail value as one readable line (objects stay compact JSON). */
function detailText(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function AuditPage() {
  const { t, can, locale } = useApp();
  const [filters, setFilters] = useState<Filters>({});
  const [events, setEvents] = useState<readonly AuditViewRow[] | undefined>(undefined);
  const [nextBefore, setNextBefore] = useState<number | undefined>(undefined);
  const [total, setTotal] = useState<{ count: number; capped: boolean } | undefined>(undefined);
  const action = useAction();
  const verifying = useAction();
  const [chain, setChain] = useState<AuditVerifyResult | undefined>(undefined);
  const tenants = useLoad(
    () =>
      can('tenants.all')
        ? api.get<{ tenants: Tenant[] }>('/api/tenants').then((r) => r.tenants)
        : Promise.resolve([] as Tenant[]),
    [],
  );

  async function load(next: Filters, before?: number): Promise<void> {
    const page = await action.run(() =>
      api.get<AuditViewPage>(`/api/audit${query({ ...next, before })}`),
    );
    if (!page) return;
    setEvents((old) => (before !== undefined && old ? [...old, ...page.events] : page.events));
    setNextBefore(page.nextBefore);
    // The count comes with the first page only; later pages keep it.
    if (page.total !== undefined)
      setTotal({ count: page.total, capped: page.totalCapped === true });
  }

  const tenantNames = new Map((tenants.data ?? []).map((tenant) => [tenant.id, tenant.name]));
  const countText = (n: number, capped: boolean) => {
    const count = new Intl.NumberFormat(locale === 'de' ? 'de-DE' : 'en-GB').format(n);
    if (capped) return t('audit.count.capped', { count });
    return n === 1 ? t('audit.count.one') : t('audit.count.other', { count });
  };

  async function verify(): Promise<void> {
    setChain(undefined);
    const result = await verifying.run(() => api.post<AuditVerifyResult>('/api/audit/verify'));
    if (result) setChain(result);
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page loads once.
  useEffect(() => {
    void load({});
  }, []);

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const form = event.currentTarget;
    const next: Filters = {};
    for (const name of ['tenantId', 'actor', 'action', 'outcome'] as const) {
      const v = formValue(form, name);
      if (v) next[name] = v;
    }
    const from = toIso(formValue(form, 'from'));
    const to = toIso(formValue(form, 'to'));
    if (from) next.from = from;
    if (to) next.to = to;
    setFilters(next);
    void load(next);
  }

  return (
    <>
      <PageTitle title={t('audit.title')}>{t('audit.title')}</PageTitle>
      <p className="lead">{t('audit.intro')}</p>
      <Card title={t('audit.filters')}>
        <form onSubmit={submit} data-testid="audit-filters" className="form-grid">
          {can('tenants.all') ? (
            <SelectField
              label={t('field.tenant')}
              name="tenantId"
              options={[
                { value: '', label: t('audit.allTenants') },
                ...(tenants.data ?? []).map((tenant) => ({ value: tenant.id, label: tenant.name })),
              ]}
            />
          ) : null}
          <Field
            label={t('audit.actor')}
            name="actor"
            maxLength={200}
            hint={t('audit.actorHintAny')}
          />
          <Field
            label={t('audit.action')}
            name="action"
            maxLength={100}
            hint={t('audit.actionHintPrefix')}
          />
          <SelectField
            label={t('audit.outcome')}
            name="outcome"
            options={[
              { value: '', label: t('audit.allOutcomes') },
              { value: 'success', label: t('outcome.success') },
              { value: 'failure', label: t('outcome.failure') },
              { value: 'denied', label: t('outcome.denied') },
            ]}
          />
          <Field label={t('audit.from')} name="from" type="datetime-local" />
          <Field label={t('audit.to')} name="to" type="datetime-local" />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="audit-search"
              disabled={action.busy}
            >
              {t('audit.search')}
            </button>
            <a
              className="button-secondary"
              href={`/api/audit.csv${query({ ...filters })}`}
              download
              data-testid="audit-export"
            >
              {t('audit.export')}
            </a>
            {can('tenants.all') ? (
              <button
                type="button"
                className="button-secondary"
                data-testid="audit-verify"
                disabled={verifying.busy}
                onClick={() => void verify()}
              >
                {t('audit.verify')}
              </button>
            ) : null}
          </div>
        </form>
        <Notice error={verifying.error} />
        {chain ? <ChainResult chain={chain} /> : null}
      </Card>
      <Card title={t('audit.events')}>
        <Notice error={action.error} />
        {total && events !== undefined ? (
          <p
            data-testid="audit-count"
            data-total={total.count}
            data-capped={total.capped ? 'true' : undefined}
            role="status"
          >
            {countText(total.count, total.capped)}
          </p>
        ) : null}
        {events === undefined ? (
          action.busy ? (
            <Loading />
          ) : null
        ) : events.length === 0 ? (
          <p>{t('audit.empty')}</p>
        ) : (
          <AuditTable events={events} testId="audit-table" tenantNames={tenantNames} />
        )}
        {nextBefore !== undefined && events && events.length > 0 ? (
          <div className="actions">
            <button
              type="button"
              className="button-secondary"
              data-testid="audit-more"
              disabled={action.busy}
              onClick={() => void load(filters, nextBefore)}
            >
              {t('audit.more')}
            </button>
          </div>
        ) : null}
      </Card>
    </>
  );
}

export function AuditTable({
  events,
  testId,
  tenantNames,
}: {
  events: readonly AuditViewRow[];
  testId: string;
  /** Tenant ids to names, where the page knows them. */
  tenantNames?: ReadonlyMap<string, string>;
}) {
  const { t, locale } = useApp();
  return (
    // Focusable, so a keyboard can scroll the table sideways when it is wider than the page.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus (WCAG 2.1.1).
    <section className="table-wrap" tabIndex={0} aria-label={t('audit.events')}>
      <table data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">{t('audit.time')}</th>
            <th scope="col">{t('audit.action')}</th>
            <th scope="col">{t('audit.outcome')}</th>
            <th scope="col">{t('audit.actor')}</th>
            <th scope="col">{t('audit.target')}</th>
            <th scope="col">{t('field.tenant')}</th>
            <th scope="col">{t('audit.details')}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr
              key={event.id}
              data-seq={event.seq}
              data-action={event.action}
              data-outcome={event.outcome}
            >
              <td className="nowrap">{formatDate(locale, event.time)}</td>
              <th scope="row">
                <ActionCell t={t} action={event.action} />
              </th>
              <td>
                <Badge
                  tone={
                    event.outcome === 'success' ? 'ok' : event.outcome === 'denied' ? 'bad' : 'warn'
                  }
                >
                  {t(`outcome.${event.outcome}`)}
                </Badge>
              </td>
              <td data-testid="audit-actor" data-actor-id={event.actor.id}>
                {event.actor.name || event.actor.email ? (
                  <>
                    {event.actor.name ?? event.actor.email}
                    {event.actor.name && event.actor.email ? (
                      <span className="hint block">{event.actor.email}</span>
                    ) : null}
                  </>
                ) : (
                  `${event.actor.type}: ${event.actor.id}`
                )}
                {event.actor.ip ? <span className="hint block wrap">{event.actor.ip}</span> : null}
              </td>
              {/* Ids may break anywhere, so the table fits the page without sideways scrolling. */}
              <td className="wrap">
                {event.target ? `${event.target.type}: ${event.target.id}` : '–'}
              </td>
              <td data-tenant={event.tenant}>
                {event.tenant ? (tenantNames?.get(event.tenant) ?? event.tenant) : '–'}
              </td>
              <td>
                {event.details && Object.keys(event.details).length > 0 ? (
                  // One "key: value" line each, wrapping inside the cell (a grid would widen the table).
                  <div data-testid="audit-details">
                    {Object.entries(event.details).map(([key, value]) => (
                      <span key={key} className="block" data-key={key}>
                        <span className="hint">{key}:</span> {detailText(value)}
                      </span>
                    ))}
                  </div>
                ) : (
                  '–'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The action's label with the raw action beneath (what the action filter takes), or the raw action. */
function ActionCell({ t, action }: { t: Translate; action: string }) {
  const label = actionLabel(t, action);
  if (!label) return <code>{action}</code>;
  return (
    <>
      {label}
      <code className="hint block">{action}</code>
    </>
  );
}

/** The outcome of "verify chain": intact, or broken with the first findings. */
function ChainResult({ chain }: { chain: AuditVerifyResult }) {
  const { t } = useApp();
  if (chain.ok)
    return (
      <div className="notice notice-ok" data-testid="audit-verify-result" data-ok="true">
        <p>
          {t('audit.verifyOk', { events: chain.events, checkpoints: chain.checkpoints })}
          {chain.keyId ? <code className="hint block">{chain.keyId}</code> : null}
        </p>
      </div>
    );
  return (
    <div
      className="notice notice-error"
      role="alert"
      data-testid="audit-verify-result"
      data-ok="false"
    >
      <p>{t('audit.verifyBroken', { count: chain.findingsTotal })}</p>
      <ul>
        {chain.findings.map((f) => (
          <li key={`${f.code}-${f.seq ?? ''}-${f.message}`} data-seq={f.seq}>
            {f.seq !== undefined ? <code>#{f.seq}</code> : null} {f.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
