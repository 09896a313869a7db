/**
 * `/dev/mails`: the dev start's mail viewer — what the local SMTP sink received, newest first,
 * with recipient, subject, time and the text, its http(s) links clickable. React escapes every
 * text (mails carry names people typed); only http(s) URLs become links. A portal without the
 * viewer (production) answers 404, shown as "only in the dev start".
 */
import { useEffect } from 'react';
import { devMailContract as c } from '../../../../src/features/dev-mail/contract.ts';
import { mailTextParts } from '../../../../src/shared/dev-mail.ts';
import { Button } from '../../actions.tsx';
import { ApiError } from '../../api.ts';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Card, formatDate, Loading, Notice, PageTitle, useLoad } from '../../ui.tsx';
import { devMailMessages } from './messages.ts';

/** New mails show up without a click while the page is open. */
const POLL_MS = 5_000;

export function DevMailsPage() {
  const { locale } = useApp();
  const t = useMessages(devMailMessages);
  const { data, error, reload } = useLoad(() => call(c.list), []);
  const missing = error instanceof ApiError && error.status === 404;
  useEffect(() => {
    if (missing) return; // not the dev start: nothing will come
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload, missing]);

  return (
    <>
      <PageTitle title={t('devMail.title')}>{t('devMail.title')}</PageTitle>
      {missing ? (
        <p data-testid="dev-mails-unavailable">{t('devMail.unavailable')}</p>
      ) : (
        <>
          <p className="lead">{t('devMail.intro')}</p>
          <div className="actions">
            <Button variant="secondary" testId="dev-mails-refresh" onClick={reload}>
              {t('devMail.refresh')}
            </Button>
          </div>
          <Notice error={error} />
          {data === undefined ? (
            error ? null : (
              <Loading />
            )
          ) : data.mails.length === 0 ? (
            <p data-testid="dev-mails-empty">{t('devMail.empty')}</p>
          ) : (
            <>
              {data.truncated ? (
                <p className="hint">{t('devMail.truncated', { n: data.mails.length })}</p>
              ) : null}
              <ol className="dev-mails" data-testid="dev-mails">
                {data.mails.map((mail) => (
                  <li key={mail.id} data-testid="dev-mail">
                    <Card title={<span data-testid="dev-mail-subject">{mail.subject}</span>}>
                      <p className="hint">
                        <span data-testid="dev-mail-to">
                          {t('devMail.to', { to: mail.to.join(', ') })}
                        </span>
                        {' · '}
                        <time dateTime={mail.receivedAt}>
                          {formatDate(locale, mail.receivedAt)}
                        </time>
                      </p>
                      <pre className="dev-mail-text" data-testid="dev-mail-text">
                        <MailText text={mail.text} />
                      </pre>
                    </Card>
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </>
  );
}

/** A mail's text with its http(s) URLs as links; everything else as (escaped) text. */
function MailText({ text }: { text: string }) {
  // Keyed by where each part starts in the text: the parts of one text never move.
  let at = 0;
  return mailTextParts(text).map((part) => {
    const start = at;
    if (!('link' in part)) {
      at += part.text.length;
      return <span key={start}>{part.text}</span>;
    }
    at += part.link.length;
    return (
      <a key={start} href={part.link} rel="noreferrer" data-testid="dev-mail-link">
        {part.link}
      </a>
    );
  });
}
