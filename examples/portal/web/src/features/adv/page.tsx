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
} from '../../../../src/features/adv/contract.ts';
import { type AgreementBlock, agreementBlocks } from '../../../../src/features/adv/markdown.ts';
import type { Locale } from '../../../../src/shared/api.ts';
import { call, hrefOf } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
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
  TextArea,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { advMessages } from './messages.ts';

/** A table wrapper that scrolls sideways on narrow screens and can be scrolled by keyboard. */
function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus (WCAG 2.1.1).
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}

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
          <Notice error={action.error} />
          <div className="actions">
            <button
              type="submit"
              className="button"
              data-testid="adv-accept"
              disabled={action.busy}
            >
              {at('adv.accept')}
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}

function History({ history }: { history: readonly AdvAcceptance[] }) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  return (
    <Card title={at('adv.historyTitle')}>
      <DataTable
        caption={at('adv.historyTitle')}
        captionHidden
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
    </Card>
  );
}

// ------------------------------------------------------------------ administrators

function AdminSection({ onPublished }: { onPublished(): void }) {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const tenants = useLoad(() => call(advContract.tenants).then((r) => r.tenants), []);
  return (
    <>
      <Card title={at('adv.tenantsTitle')}>
        <DataTable
          caption={at('adv.tenantsTitle')}
          captionHidden
          testId="adv-tenants"
          rows={tenants.data}
          loading={tenants.loading}
          error={tenants.error}
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
      </Card>
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
        <Notice error={action.error} status={action.status} />
        <div className="actions">
          <button type="submit" className="button" data-testid="adv-publish" disabled={action.busy}>
            {at('adv.publish')}
          </button>
        </div>
      </form>
    </Card>
  );
}

// ------------------------------------------------------------------ processing register

function RegisterSection() {
  const { locale } = useApp();
  const at = useMessages(advMessages);
  const register = useLoad(() => call(advContract.register), []);
  const r = register.data;
  const l = (text: Localized) => text[locale];
  const list = (items: readonly Localized[]) => (
    <ul>
      {items.map((item) => (
        <li key={item.de}>{l(item)}</li>
      ))}
    </ul>
  );
  const recipientName = new Map(r?.recipients.map((x) => [x.id, l(x.name)]));
  const measureName = new Map(r?.measures.map((x) => [x.id, l(x.description)]));
  const row = (label: string, value: ReactNode) => (
    <tr>
      <th scope="row">{label}</th>
      <td>{value}</td>
    </tr>
  );

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
            <TableWrap label={l(activity.name)} key={activity.id}>
              <table data-testid="register-activity" data-activity={activity.id}>
                <caption>{l(activity.name)}</caption>
                <tbody>
                  {row(at('register.role'), at(`register.role.${activity.role}`))}
                  {row(at('register.purpose'), l(activity.purpose))}
                  {row(at('register.legalBasis'), l(activity.legalBasis))}
                  {row(at('register.dataSubjects'), list(activity.dataSubjects))}
                  {row(at('register.dataCategories'), list(activity.dataCategories))}
                  {row(
                    at('register.recipientsOf'),
                    activity.recipients.map((id) => recipientName.get(id) ?? id).join(', ') || '–',
                  )}
                  {row(at('register.thirdCountry'), l(activity.thirdCountryTransfers))}
                  {row(at('register.retention'), l(activity.retention))}
                  {row(
                    at('register.measuresOf'),
                    <ul>
                      {activity.measures.map((id) => (
                        <li key={id}>{measureName.get(id) ?? id}</li>
                      ))}
                    </ul>,
                  )}
                </tbody>
              </table>
            </TableWrap>
          ))}
          <h3>{at('register.recipients')}</h3>
          <DataTable
            caption={at('register.recipients')}
            captionHidden
            testId="register-recipients"
            rows={r.recipients}
            rowKey={(x) => x.id}
            empty="–"
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
          <h3>{at('register.measures')}</h3>
          <DataTable
            caption={at('register.measures')}
            captionHidden
            testId="register-measures"
            rows={r.measures}
            rowKey={(m) => m.id}
            empty="–"
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
