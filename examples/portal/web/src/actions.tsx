/**
 * Buttons: one look per purpose, and the "ask before it happens" step that every destructive or
 * hard-to-undo action takes (end a session, revoke an invitation, replace a credential, delete).
 */
import { type ButtonHTMLAttributes, type ReactNode, useState } from 'react';
import { useApp } from './context.tsx';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'link';

const CLASSES: Record<ButtonVariant, string> = {
  primary: 'button',
  secondary: 'button-secondary',
  danger: 'button button-danger',
  link: 'link-button',
};

export interface ButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'className'> {
  readonly variant?: ButtonVariant;
  /** The compact size used in table rows and inline forms. */
  readonly small?: boolean;
  readonly testId?: string;
  readonly className?: string;
}

/** A `<button type="button">` (unless `type` says otherwise) in one of the portal's looks. */
export function Button({
  variant = 'primary',
  small,
  testId,
  className,
  type = 'button',
  ...button
}: ButtonProps) {
  const classes = [CLASSES[variant], small ? 'button-small' : '', className ?? '']
    .filter(Boolean)
    .join(' ');
  return <button type={type} className={classes} data-testid={testId} {...button} />;
}

export interface ConfirmButtonProps {
  /** The first button's text. */
  readonly label: ReactNode;
  /** The question shown once it is pressed ("End this session?"). */
  readonly question: ReactNode;
  /** The confirming button's text (the verb again: "End session"). */
  readonly confirm: ReactNode;
  readonly onConfirm: () => unknown;
  readonly busy?: boolean;
  /**
   * `x` names the first button; the question's container is `x-confirm`, its buttons `x-yes`
   * and `x-cancel`.
   */
  readonly testId: string;
  /** The first button's accessible name where its text alone is ambiguous in a list. */
  readonly ariaLabel?: string;
  /** The first button's look; the confirming button is always `danger`. */
  readonly variant?: ButtonVariant;
  readonly small?: boolean;
  /** Called when the question opens or closes (a page that allows one open question at once). */
  readonly onOpenChange?: (open: boolean) => void;
}

/**
 * A button that asks before it acts: pressing it shows the question with the confirming button
 * and "Cancel"; only the confirming button runs `onConfirm`. The question is announced (`role`
 * alert) and stays until the action has run or the person cancels.
 */
export function ConfirmButton(props: ConfirmButtonProps) {
  const { t } = useApp();
  const [open, setOpenState] = useState(false);
  const setOpen = (value: boolean) => {
    setOpenState(value);
    props.onOpenChange?.(value);
  };
  const small = props.small ?? true;
  if (!open) {
    return (
      <Button
        variant={props.variant ?? 'secondary'}
        small={small}
        testId={props.testId}
        aria-label={props.ariaLabel}
        disabled={props.busy}
        onClick={() => setOpen(true)}
      >
        {props.label}
      </Button>
    );
  }
  return (
    <span className="confirm" data-testid={`${props.testId}-confirm`}>
      <span role="alert">{props.question}</span>
      <Button
        variant="danger"
        small={small}
        testId={`${props.testId}-yes`}
        disabled={props.busy}
        onClick={async () => {
          await props.onConfirm();
          setOpen(false);
        }}
      >
        {props.confirm}
      </Button>
      <Button
        variant="secondary"
        small={small}
        testId={`${props.testId}-cancel`}
        onClick={() => setOpen(false)}
      >
        {t('common.cancel')}
      </Button>
    </span>
  );
}
