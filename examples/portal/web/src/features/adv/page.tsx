/**
 * `/adv`: the data processing agreement (ADV/DPA) — current version, the tenant's acceptance
 * (with the PDF), a prompt when a new version needs accepting, the history; administrators see
 * every tenant's state and publish new versions. Second section: the processing register
 * (Verarbeitungsverzeichnis) as tables.
 */
import type { FormEvent, ReactNode } from 'react';
import {
  type AdvAcceptance,
  type AdvState,
  advContract,
  type Localized,
  type ProcessingRegister,
} from '../../../../src/features/adv/contract.ts';
import { type AgreementBlock, agreementBlocks } from '../../../../src/features/adv/markdown.ts';
import type { Locale } from '../../../../src/shared/api.ts';
import { call, hrefOf } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { SubmitRow } from '../../forms/submit-row.tsx';
import { useMessages } from '../../messages.ts';
import { TableCard } from '../../table-card.tsx';
import {
  Badge,
  Card,
  type Column,
  DataTable,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  TextArea,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { advMessages } from './messages.ts';

const pdfHref = (a: AdvAcceptance) => hrefOf(advContract.pdf, { params: { id: a.id } });
const day = (locale: Locale, iso: string) =>
  new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'long' }).format(
    new Date(iso),
  );

export function AdvPage() {
  const { can, locale } = useApp();
  const at = useMessages(advMessages);
  const state = useLoad(() => call(advContract.state, { query: { locale } }), [locale]);
  const data = state.data;

  return (
    <>
      <PageTitle title={at('adv.title')}>{at('adv.title')}</PageTitle>
      {data ? (
        <p className="lead">
          {at('adv.intro', { tenant: data.tenant.name, operator: data.operator.name })}
        </p>
      ) : null}
      {state.loading && !data ? <Loading /> : null}
      <Notice error={state.error} />
      {data ? (
        <>
          <NeedsAcceptance state={data} />
          {data.tenant.kind !== 'operator' ? <AcceptanceStatus state={data} /> : null}
          <Agreement state={data} onAccepted={state.reload} />
          {data.history.length > 0 ? <History history={data.history} /> : null}
        </>
      ) : null}
      {can('adv.publish') ? <AdminSection onPublished={state.reload} /> : null}
      {can('register.read') ? <RegisterSection /> : null}
    </>
  );
}

/** The prompt shown while the tenant has not accepted the current version. */
export function NeedsAcceptance({
  state,
  href = '#adv-agreement',
}: {
  state: AdvState;
  href?: string;
}) {
  const { can } = useApp();
  const at = useMessages(advMessages);
  if (!state.needsAcceptance || !state.current) return null;
  return (
    <div className="notice notice-warn" data-testid="adv-needs-acceptance" role="status">
      <p>
        {state.acceptance
          ? at('adv.needsAgain', {
              version: state.current.id,
              accepted: state.acceptance.version,
            })
          : at('adv.needs', { version: state.current.id })}
      </p>
      {can('adv.accept') ? (
        <a href={href}>{at('adv.toAccept')}</a>
      ) : (
        <p>{at('adv.needsKeyUser')}</p>
      )}
    </div>
  );
}

function AcceptanceStatus({ state }: { state: AdvState }) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const a = state.acceptance;
  const current = a !== undefined && a.version === state.current?.id;
  return (
    <Card title={at('adv.statusTitle')}>
      {a ? (
        <>
          <p>
            <Badge tone={current ? 'ok' : 'warn'}>
              {current ? at('adv.acceptedCurrent') : at('adv.acceptedOld')}
            </Badge>
          </p>
          <dl className="facts" data-testid="adv-acceptance" data-version={a.version}>
            <dt>{at('adv.version')}</dt>
            <dd data-testid="adv-accepted-version">{a.version}</dd>
            <dt>{at('adv.acceptedBy')}</dt>
            <dd data-testid="adv-accepted-by">{a.acceptedBy.name}</dd>
            <dt>{at('adv.acceptedAt')}</dt>
            <dd>{formatDate(locale, a.acceptedAt)}</dd>
            <dt>{at('adv.from')}</dt>
            <dd>{a.ip}</dd>
            <dt>{at('adv.language')}</dt>
            <dd>{a.locale === 'de' ? 'Deutsch' : 'English'}</dd>
            <dt>{at('adv.hash')}</dt>
            <dd>
              <code className="wrap">{a.textSha256}</code>
            </dd>
          </dl>
          <p>
            <a className="button" href={pdfHref(a)} download data-testid="adv-pdf">
              {at('adv.pdf')}
            </a>
          </p>
        </>
      ) : (
        <p data-testid="adv-not-accepted">{at('adv.notAccepted')}</p>
      )}
    </Card>
  );
}

/** The agreement's markdown subset as headings, paragraphs and lists. */
function AgreementText({ text }: { text: string }) {
  type Keyed = AgreementBlock & { readonly key: string };
  const groups: (Keyed | Keyed[])[] = [];
  let n = 0;
  for (const block of agreementBlocks(text)) {
    const keyed: Keyed = { ...block, key: `b${n++}` };
    const last = groups[groups.length - 1];
    if (keyed.kind === 'item' && Array.isArray(last)) last.push(keyed);
    else groups.push(keyed.kind === 'item' ? [keyed] : keyed);
  }
  return (
    <>
      {groups.map((g) => {
        if (Array.isArray(g))
          return (
            <ul key={g[0]?.key}>
              {g.map((item) => (
                <li key={item.key}>{item.text}</li>
              ))}
            </ul>
          );
        if (g.kind === 'title') return <h3 key={g.key}>{g.text}</h3>;
        if (g.kind === 'heading') return <h4 key={g.key}>{g.text}</h4>;
        return <p key={g.key}>{g.text}</p>;
      })}
    </>
  );
}

function Agreement({ state, onAccepted }: { state: AdvState; onAccepted(): void }) {
  const { can } = useApp();
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const action = useAction();
  const current = state.current;
  if (!current)
    return (
      <Card>
        <p>{at('adv.none')}</p>
      </Card>
    );

  async function accept(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (!current) return;
    const done = await action.run(() =>
      call(advContract.accept, {
        body: { version: current.id, locale: current.locale, textSha256: current.sha256 },
      }),
    );
    if (done) onAccepted();
  }

  return (
    <section id="adv-agreement" className="card" aria-labelledby="adv-agreement-title">
      <h2 id="adv-agreement-title">
        {at('adv.textTitle', { version: current.id, date: day(locale, current.publishedAt) })}
      </h2>
      {locale !== 'de' ? <p className="hint">{at('adv.bindingNote')}</p> : null}
      <article
        aria-label={at('adv.textLabel')}
        data-testid="adv-text"
        data-version={current.id}
        lang={current.locale}
      >
        <AgreementText text={current.text} />
      </article>
      {state.needsAcceptance && can('adv.accept') ? (
        <form className="card-inner" data-testid="adv-accept-form" onSubmit={(e) => void accept(e)}>
          <p>
            <label>
              <input type="checkbox" name="confirm" required data-testid="adv-confirm" />{' '}
              {at('adv.confirm', { tenant: state.tenant.name })}
            </label>
          </p>
          <SubmitRow action={action} testId="adv-accept">
            {at('adv.accept')}
          </SubmitRow>
        </form>
      ) : null}
    </section>
  );
}

function History({ history }: { history: readonly AdvAcceptance[] }) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  return (
    <TableCard
      title={at('adv.historyTitle')}
      testId="adv-history"
      rows={history}
      rowKey={(a) => a.id}
      empty={at('adv.notAccepted')}
      columns={[
        { key: 'version', header: at('adv.version'), rowHeader: true, cell: (a) => a.version },
        { key: 'by', header: at('adv.acceptedBy'), cell: (a) => a.acceptedBy.name },
        {
          key: 'at',
          header: at('adv.acceptedAt'),
          cell: (a) => formatDate(locale, a.acceptedAt),
        },
        { key: 'from', header: at('adv.from'), cell: (a) => a.ip },
        {
          key: 'pdf',
          header: 'PDF',
          cell: (a) => (
            <a href={pdfHref(a)} download>
              {at('adv.pdfOf', { version: a.version })}
            </a>
          ),
        },
      ]}
    />
  );
}

// ------------------------------------------------------------------ administrators

function AdminSection({ onPublished }: { onPublished(): void }) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const tenants = useLoad(() => call(advContract.tenants).then((r) => r.tenants), []);
  return (
    <>
      <TableCard
        title={at('adv.tenantsTitle')}
        testId="adv-tenants"
        source={tenants}
        rowKey={(row) => row.tenantId}
        empty={at('adv.noTenants')}
        columns={[
          {
            key: 'tenant',
            header: at('adv.tenant'),
            rowHeader: true,
            cell: (row) => row.tenantName,
          },
          {
            key: 'state',
            header: at('adv.state'),
            cell: (row) => (
              <Badge tone={row.needsAcceptance ? 'warn' : 'ok'}>
                {row.needsAcceptance ? at('adv.open') : at('adv.done')}
              </Badge>
            ),
          },
          {
            key: 'version',
            header: at('adv.version'),
            cell: (row) => row.acceptance?.version ?? '–',
          },
          {
            key: 'by',
            header: at('adv.acceptedBy'),
            cell: (row) => row.acceptance?.acceptedBy.name ?? '–',
          },
          {
            key: 'at',
            header: at('adv.acceptedAt'),
            cell: (row) => formatDate(locale, row.acceptance?.acceptedAt),
          },
          {
            key: 'pdf',
            header: 'PDF',
            cell: (row) =>
              row.acceptance ? (
                <a href={pdfHref(row.acceptance)} download>
                  {at('adv.pdfOf', { version: row.acceptance.version })}
                </a>
              ) : (
                '–'
              ),
          },
        ]}
      />
      <PublishForm
        onPublished={() => {
          tenants.reload();
          onPublished();
        }}
      />
    </>
  );
}

function PublishForm({ onPublished }: { onPublished(): void }) {
  const { withReauth } = useApp();
  const at = useMessages(advMessages);
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = {
      id: formValue(form, 'id'),
      textDe: formValue(form, 'textDe'),
      textEn: formValue(form, 'textEn'),
    };
    const result = await action.run(() => withReauth(() => call(advContract.publish, { body })));
    if (result) {
      form.reset();
      action.setStatus(at('adv.published', { version: result.version.id, n: result.notified }));
      onPublished();
    }
  }

  return (
    <Card title={at('adv.publishTitle')}>
      <p className="hint">{at('adv.publishIntro')}</p>
      <form data-testid="adv-publish-form" onSubmit={(e) => void submit(e)}>
        <Field
          label={at('adv.versionId')}
          name="id"
          required
          pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,31}"
          hint={at('adv.versionIdHint')}
          spellCheck={false}
          autoCapitalize="off"
        />
        <TextArea
          label={at('adv.textDe')}
          name="textDe"
          rows={10}
          required
          minLength={100}
          lang="de"
        />
        <TextArea
          label={at('adv.textEn')}
          name="textEn"
          rows={10}
          required
          minLength={100}
          lang="en"
        />
        <SubmitRow action={action} testId="adv-publish">
          {at('adv.publish')}
        </SubmitRow>
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ processing register

/** A list of the register's own (recipients, measures): a heading and its table. */
function RegisterTable<Row extends { readonly id: string }>({
  title,
  testId,
  rows,
  columns,
}: {
  title: string;
  testId: string;
  rows: readonly Row[];
  columns: readonly Column<Row>[];
}) {
  return (
    <>
      <h3>{title}</h3>
      <DataTable
        caption={title}
        captionHidden
        testId={testId}
        rows={rows}
        rowKey={(x) => x.id}
        empty="–"
        columns={columns}
      />
    </>
  );
}

/**
 * One processing activity as a table of facts (a row header each, no column headings), in the
 * same keyboard-scrollable region as the portal's other tables.
 */
function ActivityTable({
  activity,
  register,
}: {
  activity: ProcessingRegister['activities'][number];
  register: ProcessingRegister;
}) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const l = (text: Localized) => text[locale];
  // An activity names each subject, category and measure once, so the text is a key.
  const list = (items: readonly string[]) => (
    <ul>
      {items.map((item) => (
        <li key={item}>{item}</li>
      ))}
    </ul>
  );
  const recipientName = new Map(register.recipients.map((x) => [x.id, l(x.name)]));
  const measureName = new Map(register.measures.map((x) => [x.id, l(x.description)]));
  const facts: readonly (readonly [string, ReactNode])[] = [
    [at('register.role'), at(`register.role.${activity.role}`)],
    [at('register.purpose'), l(activity.purpose)],
    [at('register.legalBasis'), l(activity.legalBasis)],
    [at('register.dataSubjects'), list(activity.dataSubjects.map(l))],
    [at('register.dataCategories'), list(activity.dataCategories.map(l))],
    [
      at('register.recipientsOf'),
      activity.recipients.map((id) => recipientName.get(id) ?? id).join(', ') || '–',
    ],
    [at('register.thirdCountry'), l(activity.thirdCountryTransfers)],
    [at('register.retention'), l(activity.retention)],
    [at('register.measuresOf'), list(activity.measures.map((id) => measureName.get(id) ?? id))],
  ];
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus (WCAG 2.1.1).
    <section className="table-wrap" aria-label={l(activity.name)} tabIndex={0}>
      <table data-testid="register-activity" data-activity={activity.id}>
        <caption>{l(activity.name)}</caption>
        <tbody>
          {facts.map(([label, value]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function RegisterSection() {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const register = useLoad(() => call(advContract.register), []);
  const r = register.data;
  const l = (text: Localized) => text[locale];

  return (
    <section className="card" aria-labelledby="register-title" data-testid="register">
      <h2 id="register-title">{at('register.title')}</h2>
      {register.loading && !r ? <Loading /> : null}
      <Notice error={register.error} />
      {r ? (
        <>
          <p>
            {at('register.intro', {
              date: day(locale, `${r.updatedAt}T00:00:00Z`),
              name: r.controller.name,
              address: r.controller.address,
              email: r.controller.email,
            })}
          </p>
          <h3>{at('register.activities')}</h3>
          {r.activities.map((activity) => (
            <ActivityTable key={activity.id} activity={activity} register={r} />
          ))}
          <RegisterTable
            title={at('register.recipients')}
            testId="register-recipients"
            rows={r.recipients}
            columns={[
              { key: 'name', header: at('register.name'), rowHeader: true, cell: (x) => l(x.name) },
              {
                key: 'kind',
                header: at('register.kind'),
                cell: (x) => at(`register.kind.${x.kind}`),
              },
              { key: 'service', header: at('register.service'), cell: (x) => l(x.service) },
              { key: 'location', header: at('register.location'), cell: (x) => l(x.location) },
              {
                key: 'third',
                header: at('register.thirdCountry'),
                cell: (x) => (x.thirdCountry ? at('register.yes') : at('register.no')),
              },
              {
                key: 'safeguards',
                header: at('register.safeguards'),
                cell: (x) => (x.safeguards ? l(x.safeguards) : '–'),
              },
            ]}
          />
          <RegisterTable
            title={at('register.measures')}
            testId="register-measures"
            rows={r.measures}
            columns={[
              { key: 'area', header: at('register.area'), rowHeader: true, cell: (m) => l(m.area) },
              { key: 'measure', header: at('register.measure'), cell: (m) => l(m.description) },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
