/** `/audit`: the audit trail with filters, paging and a CSV export. */
import { type FormEvent, useEffect, useState } from 'react';
import type { AuditPage as AuditPageData, AuditRow, Tenant } from '../../../src/shared/api.ts';
import { api, query } from '../api.ts';
import { useApp } from '../context.tsx';
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

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function AuditPage() {
  const { t, can } = useApp();
  const [filters, setFilters] = useState<Filters>({});
  const [events, setEvents] = useState<readonly AuditRow[] | undefined>(undefined);
  const [nextBefore, setNextBefore] = useState<number | undefined>(undefined);
  const action = useAction();
  const tenants = useLoad(
    () =>
      can('tenants.all')
        ? api.get<{ tenants: Tenant[] }>('/api/tenants').then((r) => r.tenants)
        : Promise.resolve([] as Tenant[]),
    [],
  );

  async function load(next: Filters, before?: number): Promise<void> {
    const page = await action.run(() =>
      api.get<AuditPageData>(`/api/audit${query({ ...next, before })}`),
    );
    if (!page) return;
    setEvents((old) => (before !== undefined && old ? [...old, ...page.events] : page.events));
    setNextBefore(page.nextBefore);
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
            hint={t('audit.actorHint')}
          />
          <Field
            label={t('audit.action')}
            name="action"
            maxLength={100}
            hint={t('audit.actionHint')}
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
          </div>
        </form>
      </Card>
      <Card title={t('audit.events')}>
        <Notice error={action.error} />
        {events === undefined ? (
          action.busy ? (
            <Loading />
          ) : null
        ) : events.length === 0 ? (
          <p>{t('audit.empty')}</p>
        ) : (
          <AuditTable events={events} testId="audit-table" />
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

export function AuditTable({ events, testId }: { events: readonly AuditRow[]; testId: string }) {
  const { t, locale } = useApp();
  return (
    <div className="table-wrap">
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
                <code>{event.action}</code>
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
              <td>
                {event.actor.type}: {event.actor.id}
                {event.actor.ip ? <span className="hint block">{event.actor.ip}</span> : null}
              </td>
              <td>{event.target ? `${event.target.type}: ${event.target.id}` : '–'}</td>
              <td>{event.tenant ?? '–'}</td>
              <td>
                {event.details && Object.keys(event.details).length > 0 ? (
                  <details>
                    <summary>{t('audit.show')}</summary>
                    <pre>{JSON.stringify(event.details, null, 2)}</pre>
                  </details>
                ) : (
                  '–'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
