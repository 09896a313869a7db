/** Form parts the partner page's cards share: the tenant choice and a group of checkboxes. */
import type { PartnerMeta } from '../../../../src/features/partner/contract.ts';
import { useMessages } from '../../messages.ts';
import { CheckboxField, SelectField } from '../../ui.tsx';
import { partnerMessages } from './messages.ts';

/** The values of `values` whose checkboxes named `name` are checked (typed as the values). */
export function checkedOf<V extends string>(
  form: HTMLFormElement,
  name: string,
  values: readonly V[],
): V[] {
  const picked = new Set(
    [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map(
      (i) => i.value,
    ),
  );
  return values.filter((v) => picked.has(v));
}

/** Administrators choose the tenant; a partner has only its own (no field). */
export function TenantChoice({ meta }: { meta: PartnerMeta }) {
  const t = useMessages(partnerMessages);
  if (meta.tenants.length <= 1) return null;
  return (
    <SelectField
      label={t('tenant')}
      name="tenantId"
      required
      options={[
        { value: '', label: t('choose') },
        ...meta.tenants.map((tenant) => ({ value: tenant.id, label: tenant.name })),
      ]}
    />
  );
}

export function Checkboxes({
  legend,
  name,
  values,
  label,
}: {
  legend: string;
  name: string;
  values: readonly string[];
  label(value: string): string;
}) {
  return (
    <fieldset className="field">
      <legend>{legend}</legend>
      {values.map((value) => (
        <CheckboxField key={value} label={label(value)} name={name} value={value} />
      ))}
    </fieldset>
  );
}
