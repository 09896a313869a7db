/**
 * `/alerts`: the alerts inbox. Open alerts first, the most severe on top; each says what
 * happened, whom or what it concerns in words, how often and when; people acknowledge an alert
 * when they take care of it and resolve it when done. What is shown of an IP address follows
 * the audit log's privacy design (the pseudonym), and the page says so.
 */
import { useState } from 'react';
import { type AlertRow, alertsContract as c } from '../../../../src/features/alerts/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  type Column,
  DataTable,
  formatDate,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { alertsMessages } from './messages.ts';
import { alertsChanged } from './open-count.tsx';

type Show = 'active' | 'resolved' | 'all';
type T = ReturnType<typeof useMessages<keyof typeof alertsMessages.de>>;

const KINDS = [
  'brute-force-account',
  'brute-force-ip',
  'password-spraying',
  'success-after-failures',
  'admin-role-change',
  'second-activation',
  'new-country',
  'impossible-travel',
] as const;
type Kind = (typeof KINDS)[number];
const isKind = (kind: string): kind is Kind => (KINDS as readonly string[]).includes(kind);

const SEVERITY_TONE = { low: 'neutral', medium: 'warn', high: 'warn', critical: 'bad' } as const;

function SubjectCell({ t, alert }: { t: T; alert: AlertRow }) {
  const s = alert.subject;
  switch (s.kind) {
    case 'user':
      return (
        <>
          {s.name ?? s.email}
          {s.name && s.email ? <span className="hint block">{s.email}</span> : null}
        </>
      );
    case 'unknown-account':
      return <>{t('subject.unknownAccount')}</>;
    case 'ip':
      return (
        <>
          {t('subject.ip')}
          <code className="hint block wrap">{s.pseudonym}</code>
        </>
      );
    case 'license':
      return (
        <>
          {s.product ? t('subject.license', { product: s.product }) : t('subject.licenseUnknown')}
          {s.licenseRef ? (
            <span className="hint block">{t('subject.licenseRef', { ref: s.licenseRef })}</span>
          ) : null}
        </>
      );
    default:
      return <>{t('subject.other')}</>;
  }
}

function countText(t: T, alert: AlertRow): string {
  const minutes = alert.details.windowMs ? Math.round(alert.details.windowMs / 60_000) : undefined;
  const what =
    alert.details.failures !== undefined && minutes !== undefined
      ? t('details.failures', { n: alert.details.failures, minutes })
      : alert.details.accounts !== undefined && minutes !== undefined
        ? t('details.accounts', { n: alert.details.accounts, minutes })
        : undefined;
  return what ? `${t('count', { n: alert.count })} · ${what}` : t('count', { n: alert.count });
}

function StateCell({ t, alert }: { t: T; alert: AlertRow }) {
  const { locale } = useApp();
  const state = t(`state.${alert.state}`);
  const step = alert.state === 'resolved' ? alert.resolved : alert.acknowledged;
  if (!step) return <>{state}</>;
  const time = formatDate(locale, step.at);
  return (
    <>
      {step.by
        ? t('state.by', { state, name: step.by.name, time })
        : t('state.at', { state, time })}
      {step.by ? <span className="hint block">{step.by.email}</span> : null}
    </>
  );
}

export function AlertsPage() {
  const t = useMessages(alertsMessages);
  const { can, locale } = useApp();
  const [show, setShow] = useState<Show>('active');
  const list = useLoad(
    () => call(c.list, { query: { state: show } }).then((r) => r.alerts),
    [show],
  );
  const action = useAction();
  const manage = can('alerts.manage');

  async function acknowledge(alert: AlertRow): Promise<void> {
    await action.run(() => call(c.acknowledge, { params: { id: alert.id } }));
    list.reload();
    alertsChanged();
  }

  async function resolve(alert: AlertRow): Promise<void> {
    await action.run(() => call(c.resolve, { params: { id: alert.id } }));
    list.reload();
    alertsChanged();
  }

  const columns: readonly Column<AlertRow>[] = [
    {
      key: 'severity',
      header: t('col.severity'),
      cell: (a) => <Badge tone={SEVERITY_TONE[a.severity]}>{t(`severity.${a.severity}`)}</Badge>,
    },
    {
      key: 'kind',
      header: t('col.kind'),
      rowHeader: true,
      cell: (a) => (
        <>
          {isKind(a.kind) ? t(`kind.${a.kind}`) : t('kind.other')}
          <span className="hint block">
            {t(`source.${a.source}`)} · {countText(t, a)}
          </span>
        </>
      ),
    },
    {
      key: 'subject',
      header: t('col.subject'),
      cell: (a) => (
        <>
          <SubjectCell t={t} alert={a} />
          <span className="hint block">{a.tenantName}</span>
        </>
      ),
    },
    {
      key: 'seen',
      header: t('col.seen'),
      cell: (a) => (
        <>
          {formatDate(locale, a.lastSeen)}
          <span className="hint block">
            {t('firstSeen', { time: formatDate(locale, a.firstSeen) })}
          </span>
        </>
      ),
    },
    { key: 'state', header: t('col.state'), cell: (a) => <StateCell t={t} alert={a} /> },
  ];

  return (
    <>
      <PageTitle title={t('title')}>{t('title')}</PageTitle>
      <p className="lead">{t('intro')}</p>
      <Card>
        <div className="form-grid">
          <SelectField
            label={t('show')}
            name="state"
            value={show}
            onChange={(event) => {
              const value = event.currentTarget.value;
              if (value === 'active' || value === 'resolved' || value === 'all') setShow(value);
            }}
            options={[
              { value: 'active', label: t('show.active') },
              { value: 'resolved', label: t('show.resolved') },
              { value: 'all', label: t('show.all') },
            ]}
          />
        </div>
        <Notice error={action.error} />
        <DataTable
          caption={t('caption')}
          captionHidden
          testId="alerts-table"
          columns={columns}
          source={list}
          rowKey={(a) => a.id}
          empty={t('empty')}
          rowAttributes={(a) => ({
            'data-kind': a.kind,
            'data-severity': a.severity,
            'data-state': a.state,
          })}
          {...(manage
            ? {
                actions: (a: AlertRow) => (
                  <>
                    {a.state === 'open' ? (
                      <Button
                        variant="secondary"
                        testId="alert-acknowledge"
                        disabled={action.busy}
                        onClick={() => void acknowledge(a)}
                      >
                        {t('acknowledge')}
                      </Button>
                    ) : null}
                    {a.state !== 'resolved' ? (
                      <Button
                        variant="secondary"
                        testId="alert-resolve"
                        disabled={action.busy}
                        onClick={() => void resolve(a)}
                      >
                        {t('resolve')}
                      </Button>
                    ) : null}
                  </>
                ),
              }
            : {})}
        />
      </Card>
      <Card title={t('ipPolicy.title')}>
        <p data-testid="alerts-ip-policy">{t('ipPolicy.text')}</p>
      </Card>
    </>
  );
}
