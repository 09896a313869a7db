/**
 * `/adv`: the data processing agreement (ADV/DPA) — current version, the tenant's acceptance
 * (with the PDF), a prompt when a new version needs accepting, the history; administrators see
 * every tenant's state and publish new versions. Second section: the processing register
 * (Verarbeitungsverzeichnis) as tables.
 */
import { type FormEvent, type ReactNode, useCallback, useId } from 'react';
import type {
  AdvAcceptance,
  AdvState,
  AdvTenantRow,
  Localized,
  ProcessingRegister,
} from '../../../../src/features/adv/contract.ts';
import { type AgreementBlock, agreementBlocks } from '../../../../src/features/adv/markdown.ts';
import type { Locale } from '../../../../src/shared/api.ts';
import { api, enc } from '../../api.ts';
import { useApp } from '../../context.tsx';
import {
  Badge,
  Card,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { type AdvKey, type AdvTranslate, advTranslate } from './messages.ts';

function useAdvT(): { at: AdvTranslate; locale: Locale } {
  const { locale } = useApp();
  const at = useCallback<AdvTranslate>(
    (key: AdvKey, vars?: Readonly<Record<string, string | number>>) =>
      advTranslate(locale, key, vars),
    [locale],
  );
  return { at, locale };
}

/** A table wrapper that scrolls sideways on narrow screens and can be scrolled by keyboard. */
function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus (WCAG 2.1.1).
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}

const pdfHref = (a: AdvAcceptance) => `/api/adv/acceptances/${enc(a.id)}/pdf`;
const day = (locale: Locale, iso: string) =>
  new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'long' }).format(
    new Date(iso),
  );

export function AdvPage() {
  const { can } = useApp();
  const { at, locale } = useAdvT();
  const state = useLoad(() => api.get<AdvState>(`/api/adv?locale=${locale}`), [locale]);
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
  const { at } = useAdvT();
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
  const { at, locale } = useAdvT();
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
  const { at, locale } = useAdvT();
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
      api.post('/api/adv/accept', {
        version: current.id,
        locale: current.locale,
        textSha256: current.sha256,
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
  const { at, locale } = useAdvT();
  return (
    <Card title={at('adv.historyTitle')}>
      <TableWrap label={at('adv.historyTitle')}>
        <table data-testid="adv-history">
          <thead>
            <tr>
              <th scope="col">{at('adv.version')}</th>
              <th scope="col">{at('adv.acceptedBy')}</th>
              <th scope="col">{at('adv.acceptedAt')}</th>
              <th scope="col">{at('adv.from')}</th>
              <th scope="col">PDF</th>
            </tr>
          </thead>
          <tbody>
            {history.map((a) => (
              <tr key={a.id}>
                <th scope="row">{a.version}</th>
                <td>{a.acceptedBy.name}</td>
                <td>{formatDate(locale, a.acceptedAt)}</td>
                <td>{a.ip}</td>
                <td>
                  <a href={pdfHref(a)} download>
                    {at('adv.pdfOf', { version: a.version })}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </Card>
  );
}

// ------------------------------------------------------------------ administrators

function AdminSection({ onPublished }: { onPublished(): void }) {
  const { at, locale } = useAdvT();
  const tenants = useLoad(
    () => api.get<{ tenants: AdvTenantRow[] }>('/api/adv/tenants').then((r) => r.tenants),
    [],
  );
  return (
    <>
      <Card title={at('adv.tenantsTitle')}>
        {tenants.loading && !tenants.data ? <Loading /> : null}
        <Notice error={tenants.error} />
        {tenants.data && tenants.data.length > 0 ? (
          <TableWrap label={at('adv.tenantsTitle')}>
            <table data-testid="adv-tenants">
              <thead>
                <tr>
                  <th scope="col">{at('adv.tenant')}</th>
                  <th scope="col">{at('adv.state')}</th>
                  <th scope="col">{at('adv.version')}</th>
                  <th scope="col">{at('adv.acceptedBy')}</th>
                  <th scope="col">{at('adv.acceptedAt')}</th>
                  <th scope="col">PDF</th>
                </tr>
              </thead>
              <tbody>
                {tenants.data.map((row) => (
                  <tr key={row.tenantId}>
                    <th scope="row">{row.tenantName}</th>
                    <td>
                      <Badge tone={row.needsAcceptance ? 'warn' : 'ok'}>
                        {row.needsAcceptance ? at('adv.open') : at('adv.done')}
                      </Badge>
                    </td>
                    <td>{row.acceptance?.version ?? '–'}</td>
                    <td>{row.acceptance?.acceptedBy.name ?? '–'}</td>
                    <td>{formatDate(locale, row.acceptance?.acceptedAt)}</td>
                    <td>
                      {row.acceptance ? (
                        <a href={pdfHref(row.acceptance)} download>
                          {at('adv.pdfOf', { version: row.acceptance.version })}
                        </a>
                      ) : (
                        '–'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
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

function TextArea({ label, name, lang }: { label: string; name: string; lang: Locale }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} name={name} rows={10} required minLength={100} lang={lang} />
    </div>
  );
}

function PublishForm({ onPublished }: { onPublished(): void }) {
  const { withReauth } = useApp();
  const { at } = useAdvT();
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const body = {
      id: formValue(form, 'id'),
      textDe: formValue(form, 'textDe'),
      textEn: formValue(form, 'textEn'),
    };
    const result = await action.run(() =>
      withReauth(() =>
        api.post<{ version: { id: string }; notified: number }>('/api/adv/versions', body),
      ),
    );
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
        <TextArea label={at('adv.textDe')} name="textDe" lang="de" />
        <TextArea label={at('adv.textEn')} name="textEn" lang="en" />
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
  const { at, locale } = useAdvT();
  const register = useLoad(() => api.get<ProcessingRegister>('/api/register'), []);
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
          <TableWrap label={at('register.recipients')}>
            <table data-testid="register-recipients">
              <thead>
                <tr>
                  <th scope="col">{at('register.name')}</th>
                  <th scope="col">{at('register.kind')}</th>
                  <th scope="col">{at('register.service')}</th>
                  <th scope="col">{at('register.location')}</th>
                  <th scope="col">{at('register.thirdCountry')}</th>
                  <th scope="col">{at('register.safeguards')}</th>
                </tr>
              </thead>
              <tbody>
                {r.recipients.map((x) => (
                  <tr key={x.id}>
                    <th scope="row">{l(x.name)}</th>
                    <td>{at(`register.kind.${x.kind}`)}</td>
                    <td>{l(x.service)}</td>
                    <td>{l(x.location)}</td>
                    <td>{x.thirdCountry ? at('register.yes') : at('register.no')}</td>
                    <td>{x.safeguards ? l(x.safeguards) : '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <h3>{at('register.measures')}</h3>
          <TableWrap label={at('register.measures')}>
            <table data-testid="register-measures">
              <thead>
                <tr>
                  <th scope="col">{at('register.area')}</th>
                  <th scope="col">{at('register.measure')}</th>
                </tr>
              </thead>
              <tbody>
                {r.measures.map((m) => (
                  <tr key={m.id}>
                    <th scope="row">{l(m.area)}</th>
                    <td>{l(m.description)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      ) : null}
    </section>
  );
}
