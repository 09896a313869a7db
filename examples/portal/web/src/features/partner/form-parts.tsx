/**
 * Form parts the partner page's cards share: the tenant choice, a group of checkboxes, the
 * create form both cards end with, and the box that shows a new secret once.
 */
import type { FormEvent, ReactNode } from 'react';
import type { PartnerMeta } from '../../../../src/features/partner/contract.ts';
import { Button } from '../../actions.tsx';
import { useMessages } from '../../messages.ts';
import { CheckboxField, formValue, Notice, SelectField, type useAction } from '../../ui.tsx';
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

/** The tenant a new client or subscription is for: only sent where the person chose one. */
export type TenantPick = { readonly tenantId?: string };

/**
 * A card's create form: the tenant choice, the card's own fields (`children`), a group of
 * checkboxes of which at least one must be ticked (said before anything is sent) and the submit
 * button. `onCreate` sends (through `action`, so it answers `undefined` on an error); once it
 * answers, the form is emptied and `onCreated` shows the result.
 */
export function CreateForm<V extends string, Created>({
  meta,
  testId,
  action,
  choices,
  submit,
  onCreate,
  onCreated,
  children,
}: {
  meta: PartnerMeta;
  testId: string;
  action: ReturnType<typeof useAction>;
  choices: {
    legend: string;
    name: string;
    values: readonly V[];
    label(value: string): string;
    /** The error when none is ticked. */
    missing: string;
  };
  submit: string;
  onCreate(form: HTMLFormElement, picked: V[], tenant: TenantPick): Promise<Created | undefined>;
  onCreated(created: Created): void;
  children: ReactNode;
}) {
  async function create(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget;
    const picked = checkedOf(form, choices.name, choices.values);
    if (picked.length === 0) {
      action.setError(choices.missing);
      return;
    }
    const tenantId = formValue(form, 'tenantId');
    const created = await onCreate(form, picked, tenantId ? { tenantId } : {});
    if (created) {
      form.reset();
      onCreated(created);
    }
  }

  return (
    <form className="form-grid" data-testid={testId} onSubmit={(e) => void create(e)}>
      <TenantChoice meta={meta} />
      {children}
      <Checkboxes
        legend={choices.legend}
        name={choices.name}
        values={choices.values}
        label={choices.label}
      />
      <Notice error={action.error} />
      <div className="actions">
        <Button type="submit" disabled={action.busy}>
          {submit}
        </Button>
      </div>
    </form>
  );
}

/** What was just created, with its secret shown once, until the person presses "Done". */
export function CreatedBox({
  testId,
  title,
  onDone,
  children,
}: {
  testId: string;
  title: string;
  onDone(): void;
  children: ReactNode;
}) {
  const t = useMessages(partnerMessages);
  return (
    <div className="card-highlight" data-testid={testId}>
      <h3>{title}</h3>
      {children}
      <Button variant="secondary" onClick={onDone}>
        {t('done')}
      </Button>
    </div>
  );
}
