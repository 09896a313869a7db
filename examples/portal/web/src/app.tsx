/** The app shell: loads the session, routes by stage, header, sidebar, re-authentication. */
import {
  lazy,
  type ReactNode,
  Suspense,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { Locale, Me, SessionInfo } from '../../src/shared/api.ts';
import { DEV_MAIL_PAGE } from '../../src/shared/dev-mail.ts';
import type { Permission } from '../../src/shared/permissions.ts';
import { ApiError, api, getSession, setUnauthenticatedHandler } from './api.ts';
import { AppContext, type AppContextValue, useApp } from './context.tsx';
import { DevBanner } from './dev-banner.tsx';
import { isLocale, makeTranslate } from './i18n.ts';
import { LoginPage } from './pages/login.tsx';
import { ReauthDialog } from './reauth.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';
import { describeError, Loading, PageTitle } from './ui.tsx';

const named =
  <K extends string>(key: K) =>
  <M extends Record<K, (props: never) => ReactNode>>(m: M) => ({ default: m[key] });

const EnrolPage = lazy(() => import('./pages/enrol.tsx').then(named('EnrolPage')));
const InvitePage = lazy(() => import('./pages/invite.tsx').then(named('InvitePage')));
const ResetRequestPage = lazy(() => import('./pages/reset.tsx').then(named('ResetRequestPage')));
const ResetConfirmPage = lazy(() => import('./pages/reset.tsx').then(named('ResetConfirmPage')));
const DashboardPage = lazy(() => import('./pages/dashboard.tsx').then(named('DashboardPage')));
const LicensesPage = lazy(() => import('./pages/licenses.tsx').then(named('LicensesPage')));
const LicenseDetailPage = lazy(() =>
  import('./pages/license-detail.tsx').then(named('LicenseDetailPage')),
);
const UsersPage = lazy(() => import('./pages/users.tsx').then(named('UsersPage')));
const SecurityPage = lazy(() => import('./pages/security.tsx').then(named('SecurityPage')));
const AuditPage = lazy(() => import('./pages/audit.tsx').then(named('AuditPage')));
const AlertsPage = lazy(() => import('./pages/alerts.tsx').then(named('AlertsPage')));
const AdvPage = lazy(() => import('./features/adv/page.tsx').then(named('AdvPage')));
const PrivacyPage = lazy(() => import('./features/privacy/page.tsx').then(named('PrivacyPage')));
const ErasureCancelPage = lazy(() =>
  import('./features/privacy/page.tsx').then(named('ErasureCancelPage')),
);
const StatusPage = lazy(() => import('./pages/status.tsx').then(named('StatusPage')));
const PartnerPage = lazy(() => import('./pages/partner.tsx').then(named('PartnerPage')));
const PartnerSignupPage = lazy(() =>
  import('./pages/partner-signup.tsx').then(named('PartnerSignupPage')),
);
const PartnerVerifyPage = lazy(() =>
  import('./pages/partner-signup.tsx').then(named('PartnerVerifyPage')),
);
const OnboardingReviewPage = lazy(() =>
  import('./pages/onboarding.tsx').then(named('OnboardingReviewPage')),
);
const CertificationPage = lazy(() =>
  import('./pages/certification.tsx').then(named('CertificationPage')),
);
const RightsPage = lazy(() => import('./pages/rights.tsx').then(named('RightsPage')));
const CertificatesPage = lazy(() =>
  import('./pages/certificates.tsx').then(named('CertificatesPage')),
);
const DevMailsPage = lazy(() => import('./pages/dev-mails.tsx').then(named('DevMailsPage')));

const LOCALE_KEY = 'fluxel.locale';
/** Set while a language picked before signing in waits to become the profile's. */
const LOCALE_CHOSEN_KEY = 'fluxel.locale.chosen';

function storage(action: (store: Storage) => void): void {
  try {
    action(window.localStorage);
  } catch {
    // Storage may be disabled; the choice then lasts for this page only.
  }
}

/** The language picked before signing in, if one is waiting. */
function chosenBeforeSignIn(): Locale | undefined {
  let chosen: Locale | undefined;
  storage((store) => {
    const value = store.getItem(LOCALE_KEY);
    if (store.getItem(LOCALE_CHOSEN_KEY) === '1' && value && isLocale(value)) chosen = value;
  });
  return chosen;
}

function storedLocale(): Locale {
  try {
    const value = window.localStorage.getItem(LOCALE_KEY);
    return value && isLocale(value) ? value : 'de';
  } catch {
    return 'de';
  }
}

const PUBLIC = [
  '/reset',
  '/reset/:token',
  '/invite/:token',
  '/status',
  '/privacy/cancel/:token',
  '/partner-signup',
  '/partner-signup/verify/:token',
  DEV_MAIL_PAGE,
];

function isPublic(path: string): boolean {
  return PUBLIC.some((pattern) => match(pattern, path) !== null);
}

/** A same-origin in-app path from `?next=`, or `/`. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

/** Where a user at `stage` must go instead of `path` (or `null` to stay). */
function redirectFor(
  stage: SessionInfo['stage'],
  path: string,
  next: string | null,
): string | null {
  switch (stage) {
    case 'anonymous':
    case 'password':
      if (path === '/login' || isPublic(path)) return null;
      return path === '/' || path === '/enrol'
        ? '/login'
        : `/login?next=${encodeURIComponent(path)}`;
    case 'enrol':
      return path === '/enrol' || isPublic(path) ? null : '/enrol';
    case 'full':
      return path === '/login' || path === '/enrol' ? safeNext(next) : null;
  }
}

interface NavItem {
  to: string;
  key:
    | 'nav.dashboard'
    | 'nav.licenses'
    | 'nav.users'
    | 'nav.audit'
    | 'nav.alerts'
    | 'nav.adv'
    | 'nav.privacy'
    | 'nav.certificates'
    | 'nav.partner'
    | 'nav.status'
    | 'nav.onboarding'
    | 'nav.certification'
    | 'nav.rights'
    | 'nav.security';
  /** Shown when the user holds any of these (none: always). */
  permission?: Permission | readonly Permission[];
  /** Shown only to this role (the partner's certification checklist). */
  role?: Me['role'];
}

const NAV: readonly NavItem[] = [
  { to: '/', key: 'nav.dashboard' },
  { to: '/licenses', key: 'nav.licenses', permission: 'license.read' },
  { to: '/users', key: 'nav.users', permission: 'users.read' },
  { to: '/audit', key: 'nav.audit', permission: 'audit.read' },
  { to: '/alerts', key: 'nav.alerts', permission: 'alerts.read' },
  { to: '/adv', key: 'nav.adv' },
  { to: '/privacy', key: 'nav.privacy' },
  { to: '/certificates', key: 'nav.certificates', permission: 'certificates.manage' },
  { to: '/partner', key: 'nav.partner', permission: 'partner.manage' },
  { to: '/certification', key: 'nav.certification', role: 'partner' },
  { to: '/onboarding', key: 'nav.onboarding', permission: 'onboarding.review' },
  { to: '/rights', key: 'nav.rights', permission: ['rights.request', 'rights.approve'] },
  { to: '/status', key: 'nav.status' },
  { to: '/security', key: 'nav.security' },
];

export function App() {
  const [session, setSessionState] = useState<SessionInfo | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [locale, setLocaleState] = useState<Locale>(storedLocale);
  const [reauth, setReauth] = useState<{ resolve(): void; reject(): void } | undefined>(undefined);
  const { path, search } = useLocation();
  const t = useMemo(() => makeTranslate(locale), [locale]);
  const userLocale = useRef<string | undefined>(undefined);
  // The dev start's mail viewer (only GET /api/session says so; sign-in answers do not).
  const [devMail, setDevMail] = useState(false);

  const applySession = useCallback((next: SessionInfo) => {
    setSessionState(next);
    const user = next.user;
    // A language picked before signing in wins over the profile's, and becomes it once the
    // sign-in is complete.
    const chosen = user ? chosenBeforeSignIn() : undefined;
    if (user && chosen) {
      setLocaleState(chosen);
      userLocale.current = `${user.id}:${chosen}`;
      if (next.stage !== 'full') return;
      storage((store) => store.removeItem(LOCALE_CHOSEN_KEY));
      if (chosen !== user.locale)
        api.patch<Me>('/api/me', { locale: chosen }).then(
          (updated) => setSessionState((s) => (s ? { ...s, user: updated } : s)),
          () => undefined,
        );
      return;
    }
    // Otherwise the profile's language wins once per sign-in (and after it changes).
    const key = user ? `${user.id}:${user.locale}` : undefined;
    if (user && key !== userLocale.current) setLocaleState(user.locale);
    userLocale.current = key;
  }, []);

  const reload = useCallback(async () => {
    const next = await getSession();
    setDevMail(next.devMail === true);
    applySession(next);
    return next;
  }, [applySession]);

  useEffect(() => {
    reload().catch(setLoadError);
    setUnauthenticatedHandler(() => {
      reload().then(
        () => navigate('/login', { replace: true }),
        () => navigate('/login', { replace: true }),
      );
    });
  }, [reload]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const me = session?.user;

  const setLocale = useCallback(
    (next: Locale) => {
      setLocaleState(next);
      const signedIn = session?.stage === 'full' && me !== undefined;
      storage((store) => {
        store.setItem(LOCALE_KEY, next);
        // Picked before signing in: kept through the sign-in (see applySession).
        if (!signedIn) store.setItem(LOCALE_CHOSEN_KEY, '1');
      });
      if (signedIn && me.locale !== next) {
        api.patch<Me>('/api/me', { locale: next }).then(
          (updated) => {
            userLocale.current = `${updated.id}:${updated.locale}`;
            setSessionState((s) => (s ? { ...s, user: updated } : s));
          },
          () => undefined,
        );
      }
    },
    [session?.stage, me],
  );

  const setMe = useCallback((updated: Me) => {
    setSessionState((s) => (s ? { ...s, user: updated } : s));
    userLocale.current = `${updated.id}:${updated.locale}`;
    setLocaleState(updated.locale);
  }, []);

  const withReauth = useCallback(async <T,>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'reauth_required') throw error;
      await new Promise<void>((resolve, reject) => {
        setReauth({ resolve, reject: () => reject(error) });
      });
      return action();
    }
  }, []);

  const value = useMemo<AppContextValue | undefined>(
    () =>
      session
        ? {
            session,
            me,
            locale,
            t,
            setLocale,
            setSession: applySession,
            setMe,
            reload,
            withReauth,
            can: (permission) => me?.permissions.includes(permission) ?? false,
          }
        : undefined,
    [session, me, locale, t, setLocale, applySession, setMe, reload, withReauth],
  );

  const redirect = session ? redirectFor(session.stage, path, search.get('next')) : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  if (!value) {
    return (
      <main id="main" className="boot">
        {loadError ? (
          <div className="notice notice-error" role="alert" data-testid="error">
            <p>{describeError(t, loadError).message}</p>
            <button type="button" className="button" onClick={() => window.location.reload()}>
              {t('common.retry')}
            </button>
          </div>
        ) : (
          <p role="status">{t('common.loading')}</p>
        )}
      </main>
    );
  }

  const full = value.session.stage === 'full';

  async function signOut(): Promise<void> {
    try {
      await api.post<void>('/api/auth/logout');
    } catch {
      // Signed out anyway as far as the app is concerned; the session is re-read below.
    }
    await reload().catch(() => undefined);
    navigate('/login', { replace: true });
  }

  return (
    <AppContext.Provider value={value}>
      <a className="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      {devMail ? <DevBanner /> : null}
      <header className="topbar">
        <Link to={full ? '/' : '/login'} className="brand">
          <span className="brand-mark" aria-hidden="true">
            F
          </span>
          {t('app.name')}
        </Link>
        <div className="topbar-end">
          <fieldset className="lang-switch">
            <legend className="sr-only">{t('lang.label')}</legend>
            {(['de', 'en'] as const).map((l) => (
              <button
                key={l}
                type="button"
                lang={l}
                className="lang-button"
                aria-pressed={locale === l}
                data-testid={`lang-${l}`}
                onClick={() => setLocale(l)}
              >
                <span aria-hidden="true">{l.toUpperCase()}</span>
                <span className="sr-only">{l === 'de' ? 'Deutsch' : 'English'}</span>
              </button>
            ))}
          </fieldset>
          {me ? (
            <span className="topbar-user" data-testid="current-user">
              {me.name}
            </span>
          ) : null}
          {value.session.stage !== 'anonymous' ? (
            <button
              type="button"
              className="button-secondary button-small"
              data-testid="logout"
              onClick={() => void signOut()}
            >
              {t('nav.signOut')}
            </button>
          ) : null}
        </div>
      </header>
      <div className={full ? 'shell' : 'shell shell-plain'}>
        {full ? (
          <nav className="sidebar" aria-label={t('nav.label')}>
            <ul>
              {NAV.filter(
                (item) =>
                  (!item.role || me?.role === item.role) &&
                  (!item.permission ||
                    (typeof item.permission === 'string'
                      ? value.can(item.permission)
                      : item.permission.some((p) => value.can(p)))),
              ).map((item) => {
                const current =
                  item.to === '/'
                    ? path === '/'
                    : path === item.to || path.startsWith(`${item.to}/`);
                return (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      aria-current={current ? 'page' : undefined}
                      data-testid={`nav-${item.to === '/' ? 'dashboard' : item.to.slice(1)}`}
                    >
                      {t(item.key)}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </nav>
        ) : null}
        <main id="main" tabIndex={-1} className="content">
          {redirect ? (
            <Loading />
          ) : (
            <Suspense fallback={<Loading />}>
              <Page path={path} />
            </Suspense>
          )}
        </main>
      </div>
      {reauth ? (
        <ReauthDialog
          onDone={() => {
            setReauth(undefined);
            reauth.resolve();
          }}
          onCancel={() => {
            setReauth(undefined);
            reauth.reject();
          }}
        />
      ) : null}
    </AppContext.Provider>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/login') return <LoginPage />;
  if (path === '/enrol') return <EnrolPage />;
  if (path === '/reset') return <ResetRequestPage />;
  if (path === DEV_MAIL_PAGE) return <DevMailsPage />;
  if (path === '/') return <DashboardPage />;
  if (path === '/licenses') return <Guard permission="license.read" page={<LicensesPage />} />;
  if (path === '/users') return <Guard permission="users.read" page={<UsersPage />} />;
  if (path === '/security') return <SecurityPage />;
  if (path === '/audit') return <Guard permission="audit.read" page={<AuditPage />} />;
  if (path === '/alerts') return <Guard permission="alerts.read" page={<AlertsPage />} />;
  if (path === '/adv') return <AdvPage />;
  if (path === '/privacy') return <PrivacyPage />;
  if (path === '/status') return <StatusPage />;
  if (path === '/partner') return <Guard permission="partner.manage" page={<PartnerPage />} />;
  if (path === '/partner-signup') return <PartnerSignupPage />;
  if (path === '/certification')
    return <Guard permission="partner.manage" page={<CertificationPage />} />;
  if (path === '/onboarding')
    return <Guard permission="onboarding.review" page={<OnboardingReviewPage />} />;
  if (path === '/rights') return <RightsPage />;
  if (path === '/certificates')
    return <Guard permission="certificates.manage" page={<CertificatesPage />} />;
  const reset = match('/reset/:token', path);
  if (reset) return <ResetConfirmPage token={reset.token ?? ''} />;
  const invite = match('/invite/:token', path);
  if (invite) return <InvitePage key={invite.token} token={invite.token ?? ''} />;
  const verify = match('/partner-signup/verify/:token', path);
  if (verify) return <PartnerVerifyPage key={verify.token} token={verify.token ?? ''} />;
  const cancel = match('/privacy/cancel/:token', path);
  if (cancel) return <ErasureCancelPage token={cancel.token ?? ''} />;
  const license = match('/licenses/:id', path);
  if (license) {
    const id = license.id ?? '';
    return <Guard permission="license.read" page={<LicenseDetailPage key={id} id={id} />} />;
  }
  return <NotFound />;
}

function Guard({ permission, page }: { permission: Permission; page: ReactNode }) {
  const { t, can: allowed } = useApp();
  if (allowed(permission)) return page;
  return (
    <>
      <PageTitle title={t('forbidden.title')}>{t('forbidden.title')}</PageTitle>
      <p>{t('forbidden.text')}</p>
    </>
  );
}

function NotFound() {
  const { t, session } = useApp();
  return (
    <>
      <PageTitle title={t('notFound.title')}>{t('notFound.title')}</PageTitle>
      <p>{t('notFound.text')}</p>
      <p>
        <Link to={session.stage === 'full' ? '/' : '/login'}>{t('notFound.back')}</Link>
      </p>
    </>
  );
}
