/**
 * The form that makes one request: its fields, the answer (error or status), then the submit
 * button with any links or buttons beside it. Sign-in, invitation, password reset,
 * re-authentication and the security page's forms all take this shape.
 *
 * It is not specific to these pages: it belongs in `ui.tsx` beside `Field` and `Notice` once that
 * file may change again.
 */
import type { FormEvent, ReactNode } from 'react';
import { Button } from '../../actions.tsx';
import { Notice } from '../../ui.tsx';

export interface SubmitFormProps {
  /** The form's `data-testid`. */
  readonly testId?: string;
  /** Runs with the form after the browser's own checks passed (the page does not reload). */
  readonly onSubmit: (form: HTMLFormElement) => unknown;
  /** The request's state, usually a `useAction()` result; its status is shown once it ran. */
  readonly action: { readonly busy: boolean; readonly error: unknown; readonly status?: ReactNode };
  readonly submitLabel: ReactNode;
  readonly submitTestId: string;
  /** A sentence between the answer and the buttons (what happens next). */
  readonly note?: ReactNode;
  /** Links or buttons beside the submit button. */
  readonly besideSubmit?: ReactNode;
  readonly children: ReactNode;
}

export function SubmitForm(props: SubmitFormProps) {
  const { action } = props;
  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void props.onSubmit(event.currentTarget);
  }
  return (
    <form onSubmit={submit} data-testid={props.testId}>
      {props.children}
      <Notice error={action.error} status={action.status} />
      {props.note}
      <div className="actions">
        <Button type="submit" testId={props.submitTestId} disabled={action.busy}>
          {props.submitLabel}
        </Button>
        {props.besideSubmit}
      </div>
    </form>
  );
}
