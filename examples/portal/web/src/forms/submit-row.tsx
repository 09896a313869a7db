/**
 * The end of a form: the notice of what the submit did (error or done), then the submit button,
 * held while the action runs (users, ADV, privacy, status).
 */
import type { ReactNode } from 'react';
import { Button, type ButtonVariant } from '../actions.tsx';
import { Notice } from '../ui.tsx';

export function SubmitRow({
  action,
  testId,
  variant,
  children,
}: {
  /** A `useAction()` result: its error and status are shown, its busy state holds the button. */
  action: { readonly busy: boolean; readonly error: unknown; readonly status: ReactNode };
  testId: string;
  variant?: ButtonVariant;
  /** The button's text. */
  children: ReactNode;
}) {
  return (
    <>
      <Notice error={action.error} status={action.status} />
      <div className="actions">
        <Button type="submit" variant={variant ?? 'primary'} testId={testId} disabled={action.busy}>
          {children}
        </Button>
      </div>
    </>
  );
}
