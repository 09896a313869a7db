/**
 * `/audit`: the audit trail with filters, paging, a count and a CSV export. "All tenants" is
 * every tenant the viewer may see (the server decides); actors appear by name and e-mail where
 * the server names them, actions by their label, details as key: value lines, and an alert by
 * its severity (its outcome only says that the alert was recorded).
 */
import { type FormEvent, useEffect, useState } from 'react';
import {
  type AuditFilters,
  type AuditVerifyResult,
  type AuditViewRow,
  auditContract as c,
} from '../../../../src/features/audit/contract.ts';
import { Button } from '../../actions.tsx';
import { call, hrefOf } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  type Column,
  DataTable,
  Field,
  formatDate,
  formValue,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { auditMessages } from './messages.ts';

type Filters = Omit<AuditFilters, 'before' | 'limit'>;
type T = ReturnType<typeof useMessages<keyof typeof auditMessages.de>>;

const OUTCOMES = ['success', 'failure', 'denied'] as const;
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];
const SEVERITY_TONE = { low: 'neutral', medium: 'warn', high: 'warn', critical: 'bad' } as const;

/** The translated label of an action; undefined when it has none (the raw action is shown). */
function actionLabel(t: T, action: string): string | undefined {
  const key = `action.${action}`;
  return Object.hasOwn(auditMessages.de, key) ? t(key as keyof typeof auditMessages.de) : undefined;
}

/** An alert event's severity (`alert.<rule>` events carry it in their data). */
function severityOf(event: AuditViewRow): Severity | undefined {
  if (!event.action.startsWith('alert.')) return undefined;
  const severity = event.details?.severity;
  return SEVERITIES.find((s) => s === severity);
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
  const t = useMessages(auditMessages);
  const { t: app, locale } = useApp();
  const [filters, setFilters] = useState<Filters>({});
  const [events, setEvents] = useState<readonly AuditViewRow[] | undefined>(undefined);
  const [nextBefore, setNextBefore] = useState<number | undefined>(undefined);
  const [total, setTotal] = useState<{ count: number; capped: boolean } | undefined>(undefined);
  const action = useAction();
  const verifying = useAction();
  const [chain, setChain] = useState<AuditVerifyResult | undefined>(undefined);
  const scope = useLoad(() => call(c.scope), []);
  const tenants = scope.data?.tenants ?? [];
  const allTenants = scope.data?.allTenants === true;

  async function load(next: Filters, before?: number): Promise<void> {
    const page = await action.run(() =>
      call(c.page, { query: { ...next, ...(before !== undefined ? { before } : {}) } }),
    );
    if (!page) return;
    setEvents((old) => (before !== undefined && old ? [...old, ...page.events] : page.events));
    setNextBefore(page.nextBefore);
    // The count comes with the first page only; later pages keep it.
    if (page.total !== undefined)
      setTotal({ count: page.total, capped: page.totalCapped === true });
  }

  const tenantNames = new Map(tenants.map((tenant) => [tenant.id, tenant.name]));
  const countText = (n: number, capped: boolean) => {
    const count = new Intl.NumberFormat(locale === 'de' ? 'de-DE' : 'en-GB').format(n);
    if (capped) return t('count.capped', { count });
    return n === 1 ? t('count.one') : t('count.other', { count });
  };

  async function verify(): Promise<void> {
    setChain(undefined);
    const result = await verifying.run(() => call(c.verify));
    if (result) setChain(result);
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page loads once.
  useEffect(() => {
    void load({});
  }, []);

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const form = event.currentTarget;
    const outcome = OUTCOMES.find((o) => o === formValue(form, 'outcome'));
    const next: Filters = {};
    for (const name of ['tenantId', 'actor', 'action'] as const) {
      const v = formValue(form, name);
      if (v) next[name] = v;
    }
    if (outcome) next.outcome = outcome;
    const from = toIso(formValue(form, 'from'));
    const to = toIso(formValue(form, 'to'));
    if (from) next.from = from;
    if (to) next.to = to;
    setFilters(next);
    void load(next);
  }

  return (
    <>
      <PageTitle title={t('title')}>{t('title')}</PageTitle>
      <p className="lead">{t('intro')}</p>
      <Card title={t('filters')}>
        <form onSubmit={submit} data-testid="audit-filters" className="form-grid">
          {tenants.length > 1 ? (
            <SelectField
              label={app('field.tenant')}
              name="tenantId"
              options={[
                { value: '', label: t('allTenants') },
                ...tenants.map((tenant) => ({ value: tenant.id, label: tenant.name })),
              ]}
            />
          ) : null}
          <Field label={t('actor')} name="actor" maxLength={200} hint={t('actorHintAny')} />
          <Field label={t('action')} name="action" maxLength={100} hint={t('actionHintPrefix')} />
          <SelectField
            label={t('outcome')}
            name="outcome"
            options={[
              { value: '', label: t('allOutcomes') },
              ...OUTCOMES.map((o) => ({ value: o, label: t(`outcome.${o}`) })),
            ]}
          />
          <Field label={t('from')} name="from" type="datetime-local" />
          <Field label={t('to')} name="to" type="datetime-local" />
          <div className="actions">
            <Button type="submit" testId="audit-search" disabled={action.busy}>
              {t('search')}
            </Button>
            <a
              className="button-secondary"
              href={hrefOf(c.csv, { query: filters })}
              download
              data-testid="audit-export"
            >
              {t('export')}
            </a>
            {allTenants ? (
              <Button
                variant="secondary"
                testId="audit-verify"
                disabled={verifying.busy}
                onClick={() => void verify()}
              >
                {t('verify')}
              </Button>
            ) : null}
          </div>
        </form>
        <Notice error={verifying.error} />
        {chain ? <ChainResult t={t} chain={chain} /> : null}
      </Card>
      <Card title={t('events')}>
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
        <AuditTable
          t={t}
          events={events}
          loading={action.busy}
          error={action.error}
          tenantNames={tenantNames}
        />
        {nextBefore !== undefined && events && events.length > 0 ? (
          <div className="actions">
            <Button
              variant="secondary"
              testId="audit-more"
              disabled={action.busy}
              onClick={() => void load(filters, nextBefore)}
            >
              {t('more')}
            </Button>
          </div>
        ) : null}
      </Card>
    </>
  );
}

function AuditTable({
  t,
  events,
  loading,
  error,
  tenantNames,
}: {
  t: T;
  events: readonly AuditViewRow[] | undefined;
  loading: boolean;
  error: unknown;
  /** Tenant ids to names, where the page knows them. */
  tenantNames: ReadonlyMap<string, string>;
}) {
  const { locale } = useApp();
  const columns: readonly Column<AuditViewRow>[] = [
    {
      key: 'time',
      header: t('time'),
      className: 'nowrap',
      cell: (e) => formatDate(locale, e.time),
    },
    {
      key: 'action',
      header: t('action'),
      rowHeader: true,
      cell: (e) => <ActionCell t={t} action={e.action} />,
    },
    {
      key: 'outcome',
      header: t('outcome'),
      cell: (e) => {
        const severity = severityOf(e);
        // An alert's outcome only says it was recorded: its severity is what matters.
        if (severity)
          return (
            <span data-severity={severity}>
              <Badge tone={SEVERITY_TONE[severity]}>
                {t('severity')}: {t(`severity.${severity}`)}
              </Badge>
            </span>
          );
        return (
          <Badge tone={e.outcome === 'success' ? 'ok' : e.outcome === 'denied' ? 'bad' : 'warn'}>
            {t(`outcome.${e.outcome}`)}
          </Badge>
        );
      },
    },
    {
      key: 'actor',
      header: t('actor'),
      cell: (e) => (
        <span data-testid="audit-actor" data-actor-id={e.actor.id}>
          {e.actor.name || e.actor.email ? (
            <>
              {e.actor.name ?? e.actor.email}
              {e.actor.name && e.actor.email ? (
                <span className="hint block">{e.actor.email}</span>
              ) : null}
            </>
          ) : (
            `${e.actor.type}: ${e.actor.id}`
          )}
          {e.actor.ip ? <span className="hint block wrap">{e.actor.ip}</span> : null}
        </span>
      ),
    },
    {
      // Ids may break anywhere, so the table fits the page without sideways scrolling.
      key: 'target',
      header: t('target'),
      className: 'wrap',
      cell: (e) => (e.target ? `${e.target.type}: ${e.target.id}` : '–'),
    },
    {
      key: 'tenant',
      header: t('tenant'),
      cell: (e) => (
        <span data-tenant={e.tenant}>
          {e.tenant ? (tenantNames.get(e.tenant) ?? e.tenant) : '–'}
        </span>
      ),
    },
    {
      key: 'details',
      header: t('details'),
      cell: (e) =>
        e.details && Object.keys(e.details).length > 0 ? (
          // One "key: value" line each, wrapping inside the cell (a grid would widen the table).
          <div data-testid="audit-details">
            {Object.entries(e.details).map(([key, value]) => (
              <span key={key} className="block" data-key={key}>
                <span className="hint">{key}:</span> {detailText(value)}
              </span>
            ))}
          </div>
        ) : (
          '–'
        ),
    },
  ];
  return (
    <DataTable
      caption={t('events')}
      captionHidden
      testId="audit-table"
      columns={columns}
      rows={events}
      rowKey={(e) => e.id}
      loading={loading}
      error={error}
      empty={t('empty')}
      rowAttributes={(e) => ({
        'data-seq': String(e.seq),
        'data-action': e.action,
        'data-outcome': e.outcome,
      })}
    />
  );
}

/** The action's label with the raw action beneath (what the action filter takes), or the raw action. */
function ActionCell({ t, action }: { t: T; action: string }) {
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
function ChainResult({ t, chain }: { t: T; chain: AuditVerifyResult }) {
  if (chain.ok)
    return (
      <div className="notice notice-ok" data-testid="audit-verify-result" data-ok="true">
        <p>
          {t('verifyOk', { events: chain.events, checkpoints: chain.checkpoints })}
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
      <p>{t('verifyBroken', { count: chain.findingsTotal })}</p>
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
