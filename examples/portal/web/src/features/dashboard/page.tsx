/** `/`: greeting, where the user stands, licenses by status, shortcuts. */

import { advContract } from '../../../../src/features/adv/contract.ts';
import { licensesContract } from '../../../../src/features/licenses/contract.ts';
import { call } from '../../client.ts';
import { useApp, useMe } from '../../context.tsx';
import { statusLabel } from '../../labels.ts';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import { Card, Loading, Notice, PageTitle, useLoad } from '../../ui.tsx';
import { DashboardAlertsLink } from '../alerts/open-count.tsx';
import { TlsIndicator } from '../status/page.tsx';
import { dashboardMessages } from './messages.ts';

const ORDER = ['active', 'issued', 'locked', 'expired'];

export function DashboardPage() {
  const { t: ui, can } = useApp();
  const t = useMessages(dashboardMessages);
  const me = useMe();
  const licenses = useLoad(
    () =>
      can('license.read')
        ? call(licensesContract.list).then((r) => r.licenses)
        : Promise.resolve([]),
    [],
  );
  // The data-processing agreement: a banner when the tenant has not accepted the current version.
  const adv = useLoad(() => call(advContract.status).catch(() => ({ needsAcceptance: false })), []);
  const counts = new Map<string, number>();
  for (const license of licenses.data ?? [])
    counts.set(license.status, (counts.get(license.status) ?? 0) + 1);
  const statuses = [...ORDER, ...[...counts.keys()].filter((s) => !ORDER.includes(s))];

  return (
    <>
      <PageTitle title={t('title')}>{ui('dashboard.hello', { name: me.name })}</PageTitle>
      <p className="lead" data-testid="dashboard-context">
        {t('context', { tenant: me.tenant.name, role: ui(`role.${me.role}`) })}
      </p>
      {adv.data?.needsAcceptance ? (
        <div className="notice notice-warn" data-testid="adv-needed">
          <p>{t('advNeeded')}</p>
          <Link to="/adv">{ui('nav.adv')}</Link>
        </div>
      ) : null}
      {me.recoveryCodesLeft < 3 ? (
        <div className="notice notice-warn" data-testid="recovery-low">
          <p>{t('recoveryLow', { n: me.recoveryCodesLeft })}</p>
          <Link to="/security">{ui('nav.security')}</Link>
        </div>
      ) : null}
      {me.factors.length < 2 ? (
        <div className="notice notice-info">
          <p>{t('secondFactor')}</p>
          <Link to="/security">{t('addFactor')}</Link>
        </div>
      ) : null}
      {can('license.read') ? (
        <Card title={t('licenses')}>
          {licenses.loading ? <Loading /> : null}
          <Notice error={licenses.error} />
          {licenses.data ? (
            <ul className="stats">
              <li className="stat" data-testid="count-total">
                <span className="stat-value">{licenses.data.length}</span>
                <span className="stat-label">{t('total')}</span>
              </li>
              {statuses.map((status) => (
                <li key={status} className={`stat stat-${status}`} data-testid={`count-${status}`}>
                  <span className="stat-value">{counts.get(status) ?? 0}</span>
                  <span className="stat-label">{statusLabel(ui, status)}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </Card>
      ) : null}
      <TlsIndicator />
      <Card title={t('shortcuts')}>
        <ul className="shortcuts">
          {can('license.read') ? (
            <li>
              <Link to="/licenses">{ui('nav.licenses')}</Link>
              <span className="hint">{t('licensesHint')}</span>
            </li>
          ) : null}
          {can('users.read') ? (
            <li>
              <Link to="/users">{ui('nav.users')}</Link>
              <span className="hint">{t('usersHint')}</span>
            </li>
          ) : null}
          {can('audit.read') ? (
            <li>
              <Link to="/audit">{ui('nav.audit')}</Link>
              <span className="hint">{t('auditHint')}</span>
            </li>
          ) : null}
          {can('alerts.read') ? (
            <li>
              <Link to="/alerts">{ui('nav.alerts')}</Link>
              <span className="hint">{t('alertsHint')}</span>
              <DashboardAlertsLink />
            </li>
          ) : null}
          <li>
            <Link to="/security">{ui('nav.security')}</Link>
            <span className="hint">{t('securityHint')}</span>
          </li>
        </ul>
      </Card>
    </>
  );
}
