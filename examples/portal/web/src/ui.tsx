/** Small shared building blocks: headings, fields, notices, one-time secrets, data loading. */
import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import type { Locale } from '../../src/shared/api.ts';
import { ApiError } from './api.ts';
import { useApp } from './context.tsx';
import type { Translate } from './i18n.ts';
import { fieldSentences } from './problem-text.ts';

/** The page's `h1`; takes focus when the page appears so screen readers announce it. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} – Fluxel Portal`;
    ref.current?.focus({ preventScroll: false });
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-title">
      {children}
    </h1>
  );
}

/** The label, help text and error shared by every form field; ids tie them to the control. */
function FieldShell({
  label,
  hint,
  error,
  className,
  control,
  check = false,
}: {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  className?: string | undefined;
  control: (aria: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: true }) => ReactNode;
  /** A checkbox: the label follows the control (and is clickable beside it). */
  check?: boolean;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  const labelElement = <label htmlFor={id}>{label}</label>;
  const base = check ? 'field field-check' : 'field';
  return (
    <div className={className ? `${base} ${className}` : base}>
      {check ? null : labelElement}
      {control({
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        ...(error ? { 'aria-invalid': true as const } : {}),
      })}
      {check ? labelElement : null}
      {hint ? (
        <p id={hintId} className="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface FieldText {
  label: string;
  name: string;
  hint?: ReactNode;
  /** A translated sentence saying what to change (e.g. from `fieldError(error, name, t)`). */
  error?: string | undefined;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & FieldText;

/** A labelled input with an optional help text and error tied to it by `aria-describedby`. */
export function Field({ label, hint, error, className, ...input }: FieldProps) {
  return (
    <FieldShell
      label={label}
      hint={hint}
      error={error}
      className={className}
      control={(aria) => <input {...aria} {...input} />}
    />
  );
}

/** The same as {@link Field}, by the name the feature pages use. */
export const TextField = Field;

/**
 * A new password (invitation, reset, change): `name="password"`, the password manager's
 * "new-password", and the rules as help text (`extraHint` adds a page's own sentence).
 */
export function NewPasswordField({
  extraHint,
  ...input
}: Omit<FieldProps, 'label' | 'type' | 'hint' | 'name'> & { extraHint?: ReactNode }) {
  const { t } = useApp();
  return (
    <Field
      label={t('field.newPassword')}
      name="password"
      type="password"
      required
      autoComplete="new-password"
      hint={
        extraHint ? (
          <>
            {t('password.hint')} {extraHint}
          </>
        ) : (
          t('password.hint')
        )
      }
      {...input}
    />
  );
}

type TextAreaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & FieldText;

/** A labelled multi-line text input. */
export function TextArea({ label, hint, error, className, ...textarea }: TextAreaProps) {
  return (
    <FieldShell
      label={label}
      hint={hint}
      error={error}
      className={className}
      control={(aria) => <textarea {...aria} {...textarea} />}
    />
  );
}

type SelectProps = SelectHTMLAttributes<HTMLSelectElement> &
  FieldText & {
    options: readonly { value: string; label: string }[];
  };

export function SelectField({ label, hint, error, options, className, ...select }: SelectProps) {
  return (
    <FieldShell
      label={label}
      hint={hint}
      error={error}
      className={className}
      control={(aria) => (
        <select {...aria} {...select}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

type CheckboxProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & FieldText;

/** A checkbox with its label beside it (the label is clickable), help text and error below. */
export function CheckboxField({ label, hint, error, className, ...input }: CheckboxProps) {
  return (
    <FieldShell
      check
      label={label}
      hint={hint}
      error={error}
      className={className}
      control={(aria) => <input {...aria} type="checkbox" {...input} />}
    />
  );
}

/** One column of a {@link DataTable}. */
export interface Column<Row> {
  readonly key: string;
  readonly header: string;
  readonly cell: (row: Row) => ReactNode;
  /** The column that names the row (`<th scope="row">`); at most one. */
  readonly rowHeader?: boolean;
  readonly className?: string;
}

export interface DataTableProps<Row> {
  /** Says what the table lists; read by screen readers, shown unless `captionHidden`. */
  readonly caption: string;
  readonly captionHidden?: boolean;
  readonly columns: readonly Column<Row>[];
  /** `undefined` while loading for the first time (or give `source`). */
  readonly rows?: readonly Row[] | undefined;
  /** A {@link useLoad} result: its data are the rows, with its loading and error states. */
  readonly source?: {
    readonly data: readonly Row[] | undefined;
    readonly loading: boolean;
    readonly error: unknown;
  };
  readonly rowKey: (row: Row) => string;
  /** The text shown when there are no rows. */
  readonly empty: string;
  readonly loading?: boolean;
  readonly error?: unknown;
  /** Attributes for a row's `<tr>` (data-* for tests and styling). */
  readonly rowAttributes?: (row: Row) => Readonly<Record<`data-${string}`, string>>;
  /** The row's actions (buttons, links), in a last column that keeps them on one line. */
  readonly actions?: (row: Row) => ReactNode;
  readonly actionsHeader?: string;
  /** The actions column's heading is read by screen readers but not shown. */
  readonly actionsHeaderHidden?: boolean;
  readonly testId?: string;
}

/**
 * A table of rows: caption, loading, error and empty states, a row header, and row actions that
 * stay compact (they wrap inside their cell rather than widen the table past 1280 px).
 */
export function DataTable<Row>(props: DataTableProps<Row>) {
  const { t } = useApp();
  const { columns, actions, source } = props;
  const rows = props.rows ?? source?.data;
  const loading = props.loading ?? source?.loading;
  return (
    <div className="data-table">
      {loading && !rows ? <Loading /> : null}
      <Notice error={props.error ?? source?.error} />
      {rows && rows.length === 0 ? <p className="empty">{props.empty}</p> : null}
      {rows && rows.length > 0 ? (
        // A wide table scrolls sideways inside this region, which must then take keyboard focus
        // (WCAG 2.1.1; axe: scrollable-region-focusable).
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus.
        <section className="table-wrap" aria-label={props.caption} tabIndex={0}>
          <table data-testid={props.testId}>
            <caption className={props.captionHidden ? 'sr-only' : 'table-caption'}>
              {props.caption}
            </caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.key} scope="col" className={c.className}>
                    {c.header}
                  </th>
                ))}
                {actions ? (
                  <th scope="col" className="row-actions-head">
                    <span className={props.actionsHeaderHidden ? 'sr-only' : undefined}>
                      {props.actionsHeader ?? t('common.actions')}
                    </span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={props.rowKey(row)} {...(props.rowAttributes?.(row) ?? {})}>
                  {columns.map((c) =>
                    c.rowHeader ? (
                      <th key={c.key} scope="row" className={c.className}>
                        {c.cell(row)}
                      </th>
                    ) : (
                      <td key={c.key} className={c.className}>
                        {c.cell(row)}
                      </td>
                    ),
                  )}
                  {actions ? (
                    <td className="row-actions">
                      <div className="row-actions-list">{actions(row)}</div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  );
}

/** A duration in words, rounded up: "1 Sekunde", "45 Sekunden", "2 Minuten", "2 Stunden". */
export function formatDuration(t: Translate, seconds: number): string {
  if (seconds < 90) {
    const n = Math.max(1, Math.ceil(seconds));
    return n === 1 ? t('time.second') : t('time.seconds', { n });
  }
  if (seconds < 90 * 60) return t('time.minutes', { n: Math.ceil(seconds / 60) });
  return t('time.hours', { n: Math.ceil(seconds / 3600) });
}

/**
 * The user-facing text for an error (localized by its stable `code`). A wait is counted from
 * when the answer came (`retryAt`) to `now`, so a shown message counts down (see `Notice`).
 */
export function describeError(
  t: Translate,
  error: unknown,
  now: number = Date.now(),
): { message: string; detail?: string } {
  if (typeof error === 'string') return { message: error };
  if (!(error instanceof ApiError)) return { message: t('error.unexpected') };
  const left = error.retryAt === undefined ? undefined : (error.retryAt - now) / 1000;
  const wait = left !== undefined && left > 0 ? formatDuration(t, left) : undefined;
  switch (error.code) {
    case 'throttled':
    case 'locked_out':
      if (left !== undefined && left <= 0) return { message: t('error.retryNow') };
      if (error.code === 'throttled')
        return { message: wait ? t('error.throttledWait', { time: wait }) : t('error.throttled') };
      return { message: wait ? t('error.lockedOutWait', { time: wait }) : t('error.locked_out') };
    // Refused fields are said by their stable reasons (problem-text.ts); the server's
    // `message` and `detail` are developer texts and never reach the page.
    case 'bad_request':
    case 'weak_password': {
      const fields = fieldSentences(t, error.fields);
      return fields
        ? { message: t(`error.${error.code}`), detail: fields }
        : { message: t(`error.${error.code}`) };
    }
    default:
      return { message: t(`error.${error.code}`) };
  }
}

/** The current time, once a second until `until` has passed (then it stops ticking). */
function useCountdown(until: number | undefined): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (until === undefined) return;
    setNow(Date.now());
    const timer = setInterval(() => {
      const current = Date.now();
      setNow(current);
      if (current >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return now;
}

/**
 * A polite live region that is always in the page (so changes are announced), showing an
 * error (`data-testid="error"`) and/or a status message (`data-testid="status"`).
 */
export function Notice({ error, status }: { error?: unknown; status?: ReactNode }) {
  const { t } = useApp();
  const now = useCountdown(error instanceof ApiError ? error.retryAt : undefined);
  const described = error ? describeError(t, error, now) : undefined;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="live" aria-live="polite" aria-atomic="true">
      {described ? (
        <div className="notice notice-error" role="alert" data-testid="error" data-code={code}>
          <p>{described.message}</p>
          {described.detail ? <p className="notice-detail">{described.detail}</p> : null}
        </div>
      ) : null}
      {status ? (
        <div className="notice notice-ok" data-testid="status">
          {status}
        </div>
      ) : null}
    </div>
  );
}

/** Runs form actions: tracks busy state, the last error and a status message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [status, setStatus] = useState<ReactNode>(undefined);
  const run = useCallback(async <T,>(action: () => Promise<T>, done?: ReactNode) => {
    setBusy(true);
    setError(undefined);
    setStatus(undefined);
    try {
      const result = await action();
      if (done !== undefined) setStatus(done);
      return result;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, status, run, setError, setStatus };
}

/** Loads data on mount (and on `reload()`). */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `deps` stands for `load`'s inputs.
  useEffect(() => {
    let alive = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!alive) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!alive) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      alive = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload, setData };
}

export function Loading() {
  const { t } = useApp();
  return (
    <p className="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

const LOCALES: Record<Locale, string> = { de: 'de-DE', en: 'en-GB' };

export function formatDate(locale: Locale, iso: string | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(LOCALES[locale], {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(date);
}

/** A secret shown exactly once (license key, rebind code), with a copy button. */
export function OneTimeSecret({
  testId,
  label,
  value,
  note,
}: {
  testId: string;
  label: string;
  value: string;
  note?: ReactNode;
}) {
  const { t } = useApp();
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret">
      <p className="secret-label">{label}</p>
      <p className="secret-row">
        <code data-testid={testId}>{value}</code>
        <CopyButton text={value} onCopied={() => setCopied(true)} />
      </p>
      <p className="hint">
        {note ?? t('common.shownOnce')} {copied ? t('common.copied') : null}
      </p>
    </div>
  );
}

export function CopyButton({ text, onCopied }: { text: string; onCopied?: () => void }) {
  const { t } = useApp();
  return (
    <button
      type="button"
      className="button-secondary button-small"
      onClick={() => {
        navigator.clipboard?.writeText(text).then(onCopied, () => undefined);
      }}
    >
      {t('common.copy')}
    </button>
  );
}

/** The recovery codes, shown once. */
export function RecoveryCodeList({ codes }: { codes: readonly string[] }) {
  const { t } = useApp();
  const [copied, setCopied] = useState(false);
  return (
    <div className="recovery">
      <p>{t('recovery.explain')}</p>
      <ol className="recovery-codes" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <p className="secret-row">
        <CopyButton text={codes.join('\n')} onCopied={() => setCopied(true)} />
        <span className="hint" aria-live="polite">
          {copied ? t('common.copied') : ''}
        </span>
      </p>
      <p className="hint">{t('recovery.once')}</p>
    </div>
  );
}

export function Badge({
  tone,
  children,
}: {
  tone: 'ok' | 'warn' | 'bad' | 'neutral';
  children: ReactNode;
}) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function Card({
  title,
  children,
  className,
  headingLevel = 2,
}: {
  title?: ReactNode;
  children: ReactNode;
  className?: string;
  headingLevel?: 2 | 3;
}) {
  const id = useId();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section
      className={className ? `card ${className}` : 'card'}
      aria-labelledby={title ? id : undefined}
    >
      {title ? <Heading id={id}>{title}</Heading> : null}
      {children}
    </section>
  );
}

/** A form control's trimmed value by `name`. */
export function formValue(form: HTMLFormElement, name: string): string {
  const element = form.elements.namedItem(name);
  return element instanceof HTMLInputElement ||
    element instanceof HTMLSelectElement ||
    element instanceof HTMLTextAreaElement
    ? element.value.trim()
    : '';
}

/** A WebAuthn ceremony the user cancelled (or that timed out). */
export function isWebAuthnAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'NotAllowedError' ||
      error.name === 'AbortError' ||
      error.name === 'InvalidStateError')
  );
}
