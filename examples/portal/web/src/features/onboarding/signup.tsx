/**
 * `/partner-signup` (public): an integration partner registers — company, contact, the partner
 * terms and the current ADV/DPA (the SHA-256 of the texts shown is sent along, so what was
 * accepted is exactly what was read). `/partner-signup/verify/:token` confirms the address.
 */
import { type FormEvent, useState } from 'react';
import { type AgreementBlock, agreementBlocks } from '../../../../src/features/adv/markdown.ts';
import { onboardingContract as c } from '../../../../src/features/onboarding/contract.ts';
import { pathOf } from '../../../../src/shared/contract.ts';
import { Button } from '../../actions.tsx';
import { requestJson } from '../../api.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import {
  Card,
  Field,
  formValue,
  Loading,
  Notice,
  PageTitle,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { onboardingMessages } from './messages.ts';

/** A markdown text (headings, paragraphs, lists) in a scrollable, focusable box. */
export function TermsText({
  text,
  label,
  testId,
}: {
  text: string;
  label: string;
  testId: string;
}) {
  const groups: (AgreementBlock | AgreementBlock[])[] = [];
  for (const block of agreementBlocks(text)) {
    const last = groups[groups.length - 1];
    if (block.kind === 'item' && Array.isArray(last)) last.push(block);
    else groups.push(block.kind === 'item' ? [block] : block);
  }
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus (WCAG 2.1.1).
    <article className="terms-box" aria-label={label} tabIndex={0} data-testid={testId}>
      {groups.map((g, i) => {
        const key = `g${i}`;
        if (Array.isArray(g))
          return (
            <ul key={key}>
              {g.map((item) => (
                <li key={item.text}>{item.text}</li>
              ))}
            </ul>
          );
        if (g.kind === 'title') return <h3 key={key}>{g.text}</h3>;
        if (g.kind === 'heading') return <h4 key={key}>{g.text}</h4>;
        return <p key={key}>{g.text}</p>;
      })}
    </article>
  );
}

/**
 * A text the applicant accepts (the partner terms, the ADV/DPA): the text in its box and the
 * required checkbox `name` below it.
 */
function AcceptCard({
  title,
  text,
  testId,
  name,
  checkboxTestId,
  accept,
}: {
  title: string;
  text: string;
  testId: string;
  name: string;
  checkboxTestId: string;
  accept: string;
}) {
  return (
    <Card title={title}>
      <TermsText text={text} label={title} testId={testId} />
      <p>
        <label>
          <input type="checkbox" name={name} required data-testid={checkboxTestId} /> {accept}
        </label>
      </p>
    </Card>
  );
}

export function PartnerSignupPage() {
  const { locale } = useApp();
  const ot = useMessages(onboardingMessages);
  const terms = useLoad(() => call(c.terms, { query: { locale } }), [locale]);
  const action = useAction();
  const [sent, setSent] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const data = terms.data;
    if (!data) return;
    const form = event.currentTarget;
    const website = formValue(form, 'website');
    const ok = await action.run(() =>
      // Not through `call`: the contract's body takes the boxes only ticked (`true`), and the
      // server is the one to judge them, so an unticked box is sent as it is and answered with
      // the field named. The route's path still comes from the contract.
      requestJson('POST', pathOf(c.apply, undefined), {
        companyName: formValue(form, 'companyName'),
        companyAddress: formValue(form, 'companyAddress'),
        ...(website ? { website } : {}),
        contactName: formValue(form, 'contactName'),
        contactEmail: formValue(form, 'contactEmail'),
        locale,
        termsVersion: data.terms.version,
        termsSha256: data.terms.sha256,
        advVersion: data.adv.version,
        advLocale: data.adv.locale,
        advSha256: data.adv.sha256,
        acceptTerms: (form.elements.namedItem('acceptTerms') as HTMLInputElement).checked,
        acceptAdv: (form.elements.namedItem('acceptAdv') as HTMLInputElement).checked,
      }).then(() => true),
    );
    if (ok) setSent(true);
  }

  return (
    <div className="narrow">
      <PageTitle title={ot('signup.title')}>{ot('signup.title')}</PageTitle>
      <p className="lead">{ot('signup.intro')}</p>
      {terms.loading && !terms.data ? <Loading /> : null}
      <Notice error={terms.error} />
      {sent ? (
        <Card>
          <div className="notice notice-ok" role="status" data-testid="signup-sent">
            <p>{ot('signup.sent')}</p>
          </div>
          <p>
            <Link to="/login">{ot('signup.toLogin')}</Link>
          </p>
        </Card>
      ) : terms.data ? (
        <form onSubmit={(e) => void submit(e)} data-testid="signup-form">
          <Card title={ot('signup.company')}>
            <Field
              label={ot('signup.companyName')}
              name="companyName"
              required
              maxLength={200}
              autoComplete="organization"
            />
            <Field
              label={ot('signup.companyAddress')}
              name="companyAddress"
              required
              maxLength={500}
              autoComplete="street-address"
            />
            <Field
              label={ot('signup.website')}
              name="website"
              type="url"
              maxLength={300}
              hint={ot('signup.websiteHint')}
            />
          </Card>
          <Card title={ot('signup.contact')}>
            <Field
              label={ot('signup.contactName')}
              name="contactName"
              required
              maxLength={120}
              autoComplete="name"
            />
            <Field
              label={ot('signup.contactEmail')}
              name="contactEmail"
              type="email"
              required
              autoComplete="email"
              hint={ot('signup.contactEmailHint')}
            />
          </Card>
          <AcceptCard
            title={ot('signup.terms', { version: terms.data.terms.version })}
            text={terms.data.terms.text}
            testId="signup-terms"
            name="acceptTerms"
            checkboxTestId="accept-terms"
            accept={ot('signup.acceptTerms')}
          />
          <AcceptCard
            title={ot('signup.adv', { version: terms.data.adv.version })}
            text={terms.data.adv.text}
            testId="signup-adv"
            name="acceptAdv"
            checkboxTestId="accept-adv"
            accept={ot('signup.acceptAdv')}
          />
          <Notice error={action.error} />
          <div className="actions">
            <Button type="submit" testId="signup-submit" disabled={action.busy}>
              {ot('signup.submit')}
            </Button>
            <Link to="/login">{ot('signup.toLogin')}</Link>
          </div>
        </form>
      ) : null}
    </div>
  );
}

export function PartnerVerifyPage({ token }: { token: string }) {
  const ot = useMessages(onboardingMessages);
  const action = useAction();
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const ok = await action.run(() => call(c.verify, { body: { token } }).then(() => true));
    if (ok) setDone(true);
  }

  return (
    <div className="narrow">
      <PageTitle title={ot('verify.title')}>{ot('verify.title')}</PageTitle>
      <Card>
        {done ? (
          <div className="notice notice-ok" role="status" data-testid="verify-done">
            <p>{ot('verify.done')}</p>
          </div>
        ) : (
          // A button, not an automatic request: mail scanners that open links confirm nothing.
          <form onSubmit={(e) => void submit(e)} data-testid="verify-form">
            <p>{ot('verify.intro')}</p>
            <Notice error={action.error} />
            <div className="actions">
              <Button type="submit" testId="verify-submit" disabled={action.busy}>
                {ot('verify.submit')}
              </Button>
            </div>
          </form>
        )}
        <p>
          <Link to="/login">{ot('signup.toLogin')}</Link>
        </p>
      </Card>
    </div>
  );
}
