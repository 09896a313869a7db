/** The app shell: loads the session, routes by stage, header, sidebar, re-authentication. */
import { Fragment, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { accountContract } from '../../src/features/account/contract.ts';
import { authContract } from '../../src/features/auth/contract.ts';
import type { Locale, Me, SessionInfo } from '../../src/shared/api.ts';
import { ApiError, getSession, setUnauthenticatedHandler } from './api.ts';
import { call } from './client.ts';
import { AppContext, type AppContextValue, useApp } from './context.tsx';
import { DevBanner } from './dev-banner.tsx';
import { ReauthDialog } from './features/account/reauth.tsx';
import { isLocale, makeTranslate } from './i18n.ts';
import { Link, match, navigate, useLocation } from './router.tsx';
import { mayOpen, PAGES, type PageRoute } from './routes.tsx';
import { describeError, Loading, PageTitle } from './ui.tsx';

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

/** The page of the table that `path` opens, with its parameters. */
function pageAt(path: string): { page: PageRoute; params: Record<string, string> } | undefined {
  for (const page of PAGES) {
    const params = match(page.path, path);
    if (params) return { page, params };
  }
  return undefined;
}

function isPublic(path: string): boolean {
  return pageAt(path)?.page.audience === 'public';
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
        call(accountContract.updateProfile, { body: { locale: chosen } }).then(
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
        call(accountContract.updateProfile, { body: { locale: next } }).then(
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
      await call(authContract.logout);
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
              {PAGES.filter((page) => page.nav && mayOpen(page, me)).map((page) => {
                const current =
                  page.path === '/'
                    ? path === '/'
                    : path === page.path || path.startsWith(`${page.path}/`);
                return (
                  <li key={page.path}>
                    <Link
                      to={page.path}
                      aria-current={current ? 'page' : undefined}
                      data-testid={`nav-${page.navId ?? page.path.slice(1)}`}
                    >
                      {page.nav ? t(page.nav) : null}
                      {page.NavBadge ? <page.NavBadge /> : null}
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
  const { me } = useApp();
  const found = pageAt(path);
  if (!found) return <NotFound />;
  if (!mayOpen(found.page, me)) return <Forbidden />;
  return <Fragment key={path}>{found.page.render(found.params)}</Fragment>;
}

function Forbidden() {
  const { t } = useApp();
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
