/** The security page's session list: where the user is signed in, and ending one of them. */
import { useEffect } from 'react';
import {
  accountContract as c,
  type SessionRow,
} from '../../../../src/features/account/contract.ts';
import { ConfirmButton } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Badge, Card, DataTable, Notice, useAction, useLoad } from '../../ui.tsx';
import { dateColumnsFor } from './date-column.ts';
import { accountMessages } from './messages.ts';

/** Kept current: reloaded after a password change and whenever the page is shown again. */
export function Sessions({ passwordChanges }: { passwordChanges: number }) {
  const { locale } = useApp();
  const t = useMessages(accountMessages);
  const list = useLoad(() => call(c.sessions).then((r) => r.sessions), [passwordChanges]);
  const { reload } = list;
  useEffect(() => {
    const shown = () => {
      if (document.visibilityState === 'visible') reload();
    };
    document.addEventListener('visibilitychange', shown);
    return () => document.removeEventListener('visibilitychange', shown);
  }, [reload]);
  const action = useAction();
  const dateColumn = dateColumnsFor<SessionRow>(locale);

  // Ending signs someone out at once: the row's button only asks, the confirm ends it.
  async function end(row: SessionRow): Promise<void> {
    const ok = await action.run(
      () => call(c.endSession, { params: { id: row.id } }).then(() => true),
      t('sessions.ended'),
    );
    if (ok) list.reload();
  }

  return (
    <Card title={t('sessions.title')}>
      <p className="hint">{t('sessions.intro')}</p>
      <Notice error={action.error} status={action.status} />
      <DataTable
        caption={t('sessions.title')}
        captionHidden
        testId="sessions-table"
        source={list}
        rowKey={(row) => row.id}
        rowAttributes={(row) =>
          row.current
            ? { 'data-session-id': row.id, 'data-current': 'true' }
            : { 'data-session-id': row.id }
        }
        empty={t('sessions.none')}
        columns={[
          {
            key: 'device',
            header: t('sessions.device'),
            rowHeader: true,
            cell: (row) => (
              <>
                <span className="ua" title={row.userAgent}>
                  {row.userAgent || '–'}
                </span>
                {row.current ? (
                  <>
                    {' '}
                    <Badge tone="ok">{t('sessions.current')}</Badge>
                  </>
                ) : null}
              </>
            ),
          },
          { key: 'ip', header: t('sessions.ip'), cell: (row) => row.ip },
          dateColumn('created', t('sessions.created'), (row) => row.createdAt),
          dateColumn('lastSeen', t('sessions.lastSeen'), (row) => row.lastSeenAt),
          dateColumn('expires', t('sessions.expires'), (row) => row.expiresAt),
        ]}
        actions={(row) =>
          row.current ? (
            <span className="hint">{t('sessions.thisOne')}</span>
          ) : (
            <ConfirmButton
              testId="session-end"
              label={t('sessions.end')}
              question={t('sessions.endQuestion')}
              confirm={t('sessions.endConfirm')}
              busy={action.busy}
              onConfirm={() => end(row)}
            />
          )
        }
      />
    </Card>
  );
}
