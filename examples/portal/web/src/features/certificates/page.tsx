/**
 * `/certificates` (administrators): the portal's own TLS certificate through ACME — public
 * server address and contact e-mail, "request/renew" (enabled only when both are set) with
 * progress, the certificate (subject, SANs, issuer, validity, days left, the files cert.pem /
 * key.pem in the letsencrypt/…/orders/<id>/ layout), delete with confirmation, evaluate, the
 * TLS status and the port-80 requirement.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type {
  AcmeDirectoryChoice,
  CertificateDetails,
  CertificateOrderView,
  CertificatesOverview,
  EvaluateView,
  OrderState,
  TlsState,
} from '../../../../src/features/certificates/contract.ts';
import { certificatesContract } from '../../../../src/features/certificates/contract.ts';
import { Button, ConfirmButton } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import {
  Badge,
  Card,
  Field,
  formatDate,
  Loading,
  Notice,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { type CertificatesT, certificatesMessages } from './messages.ts';

const STEPS: readonly OrderState[] = ['pending', 'validating', 'issuing', 'installed'];
const TONE: Record<TlsState, 'ok' | 'warn' | 'bad' | 'neutral'> = {
  development: 'neutral',
  active: 'ok',
  expiring: 'warn',
  expired: 'bad',
};

const final = (order: CertificateOrderView | undefined) =>
  !order || order.state === 'installed' || order.state === 'failed';

export function CertificatesPage() {
  const ct = useMessages(certificatesMessages);
  const overview = useLoad(() => call(certificatesContract.overview), []);
  const [order, setOrder] = useState<CertificateOrderView | undefined>(undefined);
  const data = overview.data;

  // The newest order from the overview, until one is started here.
  const shown = order ?? data?.order;

  // Poll a running order until it is installed or failed, then reload the overview.
  const { reload } = overview;
  const runningId = shown && !final(shown) ? shown.id : undefined;
  useEffect(() => {
    if (!runningId) return;
    let alive = true;
    void (async () => {
      while (alive) {
        await new Promise((r) => setTimeout(r, 500));
        if (!alive) return;
        try {
          const next = await call(certificatesContract.orderState, { params: { id: runningId } });
          if (!alive) return;
          setOrder(next);
          if (final(next)) {
            reload();
            return;
          }
        } catch {
          // Again on the next tick (a connection may drop while the certificate is swapped).
        }
      }
    })();
    return () => {
      alive = false;
    };
  }, [runningId, reload]);

  return (
    <>
      <PageTitle title={ct('title')}>{ct('title')}</PageTitle>
      <p className="lead">{ct('intro')}</p>
      {overview.loading && !data ? <Loading /> : null}
      <Notice error={overview.error} />
      {data ? (
        <>
          <TlsStatus ct={ct} data={data} />
          <SettingsCard
            ct={ct}
            data={data}
            running={!final(shown)}
            onSaved={(next) => overview.setData(next)}
            onOrdered={(started) => setOrder(started)}
          />
          <PortExplanation ct={ct} port={data.http01Port} />
          {shown ? <OrderProgress ct={ct} order={shown} /> : null}
          <CurrentCertificate
            ct={ct}
            current={data.current}
            onChanged={(next) => {
              overview.setData(next);
            }}
          />
        </>
      ) : null}
    </>
  );
}

function TlsStatus({ ct, data }: { ct: CertificatesT; data: CertificatesOverview }) {
  const { locale } = useApp();
  return (
    <section className="card" aria-label={ct('state.label')}>
      <p className="badge-line" data-testid="tls-state" data-state={data.tls}>
        <span className="sr-only">{ct('state.label')}: </span>
        <Badge tone={TONE[data.tls]}>{ct(`state.${data.tls}`)}</Badge>
      </p>
      <p className="hint" data-testid="renewal-state">
        {data.renewal.active
          ? ct('state.renewal', { date: formatDate(locale, data.renewal.nextAt) })
          : ct('state.renewalOff')}
      </p>
    </section>
  );
}

function SettingsCard({
  ct,
  data,
  running,
  onSaved,
  onOrdered,
}: {
  ct: CertificatesT;
  data: CertificatesOverview;
  running: boolean;
  onSaved(next: CertificatesOverview): void;
  onOrdered(order: CertificateOrderView): void;
}) {
  const [address, setAddress] = useState(data.settings.address);
  const [email, setEmail] = useState(data.settings.email);
  const [directory, setDirectory] = useState<AcmeDirectoryChoice>(data.settings.directory);
  const action = useAction();
  const ready = address.trim() !== '' && email.trim() !== '';
  const dirty =
    address.trim().toLowerCase() !== data.settings.address ||
    email.trim().toLowerCase() !== data.settings.email ||
    directory !== data.settings.directory;

  const save = () =>
    call(certificatesContract.saveSettings, {
      body: { address: address.trim(), email: email.trim(), directory },
    });

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const next = await action.run(save, ct('settings.saved'));
    if (next) {
      setAddress(next.settings.address);
      onSaved(next);
    }
  }

  async function request(): Promise<void> {
    const started = await action.run(async () => {
      if (dirty) {
        const next = await save();
        setAddress(next.settings.address);
        onSaved(next);
      }
      return call(certificatesContract.order);
    });
    if (started)
      onOrdered({
        id: started.id,
        domain: started.domain,
        state: 'pending',
        startedAt: new Date().toISOString(),
      });
  }

  return (
    <Card title={ct('settings.title')}>
      <form className="form-grid" data-testid="cert-settings" onSubmit={(e) => void submit(e)}>
        <Field
          label={ct('settings.address')}
          name="address"
          value={address}
          onChange={(e) => setAddress(e.currentTarget.value)}
          hint={ct('settings.addressHint')}
          maxLength={253}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          inputMode="url"
        />
        <Field
          label={ct('settings.email')}
          name="email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          hint={ct('settings.emailHint')}
          maxLength={254}
          autoComplete="email"
        />
        <SelectField
          label={ct('settings.directory')}
          name="directory"
          value={directory}
          onChange={(e) => setDirectory(e.currentTarget.value as AcmeDirectoryChoice)}
          options={data.directories.map((d) => ({
            value: d.choice,
            label: ct(`settings.directory.${d.choice}`, { url: d.url }),
          }))}
        />
        <Notice error={action.error} status={action.status} />
        <div className="actions">
          <Button type="submit" variant="secondary" testId="cert-save" disabled={action.busy}>
            {ct('settings.save')}
          </Button>
          <Button
            testId="cert-request"
            disabled={!ready || running || action.busy}
            aria-describedby="cert-request-hint"
            onClick={() => void request()}
          >
            {ct('settings.request')}
          </Button>
        </div>
        <p id="cert-request-hint" className="hint">
          {ct('settings.requestHint')}
        </p>
      </form>
    </Card>
  );
}

function OrderProgress({ ct, order }: { ct: CertificatesT; order: CertificateOrderView }) {
  const reached = STEPS.indexOf(order.state);
  const failed = order.state === 'failed';
  return (
    <Card title={ct('order.title')}>
      <div
        data-testid="order-state"
        data-state={order.state}
        role="status"
        aria-live="polite"
        aria-busy={!final(order)}
      >
        <p>
          {failed
            ? ct('order.failedFor', { domain: order.domain })
            : order.state === 'installed'
              ? ct('order.done', { domain: order.domain })
              : ct('order.running', { domain: order.domain })}
        </p>
        {failed ? (
          <div className="notice notice-error" data-testid="order-error">
            <p>{ct('order.failed')}</p>
            {/* The stable failure code, in words; the CA's raw message stays in the audit log. */}
            <p className="notice-detail" data-failure={order.failure ?? 'error'}>
              {ct(`failure.${order.failure ?? 'error'}`)}
            </p>
          </div>
        ) : (
          <>
            <progress max={STEPS.length - 1} value={Math.max(0, reached)}>
              {ct(`order.${order.state}`)}
            </progress>
            <ol className="steps">
              {STEPS.map((step, i) => (
                <li key={step} aria-current={step === order.state ? 'step' : undefined}>
                  <Badge
                    tone={
                      i < reached || order.state === 'installed'
                        ? 'ok'
                        : i === reached
                          ? 'warn'
                          : 'neutral'
                    }
                  >
                    {i <= reached ? '✓' : '…'}
                  </Badge>{' '}
                  {ct(`order.${step}`)}
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
    </Card>
  );
}

function CurrentCertificate({
  ct,
  current,
  onChanged,
}: {
  ct: CertificatesT;
  current: CertificateDetails;
  onChanged(next: CertificatesOverview): void;
}) {
  const { locale } = useApp();
  const [open, setOpen] = useState(true);
  const [result, setResult] = useState<EvaluateView | undefined>(undefined);
  const evaluating = useAction();
  const deleting = useAction();
  const acme = current.source === 'acme';

  async function evaluate(): Promise<void> {
    setResult(undefined);
    const view = await evaluating.run(() => call(certificatesContract.evaluate));
    if (view) setResult(view);
  }

  async function remove(): Promise<void> {
    const next = await deleting.run(
      () => call(certificatesContract.deleteCurrent),
      ct('delete.done'),
    );
    if (next) {
      setResult(undefined);
      onChanged(next);
    }
  }

  return (
    <Card title={ct('current.title')}>
      <div className="button-row">
        <Button
          variant="secondary"
          testId="cert-show"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? ct('current.hide') : ct('current.show')}
        </Button>
        <Button
          variant="secondary"
          testId="cert-evaluate"
          disabled={evaluating.busy}
          onClick={() => void evaluate()}
        >
          {ct('evaluate.button')}
        </Button>
        {acme ? (
          <ConfirmButton
            testId="cert-delete"
            small={false}
            label={ct('delete.button')}
            question={ct('delete.confirmText')}
            confirm={ct('delete.confirm')}
            busy={deleting.busy}
            onConfirm={remove}
          />
        ) : null}
      </div>
      <Notice error={deleting.error ?? evaluating.error} status={deleting.status} />
      {evaluating.busy ? <p role="status">{ct('evaluate.running')}</p> : null}
      {result ? (
        <div
          className={result.ok ? 'notice notice-ok' : 'notice notice-error'}
          data-testid="evaluate-result"
          data-ok={String(result.ok)}
          data-code={result.code}
          role="status"
        >
          <p>
            <Badge tone={result.ok ? 'ok' : 'bad'}>{result.ok ? '✓' : '✗'}</Badge>{' '}
            {result.ok
              ? ct('evaluate.ok', { url: result.url })
              : ct('evaluate.failed', { url: result.url || '–' })}
          </p>
          {result.ok ? null : (
            <>
              {/* The code in words; the TLS check's raw reason stays off the page. */}
              <p>{ct(`evaluate.code.${result.code}`)}</p>
            </>
          )}
        </div>
      ) : null}
      {open ? (
        <dl className="facts" data-testid="cert-details" data-source={current.source}>
          <dt>{ct('current.source')}</dt>
          <dd>{ct(`current.source.${current.source}`)}</dd>
          <dt>{ct('current.subject')}</dt>
          <dd data-testid="cert-subject">{current.subject}</dd>
          <dt>{ct('current.sans')}</dt>
          <dd data-testid="cert-sans">{current.sans.join(', ')}</dd>
          <dt>{ct('current.issuer')}</dt>
          <dd data-testid="cert-issuer">{current.issuer}</dd>
          <dt>{ct('current.serial')}</dt>
          <dd>
            <code data-testid="cert-serial">{current.serial}</code>
          </dd>
          <dt>{ct('current.notBefore')}</dt>
          <dd>{formatDate(locale, current.notBefore)}</dd>
          <dt>{ct('current.notAfter')}</dt>
          <dd>{formatDate(locale, current.notAfter)}</dd>
          <dt>{ct('current.daysLeft')}</dt>
          <dd data-testid="cert-days-left">{current.daysLeft}</dd>
          {acme && current.directory ? (
            <>
              <dt>{ct('current.location')}</dt>
              <dd>
                <code data-testid="cert-location">{current.directory}/</code>
              </dd>
              <dt>{ct('current.files')}</dt>
              <dd>
                <ul data-testid="cert-files">
                  <li>
                    <code title={current.certPath}>cert.pem</code>
                  </li>
                  <li>
                    <code title={current.keyPath}>key.pem</code>
                  </li>
                </ul>
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
    </Card>
  );
}

function PortExplanation({ ct, port }: { ct: CertificatesT; port: number }) {
  return (
    <section
      className="notice notice-info"
      aria-labelledby="cert-port-title"
      data-testid="cert-port"
    >
      <h2 id="cert-port-title">{ct('port.title')}</h2>
      <p>{ct('port.text', { port })}</p>
    </section>
  );
}
