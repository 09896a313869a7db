/** The partner page's delivery log: status, attempts, why the last one failed; redeliver. */
import {
  partnerContract as c,
  type DeliveryRow,
} from '../../../../src/features/partner/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Badge, Card, DataTable, formatDate, Notice, useAction, useLoad } from '../../ui.tsx';
import { partnerLabel, partnerMessages } from './messages.ts';

const STATUS_TONE: Record<DeliveryRow['status'], 'ok' | 'warn' | 'bad' | 'neutral'> = {
  pending: 'warn',
  delivering: 'neutral',
  delivered: 'ok',
  failed: 'bad',
};

export function DeliveryLog() {
  const t = useMessages(partnerMessages);
  const { locale } = useApp();
  const list = useLoad(
    () => call(c.deliveries, { query: { limit: 200 } }).then((r) => r.deliveries),
    [],
  );
  const action = useAction();

  async function redeliver(d: DeliveryRow): Promise<void> {
    const ok = await action.run(
      () => call(c.redeliver, { params: { id: d.id } }),
      t('logRedelivered'),
    );
    if (ok) list.reload();
  }

  return (
    <Card title={t('logTitle')}>
      <div className="actions">
        <Button variant="secondary" small onClick={() => list.reload()}>
          {t('logRefresh')}
        </Button>
      </div>
      <Notice error={action.error} status={action.status} />
      <DataTable
        caption={t('logCaption')}
        captionHidden
        testId="partner-deliveries"
        source={list}
        empty={t('logEmpty')}
        rowKey={(d) => d.id}
        rowAttributes={(d) => ({ 'data-delivery-id': d.id, 'data-status': d.status })}
        actionsHeader={t('actions')}
        columns={[
          {
            key: 'event',
            header: t('logEvent'),
            rowHeader: true,
            cell: (d) => (
              <>
                {partnerLabel(t, 'event', d.eventType)}
                <span className="hint block">
                  <code>{d.eventId}</code>
                </span>
              </>
            ),
          },
          { key: 'tenant', header: t('tenant'), cell: (d) => d.tenantId },
          {
            key: 'status',
            header: t('logStatus'),
            cell: (d) => (
              <Badge tone={STATUS_TONE[d.status]}>{partnerLabel(t, 'status', d.status)}</Badge>
            ),
          },
          { key: 'attempts', header: t('logAttempts'), cell: (d) => d.attempts },
          { key: 'last', header: t('logLast'), cell: (d) => formatDate(locale, d.lastAttemptAt) },
          { key: 'next', header: t('logNext'), cell: (d) => formatDate(locale, d.nextAttemptAt) },
          {
            key: 'result',
            header: t('logResult'),
            cell: (d) => (
              <>
                {d.lastStatus !== undefined ? `HTTP ${d.lastStatus}` : ''}
                {/* The stable reason in words; the technical `lastError` stays off the page. */}
                {d.lastError ? (
                  <span className="hint block" data-reason={d.lastErrorReason ?? 'failed'}>
                    {partnerLabel(t, 'deliveryError', d.lastErrorReason ?? 'failed')}
                  </span>
                ) : null}
              </>
            ),
          },
        ]}
        actions={(d) => (
          <Button
            variant="secondary"
            small
            testId="delivery-redeliver"
            disabled={action.busy}
            onClick={() => void redeliver(d)}
          >
            {t('logRedeliver')}
          </Button>
        )}
      />
    </Card>
  );
}
