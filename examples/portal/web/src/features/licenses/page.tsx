/** `/licenses`: the licenses in scope; administrators create, lock, unlock and rebind. */
import { type FormEvent, useState } from 'react';
import {
  licensesContract as c,
  type LicenseRow,
} from '../../../../src/features/licenses/contract.ts';
import { tenantsContract } from '../../../../src/features/tenants/contract.ts';
import { Button } from '../../actions.tsx';
import { call } from '../../client.ts';
import { useApp } from '../../context.tsx';
import { statusLabel, statusTone } from '../../labels.ts';
import { useMessages } from '../../messages.ts';
import { Link } from '../../router.tsx';
import {
  Badge,
  Card,
  DataTable,
  Field,
  formatDate,
  formValue,
  Notice,
  OneTimeSecret,
  PageTitle,
  SelectField,
  useAction,
  useLoad,
} from '../../ui.tsx';
import { CodeField } from './code-field.tsx';
import { licensesMessages } from './messages.ts';

export interface RebindSecret {
  readonly product: string;
  readonly rebindCode: string;
  readonly expiresAt: string;
}

export function LicensesPage() {
  const { t: ui, can, locale } = useApp();
  const t = useMessages(licensesMessages);
  const list = useLoad(() => call(c.list).then((r) => r.licenses), []);
  const [created, setCreated] = useState<{ license: LicenseRow; licenseKey: string } | undefined>(
    undefined,
  );
  const [rebind, setRebind] = useState<RebindSecret | undefined>(undefined);
  const licenses = list.data ?? [];
  const showDevice = licenses.some((l) => l.deviceJkt);
  const showActions = can('license.lock') || can('license.rebind');

  function replace(row: LicenseRow): void {
    list.setData((rows) => rows?.map((r) => (r.id === row.id ? row : r)));
  }

  return (
    <>
      <PageTitle title={t('title')}>{t('title')}</PageTitle>
      <p className="lead">{t('intro')}</p>
      {created ? (
        <Card
          title={t('createdTitle', { product: created.license.product })}
          className="card-highlight"
        >
          <OneTimeSecret testId="license-key" label={t('key')} value={created.licenseKey} />
          <Button variant="secondary" onClick={() => setCreated(undefined)}>
            {ui('common.done')}
          </Button>
        </Card>
      ) : null}
      {rebind ? <RebindCard secret={rebind} onClose={() => setRebind(undefined)} /> : null}
      <Card title={t('listTitle')}>
        <DataTable
          caption={t('listTitle')}
          captionHidden
          testId="licenses-table"
          rows={list.data}
          loading={list.loading}
          error={list.error}
          empty={t('empty')}
          rowKey={(license) => license.id}
          rowAttributes={(license) => ({
            'data-license-id': license.id,
            'data-product': license.product,
          })}
          columns={[
            {
              key: 'product',
              header: ui('field.product'),
              rowHeader: true,
              cell: (license) => (
                <>
                  <Link to={`/licenses/${encodeURIComponent(license.id)}`}>{license.product}</Link>
                  {/* Licenses of one product look alike: the id's end and the issue date
                      tell them apart. */}
                  <span className="hint block" data-testid="license-ref">
                    {t('ref', {
                      id: license.id.slice(-6),
                      date: formatDate(locale, license.createdAt),
                    })}
                  </span>
                </>
              ),
            },
            { key: 'tenant', header: ui('field.tenant'), cell: (license) => license.tenantName },
            {
              key: 'status',
              header: ui('field.status'),
              cell: (license) => <LicenseStatus license={license} />,
            },
            {
              key: 'activated',
              header: t('activated'),
              cell: (license) =>
                license.activated ? formatDate(locale, license.activatedAt) : t('notActivated'),
            },
            {
              key: 'lastSeen',
              header: t('lastSeen'),
              cell: (license) => formatDate(locale, license.lastSeenAt),
            },
            ...(showDevice
              ? [
                  {
                    key: 'device',
                    header: t('device'),
                    cell: (license: LicenseRow) =>
                      license.deviceJkt ? (
                        <code className="mono-short" title={license.deviceJkt}>
                          {license.deviceJkt.slice(0, 12)}…
                        </code>
                      ) : (
                        '–'
                      ),
                  },
                ]
              : []),
          ]}
          {...(showActions
            ? {
                actions: (license: LicenseRow) => (
                  <LicenseActions license={license} onChanged={replace} onRebind={setRebind} />
                ),
              }
            : {})}
        />
      </Card>
      {can('license.create') ? (
        <CreateLicense
          onCreated={(result) => {
            setCreated(result);
            list.reload();
          }}
        />
      ) : null}
    </>
  );
}

export function LicenseStatus({ license }: { license: LicenseRow }) {
  const { t: ui } = useApp();
  return (
    <span data-testid="license-status" data-status={license.status}>
      <Badge tone={statusTone(license.status)}>{statusLabel(ui, license.status)}</Badge>
      {license.lockedReason ? <span className="hint block">{license.lockedReason}</span> : null}
    </span>
  );
}

export function RebindCard({ secret, onClose }: { secret: RebindSecret; onClose(): void }) {
  const { t: ui, locale } = useApp();
  const t = useMessages(licensesMessages);
  return (
    <Card title={t('rebindTitle', { product: secret.product })} className="card-highlight">
      <OneTimeSecret
        testId="rebind-code"
        label={t('rebindCode')}
        value={secret.rebindCode}
        note={t('rebindNote', { date: formatDate(locale, secret.expiresAt) })}
      />
      <Button variant="secondary" onClick={onClose}>
        {ui('common.done')}
      </Button>
    </Card>
  );
}

/** Lock (with a reason) / unlock / rebind for one license. */
export function LicenseActions({
  license,
  onChanged,
  onRebind,
}: {
  license: LicenseRow;
  onChanged(row: LicenseRow): void;
  onRebind(secret: RebindSecret): void;
}) {
  const { t: ui, can } = useApp();
  const t = useMessages(licensesMessages);
  const action = useAction();
  const [locking, setLocking] = useState(false);
  const params = { id: license.id };

  async function lock(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const reason = formValue(event.currentTarget, 'reason');
    const row = await action.run(() => call(c.lock, { params, body: { reason } }));
    if (row) {
      setLocking(false);
      onChanged(row);
    }
  }

  async function unlock(): Promise<void> {
    const row = await action.run(() => call(c.unlock, { params }));
    if (row) onChanged(row);
  }

  async function rebind(): Promise<void> {
    const result = await action.run(() => call(c.rebind, { params }));
    if (result) onRebind({ product: license.product, ...result });
  }

  return (
    <div className="row-actions">
      {can('license.lock') && license.status === 'locked' ? (
        <Button
          variant="secondary"
          small
          testId="license-unlock"
          disabled={action.busy}
          onClick={() => void unlock()}
        >
          {t('unlock')}
        </Button>
      ) : null}
      {can('license.lock') && license.status !== 'locked' && !locking ? (
        <Button
          variant="secondary"
          small
          testId="license-lock-open"
          aria-expanded={false}
          onClick={() => setLocking(true)}
        >
          {t('lock')}
        </Button>
      ) : null}
      {can('license.rebind') && license.activated ? (
        <Button
          variant="secondary"
          small
          testId="license-rebind"
          disabled={action.busy}
          onClick={() => void rebind()}
        >
          {t('rebind')}
        </Button>
      ) : null}
      {locking ? (
        <form
          className="inline-form"
          data-testid="license-lock-form"
          onSubmit={(e) => void lock(e)}
        >
          <Field
            label={ui('field.reason')}
            name="reason"
            required
            maxLength={200}
            hint={t('lockHint')}
            autoFocus
          />
          <div className="actions">
            <Button
              variant="danger"
              small
              type="submit"
              testId="license-lock"
              disabled={action.busy}
            >
              {t('lockConfirm')}
            </Button>
            <Button variant="secondary" small onClick={() => setLocking(false)}>
              {ui('common.cancel')}
            </Button>
          </div>
        </form>
      ) : null}
      <Notice error={action.error} />
    </div>
  );
}

function CreateLicense({
  onCreated,
}: {
  onCreated(result: { license: LicenseRow; licenseKey: string }): void;
}) {
  const { t: ui } = useApp();
  const t = useMessages(licensesMessages);
  const tenants = useLoad(() => call(tenantsContract.list).then((r) => r.tenants), []);
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const entitlements = formValue(form, 'entitlements')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const expires = formValue(form, 'expiresAt');
    const body = {
      tenantId: formValue(form, 'tenantId'),
      product: formValue(form, 'product'),
      entitlements,
      ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
    };
    const result = await action.run(() => call(c.create, { body }));
    if (result) {
      form.reset();
      onCreated(result);
    }
  }

  const options = (tenants.data ?? []).map((tenant) => ({ value: tenant.id, label: tenant.name }));

  return (
    <Card title={t('createTitle')}>
      <form
        onSubmit={(e) => void submit(e)}
        data-testid="license-create-form"
        className="form-grid"
      >
        <SelectField
          label={ui('field.tenant')}
          name="tenantId"
          required
          options={[{ value: '', label: ui('common.choose') }, ...options]}
        />
        <CodeField
          label={ui('field.product')}
          name="product"
          required
          pattern="[a-z][a-z0-9\-]{1,40}"
          hint={t('productHint')}
        />
        <CodeField
          label={ui('field.entitlements')}
          name="entitlements"
          hint={t('entitlementsHint')}
        />
        <Field label={ui('field.expiresAt')} name="expiresAt" type="date" hint={t('expiresHint')} />
        <Notice error={action.error ?? tenants.error} />
        <div className="actions">
          <Button type="submit" testId="license-create" disabled={action.busy}>
            {t('create')}
          </Button>
        </div>
      </form>
    </Card>
  );
}
