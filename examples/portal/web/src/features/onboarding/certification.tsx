/**
 * `/certification` (an onboarded partner): the sandbox credentials (shown once), the webhook
 * receiver and the two checklist steps — (a) the partner's system sends a signed event to the
 * sandbox, (b) the portal sends one to the partner's receiver — with their stored state.
 */
import { type FormEvent, useState } from 'react';
import {
  type Credentials,
  onboardingContract as c,
} from '../../../../src/features/onboarding/contract.ts';
import { Button } from '../../actions.tsx';
import { ApiError } from '../../api.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
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
  useAction,
  useLoad,
} from '../../ui.tsx';
import { onboardingLabel, onboardingMessages } from './messages.ts';

/** A checklist step's badge tone by its state (here and in the administrators' partner list). */
export const STEP_TONE = { open: 'neutral', passed: 'ok', failed: 'bad' } as const;

export function CertificationPage() {
  const { locale } = useApp();
  const ot = useMessages(onboardingMessages);
  const state = useLoad(() => call(c.me), []);
  const action = useAction();
  const [credentials, setCredentials] = useState<Credentials | undefined>(undefined);
  const notOnboarded = state.error instanceof ApiError && state.error.status === 404;

  async function reveal(): Promise<void> {
    const shown = await action.run(() => call(c.credentials));
    if (shown) {
      setCredentials(shown);
      state.reload();
    }
  }

  async function saveUrl(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const url = formValue(event.currentTarget, 'url');
    const next = await action.run(() => call(c.webhook, { body: { url } }), ot('cert.urlSaved'));
    if (next) state.setData(next);
  }

  async function send(): Promise<void> {
    const next = await action.run(() => call(c.sendTest));
    if (next) state.setData(next);
  }

  const s = state.data;
  return (
    <>
      <PageTitle title={ot('cert.title')}>{ot('cert.title')}</PageTitle>
      <p className="lead">{ot('cert.intro')}</p>
      {state.loading && !s ? <Loading /> : null}
      {notOnboarded ? <p data-testid="not-onboarded">{ot('cert.notOnboarded')}</p> : null}
      {!notOnboarded ? <Notice error={state.error} /> : null}
      {s ? (
        <>
          <p data-testid="cert-summary" data-certified={s.certified}>
            {s.certified ? (
              <Badge tone="ok">
                {ot('cert.certified', { date: formatDate(locale, s.certifiedAt) })}
              </Badge>
            ) : (
              <Badge tone="neutral">{ot('cert.notCertified')}</Badge>
            )}{' '}
            {s.productionGrantedAt
              ? ot('cert.production', { date: formatDate(locale, s.productionGrantedAt) })
              : null}
          </p>
          <Card title={ot('cert.credentials')}>
            <dl className="facts">
              <dt>{ot('cert.clientId')}</dt>
              <dd>
                <code data-testid="cert-client-id">{s.clientId}</code>
              </dd>
              <dt>{ot('cert.tokenUrl')}</dt>
              <dd>
                <code>{s.tokenUrl}</code>
              </dd>
              <dt>{ot('cert.sandboxUrl')}</dt>
              <dd>
                <code data-testid="cert-sandbox-url">{s.sandboxUrl}</code>
              </dd>
            </dl>
            {credentials ? (
              <div className="card-highlight" data-testid="cert-credentials">
                <OneTimeSecret
                  testId="cert-client-secret"
                  label={ot('cert.clientSecret')}
                  value={credentials.clientSecret}
                />
                <OneTimeSecret
                  testId="cert-webhook-secret"
                  label={ot('cert.webhookSecret')}
                  value={credentials.webhookSecret}
                />
              </div>
            ) : s.secretsRevealed ? (
              <p className="hint">{ot('cert.revealed')}</p>
            ) : (
              <>
                <p className="hint">{ot('cert.revealHint')}</p>
                <Button testId="cert-reveal" disabled={action.busy} onClick={() => void reveal()}>
                  {ot('cert.reveal')}
                </Button>
              </>
            )}
          </Card>
          <Card title={ot('cert.steps')}>
            <Notice error={action.error} status={action.status} />
            <ol className="checklist">
              {s.steps.map((step) => (
                <li key={step.id} data-testid={`step-${step.id}`} data-state={step.state}>
                  <h3>{ot(step.id === 'inbound' ? 'cert.step.inbound' : 'cert.step.outbound')}</h3>
                  <p>
                    <Badge tone={STEP_TONE[step.state]}>
                      {onboardingLabel(ot, 'cert.state', step.state)}
                    </Badge>{' '}
                    {step.at ? ot('cert.at', { date: formatDate(locale, step.at) }) : null}{' '}
                    {step.code ? (
                      <span data-testid={`step-${step.id}-outcome`} data-code={step.code}>
                        {ot(`cert.code.${step.code}`, { status: step.httpStatus ?? '' })}
                      </span>
                    ) : null}
                  </p>
                  {step.id === 'inbound' ? (
                    <>
                      <p className="hint">{ot('cert.step.inboundHow')}</p>
                      <Button
                        variant="secondary"
                        small
                        testId="cert-refresh"
                        onClick={() => state.reload()}
                      >
                        {ot('cert.refresh')}
                      </Button>
                    </>
                  ) : (
                    <>
                      <p className="hint">{ot('cert.step.outboundHow')}</p>
                      <form
                        className="inline-form"
                        onSubmit={(e) => void saveUrl(e)}
                        data-testid="cert-webhook-form"
                      >
                        <Field
                          label={ot('cert.webhookUrl')}
                          name="url"
                          type="url"
                          required
                          defaultValue={s.webhookUrl ?? ''}
                        />
                        <Button type="submit" variant="secondary" disabled={action.busy}>
                          {ot('cert.saveUrl')}
                        </Button>
                      </form>
                      <Button
                        testId="cert-send"
                        disabled={action.busy || !s.webhookUrl}
                        onClick={() => void send()}
                      >
                        {ot('cert.send')}
                      </Button>
                    </>
                  )}
                </li>
              ))}
            </ol>
          </Card>
        </>
      ) : null}
    </>
  );
}
