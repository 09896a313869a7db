/** The dev start's mail viewer: what the local SMTP sink received, newest first. */
import type { ReceivedMail } from '../../server/mail.ts';
import { DEV_MAIL_LIMIT } from '../../shared/dev-mail.ts';
import type { DevMail, DevMailList } from './contract.ts';

/** Where the mails come from: the sink's list (append-only, oldest first). */
export interface DevMailSource {
  readonly messages: readonly ReceivedMail[];
}

/** The newest `limit` mails of `source`, newest first. */
export function listDevMails(source: DevMailSource, limit = DEV_MAIL_LIMIT): DevMailList {
  const all = source.messages;
  const start = Math.max(0, all.length - limit);
  const mails = all
    .slice(start)
    .map(
      (m, k): DevMail => ({
        id: start + k,
        to: [...m.to],
        subject: m.subject,
        receivedAt: new Date(m.receivedAt).toISOString(),
        text: m.text,
      }),
    )
    .reverse();
  return { mails, truncated: all.length > limit };
}
