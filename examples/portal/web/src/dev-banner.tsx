/**
 * The demo banner: shown only when the portal runs as the dev start with its local SMTP sink
 * (`GET /api/session` says `devMail: true`), it says that no e-mail leaves the machine and links
 * the mail viewer, where invitations, reset links and e-mail codes can be read.
 */
import { DEV_MAIL_PAGE } from '../../src/shared/dev-mail.ts';
import { useApp } from './context.tsx';
import { Link } from './router.tsx';

export function DevBanner() {
  const { t } = useApp();
  return (
    <aside className="dev-banner" aria-label={t('devMail.bannerLabel')} data-testid="dev-banner">
      <p>
        {t('devMail.banner')}{' '}
        <Link to={DEV_MAIL_PAGE} data-testid="dev-banner-mails">
          {t('devMail.bannerLink')}
        </Link>
      </p>
    </aside>
  );
}
