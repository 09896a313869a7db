/** `/`: greeting, where the user stands, licenses by status, shortcuts. */
import type { LicenseRow } from '../../../src/shared/api.ts';
import { api } from '../api.ts';
import { useApp, useMe } from '../context.tsx';
import { DashboardAlertsLink } from '../features/alerts/open-count.tsx';
import { statusLabel } from '../labels.ts';
import { Link } from '../router.tsx';
import { Card, Loading, Notice, PageTitle, useLoad } from '../ui.tsx';
import { TlsIndicator } from './status.tsx';

const ORDER = ['active', 'issued', 'locked', 'expired'];

export function DashboardPage() {
  const { t, can } = useApp();
  const me = useMe();
  const licenses = useLoad(
    () =>
      can('license.read')
        ? api.get<{ licenses: LicenseRow[] }>('/api/licenses').then((r) => r.licenses)
        : Promise.resolve([]),
    [],
  );
  // The data-processing agreement: a banner when the tenant has not accepted the current version.
  const adv = useLoad(
    () =>
      api
        .get<{ needsAcceptance: boolean; currentVersion?: string }>('/api/adv/status')
        .catch(() => ({ needsAcceptance: false })),
    [],
  );
  const counts = new Map<string, number>();
  for (const license of licenses.data ?? [])
    counts.set(license.status, (counts.get(license.status) ?? 0) + 1);
  const statuses = [...ORDER, ...[...counts.keys()].filter((s) => !ORDER.includes(s))];

  return (
    <>
      <PageTitle title={t('dashboard.title')}>{t('dashboard.hello', { name: me.name })}</PageTitle>
      <p className="lead" data-testid="dashboard-context">
        {t('dashboard.context', { tenant: me.tenant.name, role: t(`role.${me.role}`) })}
      </p>
      {adv.data?.needsAcceptance ? (
        <div className="notice notice-warn" data-testid="adv-needed">
          <p>{t('dashboard.advNeeded')}</p>
          <Link to="/adv">{t('nav.adv')}</Link>
        </div>
      ) : null}
      {me.recoveryCodesLeft < 3 ? (
        <div className="notice notice-warn" data-testid="recovery-low">
          <p>{t('dashboard.recoveryLow', { n: me.recoveryCodesLeft })}</p>
          <Link to="/security">{t('nav.security')}</Link>
        </div>
      ) : null}
      {me.factors.length < 2 ? (
        <div className="notice notice-info">
          <p>{t('dashboard.secondFactor')}</p>
          <Link to="/security">{t('dashboard.addFactor')}</Link>
        </div>
      ) : null}
      {can('license.read') ? (
        <Card title={t('dashboard.licenses')}>
          {licenses.loading ? <Loading /> : null}
          <Notice error={licenses.error} />
          {licenses.data ? (
            <ul className="stats">
              <li className="stat" data-testid="count-total">
                <span className="stat-value">{licenses.data.length}</span>
                <span className="stat-label">{t('dashboard.total')}</span>
              </li>
              {statuses.map((status) => (
                <li key={status} className={`stat stat-${status}`} data-testid={`count-${status}`}>
                  <span className="stat-value">{counts.get(status) ?? 0}</span>
                  <span className="stat-label">{statusLabel(t, status)}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </Card>
      ) : null}
      <TlsIndicator />
      <Card title={t('dashboard.shortcuts')}>
        <ul className="shortcuts">
          {can('license.read') ? (
            <li>
              <Link to="/licenses">{t('nav.licenses')}</Link>
              <span className="hint">{t('dashboard.licensesHint')}</span>
            </li>
          ) : null}
          {can('users.read') ? (
            <li>
              <Link to="/users">{t('nav.users')}</Link>
              <span className="hint">{t('dashboard.usersHint')}</span>
            </li>
          ) : null}
          {can('audit.read') ? (
            <li>
              <Link to="/audit">{t('nav.audit')}</Link>
              <span className="hint">{t('dashboard.auditHint')}</span>
            </li>
          ) : null}
          {can('alerts.read') ? (
            <li>
              <Link to="/alerts">{t('nav.alerts')}</Link>
              <span className="hint">{t('dashboard.alertsHint')}</span>
              <DashboardAlertsLink />
            </li>
          ) : null}
          <li>
            <Link to="/security">{t('nav.security')}</Link>
            <span className="hint">{t('dashboard.securityHint')}</span>
          </li>
        </ul>
      </Card>
    </>
  );
}
