/**
 * `/partner`: API clients (OAuth2 client credentials; the secret is shown once), webhook
 * subscriptions (the signing secret is shown once; pause, test, delete) and the delivery log
 * with manual redelivery. Partners see their own tenant, administrators every tenant.
 */
import { partnerContract as c } from '../../../../src/features/partner/contract.ts';
import { call } from '../../client.ts';
import { useMessages } from '../../messages.ts';
import { Loading, Notice, PageTitle, useLoad } from '../../ui.tsx';
import { ClientsCard } from './clients.tsx';
import { DeliveryLog } from './deliveries.tsx';
import { partnerMessages } from './messages.ts';
import { SubscriptionsCard } from './subscriptions.tsx';

export function PartnerPage() {
  const t = useMessages(partnerMessages);
  const meta = useLoad(() => call(c.meta), []);
  return (
    <>
      <PageTitle title={t('title')}>{t('title')}</PageTitle>
      <p className="lead">{t('intro')}</p>
      {meta.loading && !meta.data ? <Loading /> : null}
      <Notice error={meta.error} />
      {meta.data ? (
        <>
          <ClientsCard meta={meta.data} />
          <SubscriptionsCard meta={meta.data} />
          <DeliveryLog />
        </>
      ) : null}
    </>
  );
}
