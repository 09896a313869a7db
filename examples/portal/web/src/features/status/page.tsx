/**
 * `/status` (public — signed in or not): the overall state, one row per component, running and
 * upcoming maintenance, security notes. Administrators (`status.manage`) also announce windows,
 * publish notes and see the system information (TLS details, Node, uptime, database).
 * `TlsIndicator` is a small card for the dashboard: the served certificate's state.
 */
import { useEffect, useMemo } from 'react';
import {
  type ComponentId,
  type ComponentState,
  type ComponentStatus,
  statusContract as c,
  type MaintenanceWindow,
  type OverallState,
  type SecurityNote,
  type Severity,
} from '../../../../src/features/status/contract.ts';
import type { Locale } from '../../../../src/shared/api.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
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
  useLoad,
} from '../../ui.tsx';
import { type StatusT, statusMessages } from './messages.ts';
import { PostForm } from './post-form.tsx';
import { PostedList } from './posted-list.tsx';

const COMPONENTS: readonly ComponentId[] = ['portal', 'relay', 'acme', 'mailbox'];
const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
const REFRESH_MS = 60_000;

type Tone = 'ok' | 'warn' | 'bad' | 'neutral';

const TONE: Record<ComponentState, Tone> = {
  operational: 'ok',
  degraded: 'warn',
  outage: 'bad',
  maintenance: 'neutral',
  unknown: 'neutral',
};

/** A symbol next to the text, so the state never rests on colour alone. */
const SYMBOL: Record<ComponentState, string> = {
  operational: '✓',
  degraded: '!',
  outage: '✕',
  maintenance: '⚙',
  unknown: '?',
};

const OVERALL_NOTICE: Record<OverallState, string> = {
  operational: 'notice notice-ok',
  degraded: 'notice notice-warn',
  outage: 'notice notice-error',
  maintenance: 'notice notice-info',
};

const SEVERITY_TONE: Record<Severity, Tone> = {
  info: 'neutral',
  low: 'neutral',
  medium: 'warn',
  high: 'bad',
  critical: 'bad',
};

function useStatusT(): { st: StatusT; locale: Locale } {
  const { locale } = useApp();
  return { st: useMessages(statusMessages), locale };
}

export function StateBadge({ state, testId }: { state: ComponentState; testId?: string }) {
  const { st } = useStatusT();
  return (
    <span data-testid={testId} data-state={state}>
      <Badge tone={TONE[state]}>
        <span aria-hidden="true">{SYMBOL[state]} </span>
        {st(`state.${state}`)}
      </Badge>
    </span>
  );
}

function ageText(locale: Locale, seconds: number): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 2 * 86_400) return rtf.format(-Math.round(seconds / 3600), 'hour');
  return rtf.format(-Math.round(seconds / 86_400), 'day');
}

function componentDetails(st: StatusT, locale: Locale, c: ComponentStatus): string[] {
  const out: string[] = [];
  if (c.note) out.push(st(`note.${c.note}`));
  if (c.expiresAt !== undefined && c.daysLeft !== undefined)
    out.push(st('expires', { date: formatDate(locale, c.expiresAt), days: c.daysLeft }));
  if (c.latencyMs !== undefined) out.push(st('latency', { ms: c.latencyMs }));
  if (c.backlog !== undefined && c.oldestAgeSeconds !== undefined)
    out.push(st('backlog', { n: c.backlog, age: ageText(locale, c.oldestAgeSeconds) }));
  return out;
}

function ComponentTable({ components }: { components: readonly ComponentStatus[] }) {
  const { st, locale } = useStatusT();
  return (
    <DataTable
      testId="status-components"
      caption={st('componentsCaption')}
      captionHidden
      rows={components}
      rowKey={(c) => c.id}
      rowAttributes={(c) => ({ 'data-testid': `component-${c.id}`, 'data-state': c.state })}
      // The server always reports every component; the list is never empty.
      empty=""
      columns={[
        {
          key: 'component',
          header: st('colComponent'),
          rowHeader: true,
          cell: (c) => st(`component.${c.id}`),
        },
        { key: 'state', header: st('colState'), cell: (c) => <StateBadge state={c.state} /> },
        {
          key: 'details',
          header: st('colDetails'),
          cell: (c) =>
            componentDetails(st, locale, c).map((line) => (
              <span key={line} className="block">
                {line}
              </span>
            )),
        },
      ]}
    />
  );
}

function MaintenanceList({
  windows,
  manage,
  onDeleted,
}: {
  windows: readonly MaintenanceWindow[];
  manage: boolean;
  onDeleted(): void;
}) {
  const { st, locale } = useStatusT();
  const componentNames = (ids: readonly ComponentId[]) =>
    ids.map((id) => st(`component.${id}`)).join(', ');
  return (
    <PostedList
      items={windows}
      testIds={{
        list: 'maintenance-list',
        empty: 'maintenance-empty',
        item: 'maintenance-item',
        delete: 'maintenance-delete',
      }}
      empty={st('maintenanceEmpty')}
      itemAttributes={(w) => ({ 'data-active': String(w.active) })}
      render={(w) => (
        <>
          <h3 lang={locale}>
            {w.title[locale]}{' '}
            <Badge tone={w.active ? 'warn' : 'neutral'}>
              {w.active ? st('maintenanceRunning') : st('maintenanceUpcoming')}
            </Badge>
          </h3>
          <p>
            {st('maintenanceWhen', {
              from: formatDate(locale, w.startsAt),
              to: formatDate(locale, w.endsAt),
            })}
          </p>
          <p className="hint">
            {st('maintenanceAffects', { components: componentNames(w.components) })}
          </p>
          {w.body[locale] ? <p>{w.body[locale]}</p> : null}
        </>
      )}
      manage={manage}
      deleteText={st('delete')}
      deleteLabel={(w) => st('maintenanceDelete', { title: w.title[locale] })}
      remove={(w) => call(c.deleteWindow, { params: { id: w.id } })}
      deleted={st('maintenanceDeleted')}
      onDeleted={onDeleted}
    />
  );
}

function NoteList({
  notes,
  manage,
  onDeleted,
}: {
  notes: readonly SecurityNote[];
  manage: boolean;
  onDeleted(): void;
}) {
  const { st, locale } = useStatusT();
  return (
    <PostedList
      items={notes}
      testIds={{
        list: 'notes-list',
        empty: 'notes-empty',
        item: 'note-item',
        delete: 'note-delete',
      }}
      empty={st('notesEmpty')}
      itemAttributes={(n) => ({ 'data-severity': n.severity })}
      render={(n) => (
        <>
          <h3>
            {n.title[locale]}{' '}
            <Badge tone={SEVERITY_TONE[n.severity]}>
              {st('severityLabel')}: {st(`severity.${n.severity}`)}
            </Badge>
          </h3>
          <p className="hint">{st('notePublished', { date: formatDate(locale, n.publishedAt) })}</p>
          <p>{n.body[locale]}</p>
        </>
      )}
      manage={manage}
      deleteText={st('delete')}
      deleteLabel={(n) => st('noteDelete', { title: n.title[locale] })}
      remove={(n) => call(c.deleteNote, { params: { id: n.id } })}
      deleted={st('noteDeleted')}
      onDeleted={onDeleted}
    />
  );
}

/** `yyyy-MM-ddTHH:mm` in local time, for `<input type="datetime-local">`. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The components a window affects: at least one must be ticked. */
function checkedComponents(form: HTMLFormElement): ComponentId[] {
  return COMPONENTS.filter((c) => {
    const box = form.elements.namedItem(`component-${c}`);
    return box instanceof HTMLInputElement && box.checked;
  });
}

function AnnounceForm({ onDone }: { onDone(): void }) {
  const { st } = useStatusT();
  const defaults = useMemo(() => {
    const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    return { start: localInput(start), end: localInput(start + 3_600_000) };
  }, []);
  const toIso = (form: HTMLFormElement, name: string) => {
    const ms = new Date(formValue(form, name)).getTime();
    return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
  };

  return (
    <PostForm
      title={st('announceTitle')}
      testId="maintenance-form"
      submitTestId="maintenance-submit"
      submitText={st('announceSubmit')}
      bodyRequired={false}
      refuse={(form) =>
        checkedComponents(form).length === 0 ? st('fieldComponentsRequired') : undefined
      }
      post={(form, text) =>
        call(c.createWindow, {
          body: {
            ...text,
            startsAt: toIso(form, 'startsAt'),
            endsAt: toIso(form, 'endsAt'),
            components: checkedComponents(form),
          },
        })
      }
      posted={st('announced')}
      onDone={onDone}
    >
      <Field
        label={st('fieldStartsAt')}
        name="startsAt"
        type="datetime-local"
        required
        defaultValue={defaults.start}
        hint={st('fieldStartsHint')}
      />
      <Field
        label={st('fieldEndsAt')}
        name="endsAt"
        type="datetime-local"
        required
        defaultValue={defaults.end}
        hint={st('fieldStartsHint')}
      />
      <fieldset className="methods">
        <legend>{st('fieldComponents')}</legend>
        {COMPONENTS.map((c) => (
          <label key={c} className="radio">
            <input
              type="checkbox"
              name={`component-${c}`}
              data-testid={`maintenance-component-${c}`}
            />
            {st(`component.${c}`)}
          </label>
        ))}
      </fieldset>
    </PostForm>
  );
}

function PublishForm({ onDone }: { onDone(): void }) {
  const { st } = useStatusT();
  return (
    <PostForm
      title={st('publishTitle')}
      testId="note-form"
      submitTestId="note-submit"
      submitText={st('publishSubmit')}
      bodyRequired
      post={(form, text) =>
        call(c.createNote, {
          body: {
            ...text,
            // The select offers only severities; the server refuses anything else.
            severity: SEVERITIES.find((v) => v === formValue(form, 'severity')) ?? 'info',
          },
        })
      }
      posted={st('published')}
      onDone={onDone}
    >
      <SelectField
        label={st('severityLabel')}
        name="severity"
        defaultValue="info"
        options={SEVERITIES.map((s) => ({ value: s, label: st(`severity.${s}`) }))}
      />
    </PostForm>
  );
}

function uptimeText(st: StatusT, seconds: number): string {
  return st('uptimeValue', {
    d: Math.floor(seconds / 86_400),
    h: Math.floor((seconds % 86_400) / 3600),
    m: Math.floor((seconds % 3600) / 60),
  });
}

function SystemSection() {
  const { st, locale } = useStatusT();
  const info = useLoad(() => call(c.system), []);
  const tls = info.data?.tls;
  return (
    <Card title={st('systemTitle')}>
      {info.loading && !info.data ? <Loading /> : null}
      <Notice error={info.error} />
      {info.data ? (
        <dl className="facts" data-testid="system-info">
          <dt>{st('tlsState')}</dt>
          <dd>
            <StateBadge state={tls?.state ?? 'outage'} testId="system-tls-state" />
            {tls?.note ? ` ${st(`note.${tls.note}`)}` : ''}
            {tls ? null : ` ${st('tlsMissing')}`}
          </dd>
          {tls ? (
            <>
              <dt>{st('tlsSubject')}</dt>
              <dd data-testid="system-tls-subject">{tls.subject}</dd>
              <dt>{st('tlsSans')}</dt>
              <dd data-testid="system-tls-sans">{tls.subjectAltNames.join(', ') || '–'}</dd>
              <dt>{st('tlsIssuer')}</dt>
              <dd>{tls.issuer}</dd>
              <dt>{st('tlsValidFrom')}</dt>
              <dd>{formatDate(locale, tls.validFrom)}</dd>
              <dt>{st('tlsValidTo')}</dt>
              <dd>{formatDate(locale, tls.validTo)}</dd>
              <dt>{st('tlsDaysLeft')}</dt>
              <dd data-testid="system-tls-days">{tls.daysLeft}</dd>
              <dt>{st('tlsFingerprint')}</dt>
              <dd>
                <code className="wrap">{tls.fingerprint256}</code>
              </dd>
            </>
          ) : null}
          <dt>{st('nodeVersion')}</dt>
          <dd data-testid="system-node">{info.data.node}</dd>
          <dt>{st('uptime')}</dt>
          <dd>{uptimeText(st, info.data.uptimeSeconds)}</dd>
          <dt>{st('database')}</dt>
          <dd>{st(`database.${info.data.database}`)}</dd>
        </dl>
      ) : null}
    </Card>
  );
}

function useStatus() {
  const status = useLoad(() => call(c.status), []);
  const { reload } = status;
  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  return status;
}

export function StatusPage() {
  const { st, locale } = useStatusT();
  const { can, session } = useApp();
  const status = useStatus();
  const manage = can('status.manage');
  const data = status.data;

  return (
    <>
      <PageTitle title={st('title')}>{st('title')}</PageTitle>
      <p className="lead">{st('intro')}</p>
      {status.loading && !data ? <Loading /> : null}
      <Notice error={status.error} />
      {data ? (
        <>
          <div
            className={OVERALL_NOTICE[data.state]}
            data-testid="status-overall"
            data-state={data.state}
            role="status"
          >
            <p>
              <strong>
                <span aria-hidden="true">{SYMBOL[data.state]} </span>
                {st(`overall.${data.state}`)}
              </strong>
            </p>
            <p className="hint">{st('checkedAt', { time: formatDate(locale, data.checkedAt) })}</p>
          </div>
          <Card title={st('componentsTitle')}>
            <ComponentTable components={data.components} />
            <div className="actions">
              <Button variant="secondary" testId="status-refresh" onClick={status.reload}>
                {st('refresh')}
              </Button>
              <span className="hint">{st('monitors', { path: '/api/status' })}</span>
            </div>
          </Card>
          <Card title={st('maintenanceTitle')}>
            <MaintenanceList windows={data.maintenance} manage={manage} onDeleted={status.reload} />
          </Card>
          <Card title={st('notesTitle')}>
            <NoteList notes={data.securityNotes} manage={manage} onDeleted={status.reload} />
          </Card>
        </>
      ) : null}
      {manage ? (
        <>
          <div className="grid-2">
            <AnnounceForm onDone={status.reload} />
            <PublishForm onDone={status.reload} />
          </div>
          <SystemSection />
        </>
      ) : null}
      {session.stage === 'anonymous' ? (
        <p>
          <Link to="/login">{st('toLogin')}</Link>
        </p>
      ) : null}
    </>
  );
}

/**
 * The served certificate's state, for the dashboard: a badge (colour, symbol and text), the
 * expiry and the days left, and a link to the status page.
 */
export function TlsIndicator() {
  const { st, locale } = useStatusT();
  const status = useLoad(() => call(c.status), []);
  const acme = status.data?.components.find((c) => c.id === 'acme');
  return (
    <Card title={st('indicatorLabel')} className="tls-indicator">
      {status.loading && !status.data ? <Loading /> : null}
      <Notice error={status.error} />
      {acme ? (
        <div data-testid="tls-indicator" data-state={acme.state}>
          <p>
            <StateBadge state={acme.state} />{' '}
            {acme.daysLeft !== undefined ? st('indicatorDays', { days: acme.daysLeft }) : null}
          </p>
          {acme.note ? <p>{st(`note.${acme.note}`)}</p> : null}
          {acme.expiresAt ? (
            <p className="hint">
              {st('tlsValidTo')}: {formatDate(locale, acme.expiresAt)}
            </p>
          ) : null}
          <p>
            <Link to="/status">{st('indicatorDetails')}</Link>
          </p>
        </div>
      ) : null}
    </Card>
  );
}
