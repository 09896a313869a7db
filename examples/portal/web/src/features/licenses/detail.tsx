/** `/licenses/:id`: one license, its device, its connections and the credentials form. */
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import {
  type ConnectionRow,
  licensesContract as c,
  type LicenseRow,
} from '../../../../src/features/licenses/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import {
  Card,
  DataTable,
  Field,
  formatDate,
  formValue,
  Loading,
  Notice,
  PageTitle,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { CodeField } from './code-field.tsx';
import { licensesMessages } from './messages.ts';
import { LicenseActions, LicenseStatus, RebindCard, type RebindSecret } from './page.tsx';

export function LicenseDetailPage({ id }: { id: string }) {
  const { t: ui, locale, can } = useApp();
  const t = useMessages(licensesMessages);
  const license = useLoad(() => call(c.get, { params: { id } }).then((r) => r.license), [id]);
  useRefresh(license.reload);
  const [rebind, setRebind] = useState<RebindSecret | undefined>(undefined);
  const row = license.data;

  if (license.loading && !row) return <Loading />;
  if (!row) {
    return (
      <>
        <PageTitle title={t('detail.notFound')}>{t('detail.notFound')}</PageTitle>
        <Notice error={license.error} />
        <p>
          <Link to="/licenses">{t('detail.back')}</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <p className="breadcrumb">
        <Link to="/licenses">{t('detail.back')}</Link>
      </p>
      <PageTitle title={row.product}>{t('detail.title', { product: row.product })}</PageTitle>
      {rebind ? <RebindCard secret={rebind} onClose={() => setRebind(undefined)} /> : null}
      <Card title={t('detail.facts')}>
        <dl className="facts" data-testid="license-facts">
          <dt>{ui('field.tenant')}</dt>
          <dd>{row.tenantName}</dd>
          <dt>{ui('field.status')}</dt>
          <dd>
            <LicenseStatus license={row} />
          </dd>
          <dt>{ui('field.entitlements')}</dt>
          <dd>{row.entitlements.length > 0 ? row.entitlements.join(', ') : '–'}</dd>
          <dt>{t('detail.created')}</dt>
          <dd>{formatDate(locale, row.createdAt)}</dd>
          <dt>{ui('field.expiresAt')}</dt>
          <dd>{row.expiresAt ? formatDate(locale, row.expiresAt) : t('detail.noExpiry')}</dd>
        </dl>
        {can('license.lock') || can('license.rebind') ? (
          <LicenseActions
            license={row}
            onChanged={(changed) => license.setData(changed)}
            onRebind={setRebind}
          />
        ) : null}
      </Card>
      <DeviceCard license={row} />
      {can('credentials.read') ? <Connections license={row} /> : null}
    </>
  );
}

/**
 * Reloads every 30 s while the page is visible, and when the window regains focus: the device
 * card's "last seen" stays as current as the relay's.
 */
function useRefresh(reload: () => void): void {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, 30_000);
    window.addEventListener('focus', reload);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', reload);
    };
  }, [reload]);
}

/** "vor 3 Minuten": the time since `iso`, re-rendered every 15 s. */
function useSince(iso: string | undefined): string | undefined {
  const { locale } = useApp();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);
  if (!iso) return undefined;
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale === 'en' ? 'en-GB' : 'de-DE', {
    numeric: 'auto',
  });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(Math.min(seconds, 0), 'second');
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour');
  return format.format(Math.round(seconds / 86_400), 'day');
}

/** One optional term of a facts list: nothing at all without a value. */
function OptionalFact({
  label,
  testId,
  children,
}: {
  label: string;
  testId?: string;
  children: ReactNode;
}) {
  if (children === undefined || children === null || children === '') return null;
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </>
  );
}

/**
 * The device the license is bound to, for everyone who may see the license: whether one is
 * bound, since when, its host name and agent version (as the device reported them), and when
 * and from which address it last reached the relay. The server leaves out what the viewer may
 * not see: the address for partners, the key thumbprint for those who do not manage devices.
 */
function DeviceCard({ license }: { license: LicenseRow }) {
  const { locale } = useApp();
  const t = useMessages(licensesMessages);
  const since = useSince(license.lastSeenAt);
  const bound = license.activated && license.status !== 'rebinding';
  return (
    <Card title={t('device')}>
      <dl className="facts" data-testid="license-device" data-bound={String(bound)}>
        <dt>{t('device.state')}</dt>
        <dd data-testid="device-state">
          {bound
            ? t('device.bound')
            : license.status === 'rebinding'
              ? t('device.rebinding')
              : t('device.none')}
        </dd>
        <OptionalFact label={t('device.boundSince')}>
          {license.activatedAt ? formatDate(locale, license.activatedAt) : undefined}
        </OptionalFact>
        <OptionalFact label={t('device.hostName')} testId="device-host-name">
          {license.deviceHostName}
        </OptionalFact>
        <OptionalFact label={t('device.agentVersion')} testId="device-agent-version">
          {license.agentVersion}
        </OptionalFact>
        <OptionalFact label={t('device.lastIp')} testId="device-last-ip">
          {license.lastIp ? <code>{license.lastIp}</code> : undefined}
        </OptionalFact>
        <dt>{t('lastSeen')}</dt>
        <dd data-testid="device-last-seen" data-last-seen={license.lastSeenAt ?? ''}>
          {since ? (
            <>
              {since} <span className="hint">({formatDate(locale, license.lastSeenAt)})</span>
            </>
          ) : (
            '–'
          )}
        </dd>
        <OptionalFact label={t('device.key')}>
          {license.deviceJkt ? <code className="wrap">{license.deviceJkt}</code> : undefined}
        </OptionalFact>
      </dl>
      <p className="hint">{t('device.lastSeenHint')}</p>
    </Card>
  );
}

function Connections({ license }: { license: LicenseRow }) {
  const { t: ui, locale, can } = useApp();
  const t = useMessages(licensesMessages);
  const list = useLoad(
    () => call(c.connections, { params: { id: license.id } }).then((r) => r.connections),
    [license.id],
  );
  const [preset, setPreset] = useState<{ n: number; row?: ConnectionRow }>({ n: 0 });
  const connections = list.data ?? [];
  const writable = can('credentials.write');

  return (
    <>
      <Card title={t('connections.title')}>
        <p className="hint">{t('connections.intro')}</p>
        <DataTable
          caption={t('connections.title')}
          captionHidden
          testId="connections-table"
          rows={list.data}
          loading={list.loading}
          error={list.error}
          empty={t('connections.empty')}
          rowKey={(row) => row.connection}
          rowAttributes={(row) => ({ 'data-connection': row.connection })}
          columns={[
            {
              key: 'connection',
              header: ui('field.connection'),
              rowHeader: true,
              cell: (row) => row.connection,
            },
            { key: 'kind', header: ui('field.kind'), cell: (row) => row.kind },
            {
              key: 'fields',
              header: t('connections.fields'),
              cell: (row) => row.fieldNames.join(', '),
            },
            {
              key: 'set',
              header: t('connections.set'),
              cell: (row) => (
                <span data-testid="connection-set">
                  {t('connections.setOnBy', {
                    date: formatDate(locale, row.setAt),
                    user: row.setBy === 'device' ? t('connections.device') : row.setBy,
                  })}
                </span>
              ),
            },
            {
              key: 'hookUrl',
              header: t('connections.hookUrl'),
              cell: (row) => (
                <span data-testid="connection-hook-url">
                  {row.hookUrl ? <code>{row.hookUrl}</code> : t('connections.noHook')}
                </span>
              ),
            },
          ]}
          {...(writable && license.activated
            ? {
                actions: (row: ConnectionRow) => (
                  <Button
                    variant="secondary"
                    small
                    testId="credentials-edit"
                    onClick={() => setPreset((p) => ({ n: p.n + 1, row }))}
                  >
                    {t('connections.replace')}
                  </Button>
                ),
              }
            : {})}
        />
      </Card>
      <Card title={t('credentials.title')}>
        {!writable ? (
          <p data-testid="credentials-unavailable">{t('credentials.noPermission')}</p>
        ) : !license.activated ? (
          <p data-testid="credentials-unavailable">{t('credentials.notActivated')}</p>
        ) : (
          <CredentialsForm
            key={preset.n}
            licenseId={license.id}
            existing={connections.map((c) => c.connection)}
            {...(preset.row ? { preset: preset.row } : {})}
            onSaved={list.reload}
          />
        )}
      </Card>
    </>
  );
}

/** `CONNECTION_PATTERN` from the shared API, repeated: importing a value from it would bundle zod. */
const CONNECTION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

let rowIds = 0;

/** What one submit would store; held while the user confirms replacing stored credentials. */
interface CredentialsPut {
  connection: string;
  kind: string;
  fields: Record<string, string>;
  form: HTMLFormElement;
}

function CredentialsForm({
  licenseId,
  existing,
  preset,
  onSaved,
}: {
  licenseId: string;
  /** Connections that already have credentials: storing to one of them overwrites them. */
  existing: readonly string[];
  preset?: ConnectionRow;
  onSaved(): void;
}) {
  const { t: ui } = useApp();
  const t = useMessages(licensesMessages);
  const action = useAction();
  const initial = preset && preset.fieldNames.length > 0 ? preset.fieldNames : [''];
  const [rows, setRows] = useState(() => initial.map((name) => ({ id: ++rowIds, name })));
  // Replacing is irreversible (the old values are never shown, so they cannot be re-entered):
  // the first submit only asks, the confirm button stores.
  const [pending, setPending] = useState<CredentialsPut | undefined>(undefined);

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const form = event.currentTarget;
    const connection = formValue(form, 'connection');
    const names = [...form.querySelectorAll<HTMLInputElement>('input[name="fieldName"]')];
    const values = [...form.querySelectorAll<HTMLInputElement>('input[name="fieldValue"]')];
    const fields: Record<string, string> = {};
    names.forEach((input, i) => {
      const name = input.value.trim();
      if (name) fields[name] = values[i]?.value ?? '';
    });
    if (!CONNECTION_PATTERN.test(connection)) {
      action.setError(t('credentials.connectionInvalid'));
      return;
    }
    const put = { connection, kind: formValue(form, 'kind'), fields, form };
    if (existing.includes(connection)) {
      action.setError(undefined);
      action.setStatus(undefined);
      setPending(put);
      return;
    }
    void store(put);
  }

  async function store({ connection, kind, fields, form }: CredentialsPut): Promise<void> {
    const ok = await action.run(
      () =>
        call(c.putCredentials, {
          params: { id: licenseId, connection },
          body: { kind, fields },
        }).then(() => true),
      t('credentials.saved', { connection }),
    );
    if (ok) {
      setPending(undefined);
      for (const input of form.querySelectorAll<HTMLInputElement>('input[name="fieldValue"]')) {
        input.value = '';
      }
      onSaved();
    }
  }

  return (
    // Any edit while asking drops the question: the confirm must store what was asked about.
    <form onSubmit={submit} onChange={() => setPending(undefined)} data-testid="credentials-form">
      <p className="hint">{t('credentials.intro')}</p>
      <div className="form-grid">
        {(
          [
            ['connection', ui('field.connection'), '[a-z0-9][a-z0-9\\-]{0,62}', 'connectionHint'],
            ['kind', ui('field.kind'), '[a-z][a-z0-9\\-]{0,40}', 'kindHint'],
          ] as const
        ).map(([name, label, pattern, hint]) => (
          <CodeField
            key={name}
            label={label}
            name={name}
            required
            defaultValue={preset?.[name] ?? ''}
            pattern={pattern}
            hint={t(`credentials.${hint}`)}
          />
        ))}
      </div>
      <fieldset className="field-rows">
        <legend>{t('credentials.fields')}</legend>
        {rows.map((row, i) => (
          <div className="field-row" key={row.id} data-testid="credentials-field-row">
            <CodeField
              label={t('credentials.fieldName', { n: i + 1 })}
              name="fieldName"
              required
              defaultValue={row.name}
              pattern="[a-zA-Z][a-zA-Z0-9_\-]{0,40}"
              autoComplete="off"
            />
            <Field
              label={t('credentials.fieldValue', { n: i + 1 })}
              name="fieldValue"
              type="password"
              required
              maxLength={4096}
              autoComplete="new-password"
            />
            {rows.length > 1 ? (
              <Button
                variant="secondary"
                small
                testId="credentials-remove-field"
                onClick={() => setRows((r) => r.filter((x) => x.id !== row.id))}
              >
                {t('credentials.removeField', { n: i + 1 })}
              </Button>
            ) : null}
          </div>
        ))}
        {rows.length < 20 ? (
          <Button
            variant="secondary"
            small
            testId="credentials-add-field"
            onClick={() => setRows((r) => [...r, { id: ++rowIds, name: '' }])}
          >
            {t('credentials.addField')}
          </Button>
        ) : null}
      </fieldset>
      <p className="hint">{t('credentials.neverShown')}</p>
      <Notice error={action.error} status={action.status} />
      {pending ? (
        <div className="inline-form" data-testid="credentials-replace-confirm">
          <p role="alert">{t('credentials.replaceQuestion', { connection: pending.connection })}</p>
          <div className="actions">
            <Button
              variant="danger"
              small
              testId="credentials-replace"
              disabled={action.busy}
              onClick={() => void store(pending)}
            >
              {t('credentials.replaceConfirm')}
            </Button>
            <Button
              variant="secondary"
              small
              testId="credentials-replace-cancel"
              onClick={() => setPending(undefined)}
            >
              {ui('common.cancel')}
            </Button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <Button type="submit" testId="credentials-save" disabled={action.busy}>
            {t('credentials.save')}
          </Button>
        </div>
      )}
    </form>
  );
}
