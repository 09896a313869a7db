/** `/alerts` (administrators): security alerts from the audit trail. */
import type { AuditRow } from '../../../src/shared/api.ts';
import { api } from '../api.ts';
import { useApp } from '../context.tsx';
import { Card, Loading, Notice, PageTitle, useLoad } from '../ui.tsx';
import { AuditTable } from './audit.tsx';

export function AlertsPage() {
  const { t } = useApp();
  const list = useLoad(
    () => api.get<{ alerts: AuditRow[] }>('/api/alerts').then((r) => r.alerts),
    [],
  );
  return (
    <>
      <PageTitle title={t('alerts.title')}>{t('alerts.title')}</PageTitle>
      <p className="lead">{t('alerts.intro')}</p>
      <Card>
        {list.loading && !list.data ? <Loading /> : null}
        <Notice error={list.error} />
        {list.data && list.data.length === 0 ? (
          <p data-testid="alerts-empty">{t('alerts.empty')}</p>
        ) : null}
        {list.data && list.data.length > 0 ? (
          <AuditTable events={list.data} testId="alerts-table" />
        ) : null}
        <div className="actions">
          <button
            type="button"
            className="button-secondary"
            data-testid="alerts-refresh"
            onClick={list.reload}
          >
            {t('common.refresh')}
          </button>
        </div>
      </Card>
    </>
  );
}
