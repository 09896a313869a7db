/**
 * The app's pages, once: each entry's path, who may open it, its navigation label and its
 * lazily loaded page. The shell (app.tsx) derives from this table which pages are public, the
 * sidebar, the guards and what to render — so a page's facts cannot disagree between them.
 */
import { type ComponentType, lazy, type ReactNode } from 'react';
import { DEV_MAIL_PAGE } from '../../src/shared/dev-mail.ts';
import type { Permission, Role } from '../../src/shared/permissions.ts';
import { NavAlertsBadge } from './features/alerts/open-count.tsx';
import { LoginPage } from './features/auth/login.tsx';
import type { MessageKey } from './i18n.ts';

const named =
  <K extends string>(key: K) =>
  <M extends Record<K, ComponentType<never>>>(m: M) => ({ default: m[key] });

const EnrolPage = lazy(() => import('./features/auth/enrol.tsx').then(named('EnrolPage')));
const InvitePage = lazy(() => import('./features/auth/invite.tsx').then(named('InvitePage')));
const ResetRequestPage = lazy(() =>
  import('./features/auth/reset.tsx').then(named('ResetRequestPage')),
);
const ResetConfirmPage = lazy(() =>
  import('./features/auth/reset.tsx').then(named('ResetConfirmPage')),
);
const DashboardPage = lazy(() =>
  import('./features/dashboard/page.tsx').then(named('DashboardPage')),
);
const LicensesPage = lazy(() => import('./features/licenses/page.tsx').then(named('LicensesPage')));
const LicenseDetailPage = lazy(() =>
  import('./features/licenses/detail.tsx').then(named('LicenseDetailPage')),
);
const UsersPage = lazy(() => import('./features/users/page.tsx').then(named('UsersPage')));
const SecurityPage = lazy(() => import('./features/account/page.tsx').then(named('SecurityPage')));
const AuditPage = lazy(() => import('./features/audit/page.tsx').then(named('AuditPage')));
const AlertsPage = lazy(() => import('./features/alerts/page.tsx').then(named('AlertsPage')));
const AdvPage = lazy(() => import('./features/adv/page.tsx').then(named('AdvPage')));
const PrivacyPage = lazy(() => import('./features/privacy/page.tsx').then(named('PrivacyPage')));
const ErasureCancelPage = lazy(() =>
  import('./features/privacy/page.tsx').then(named('ErasureCancelPage')),
);
const StatusPage = lazy(() => import('./features/status/page.tsx').then(named('StatusPage')));
const PartnerPage = lazy(() => import('./features/partner/page.tsx').then(named('PartnerPage')));
const PartnerSignupPage = lazy(() =>
  import('./features/onboarding/signup.tsx').then(named('PartnerSignupPage')),
);
const PartnerVerifyPage = lazy(() =>
  import('./features/onboarding/signup.tsx').then(named('PartnerVerifyPage')),
);
const OnboardingReviewPage = lazy(() =>
  import('./features/onboarding/review.tsx').then(named('OnboardingReviewPage')),
);
const CertificationPage = lazy(() =>
  import('./features/onboarding/certification.tsx').then(named('CertificationPage')),
);
const RightsPage = lazy(() => import('./features/rights/page.tsx').then(named('RightsPage')));
const CertificatesPage = lazy(() =>
  import('./features/certificates/page.tsx').then(named('CertificatesPage')),
);
const DevMailsPage = lazy(() => import('./features/dev-mail/page.tsx').then(named('DevMailsPage')));

/** Who a page is for. */
export type Audience =
  /** Anyone, signed in or not (reset links, status, partner sign-up). */
  | 'public'
  /** Only before the sign-in is complete (the sign-in page itself). */
  | 'sign-in'
  /** Only while a second factor must be set up. */
  | 'enrol'
  /** Signed-in users (stage `full`), further limited by `permission` and `role`. */
  | 'member';

export interface PageRoute {
  /** A path pattern; `:name` is a parameter handed to `render`. */
  readonly path: string;
  readonly audience: Audience;
  /** Needed to see the page and its navigation entry; several: any of them. */
  readonly permission?: Permission | readonly Permission[];
  /** Only this role sees the page and its navigation entry. */
  readonly role?: Role;
  /** The sidebar label; pages without one are not in the navigation. */
  readonly nav?: MessageKey;
  /** Shown beside the navigation label (the open-alert count). */
  readonly NavBadge?: ComponentType;
  /** The `data-testid` of the navigation link (`nav-<name>`). */
  readonly navId?: string;
  readonly render: (params: Readonly<Record<string, string>>) => ReactNode;
}

const param = (params: Readonly<Record<string, string>>, name: string): string =>
  new Map(Object.entries(params)).get(name) ?? '';

/** The pages, in navigation order. */
export const PAGES: readonly PageRoute[] = [
  { path: '/login', audience: 'sign-in', render: () => <LoginPage /> },
  { path: '/enrol', audience: 'enrol', render: () => <EnrolPage /> },
  { path: '/reset', audience: 'public', render: () => <ResetRequestPage /> },
  {
    path: '/reset/:token',
    audience: 'public',
    render: (p) => <ResetConfirmPage token={param(p, 'token')} />,
  },
  {
    path: '/invite/:token',
    audience: 'public',
    render: (p) => <InvitePage token={param(p, 'token')} />,
  },
  {
    path: '/privacy/cancel/:token',
    audience: 'public',
    render: (p) => <ErasureCancelPage token={param(p, 'token')} />,
  },
  { path: '/partner-signup', audience: 'public', render: () => <PartnerSignupPage /> },
  {
    path: '/partner-signup/verify/:token',
    audience: 'public',
    render: (p) => <PartnerVerifyPage token={param(p, 'token')} />,
  },
  { path: DEV_MAIL_PAGE, audience: 'public', render: () => <DevMailsPage /> },
  {
    path: '/',
    audience: 'member',
    nav: 'nav.dashboard',
    navId: 'dashboard',
    render: () => <DashboardPage />,
  },
  {
    path: '/licenses',
    audience: 'member',
    permission: 'license.read',
    nav: 'nav.licenses',
    render: () => <LicensesPage />,
  },
  {
    path: '/licenses/:id',
    audience: 'member',
    permission: 'license.read',
    render: (p) => <LicenseDetailPage id={param(p, 'id')} />,
  },
  {
    path: '/users',
    audience: 'member',
    permission: 'users.read',
    nav: 'nav.users',
    render: () => <UsersPage />,
  },
  {
    path: '/audit',
    audience: 'member',
    permission: 'audit.read',
    nav: 'nav.audit',
    render: () => <AuditPage />,
  },
  {
    path: '/alerts',
    audience: 'member',
    permission: 'alerts.read',
    nav: 'nav.alerts',
    NavBadge: NavAlertsBadge,
    render: () => <AlertsPage />,
  },
  { path: '/adv', audience: 'member', nav: 'nav.adv', render: () => <AdvPage /> },
  { path: '/privacy', audience: 'member', nav: 'nav.privacy', render: () => <PrivacyPage /> },
  {
    path: '/certificates',
    audience: 'member',
    permission: 'certificates.manage',
    nav: 'nav.certificates',
    render: () => <CertificatesPage />,
  },
  {
    path: '/partner',
    audience: 'member',
    permission: 'partner.manage',
    nav: 'nav.partner',
    render: () => <PartnerPage />,
  },
  {
    path: '/certification',
    audience: 'member',
    permission: 'partner.manage',
    role: 'partner',
    nav: 'nav.certification',
    render: () => <CertificationPage />,
  },
  {
    path: '/onboarding',
    audience: 'member',
    permission: 'onboarding.review',
    nav: 'nav.onboarding',
    render: () => <OnboardingReviewPage />,
  },
  {
    path: '/rights',
    audience: 'member',
    permission: ['rights.request', 'rights.approve'],
    nav: 'nav.rights',
    render: () => <RightsPage />,
  },
  // Public, but listed for signed-in users too.
  { path: '/status', audience: 'public', nav: 'nav.status', render: () => <StatusPage /> },
  { path: '/security', audience: 'member', nav: 'nav.security', render: () => <SecurityPage /> },
];

/** Whether a user with these permissions and role may open `page`. */
export function mayOpen(
  page: PageRoute,
  user: { readonly role: Role; readonly permissions: readonly Permission[] } | undefined,
): boolean {
  if (page.audience !== 'member') return true;
  if (!user) return false;
  if (page.role && user.role !== page.role) return false;
  if (!page.permission) return true;
  const needed = typeof page.permission === 'string' ? [page.permission] : page.permission;
  return needed.some((p) => user.permissions.includes(p));
}
