/**
 * The form that makes one request: its fields, the answer (error or status), then the submit
 * button with any links or buttons beside it. Sign-in, invitation, password reset,
 * re-authentication and the security page's forms all take this shape.
 */
import type { FormEvent, ReactNode } from 'react';
import { Button } from '../actions.tsx';
import { Notice, useAction } from '../ui.tsx';

/** `useAction().run`: runs the request, keeps the form busy meanwhile, shows `done` after. */
export type RunRequest = ReturnType<typeof useAction>['run'];

export interface SubmitFormProps {
  /** The form's `data-testid`. */
  readonly testId?: string;
  /**
   * Runs with the form after the browser's own checks passed (the page does not reload); the
   * request goes through `run`, so the form shows its error or status and is busy meanwhile.
   */
  readonly onSubmit: (form: HTMLFormElement, run: RunRequest) => unknown;
  readonly submitLabel: ReactNode;
  readonly submitTestId: string;
  /** A status the page keeps itself, shown instead of the last request's. */
  readonly status?: ReactNode;
  /** A sentence between the answer and the buttons (what happens next). */
  readonly note?: ReactNode;
  /** Links or buttons beside the submit button. */
  readonly besideSubmit?: ReactNode;
  readonly children: ReactNode;
}

export function SubmitForm(props: SubmitFormProps) {
  const action = useAction();
  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void props.onSubmit(event.currentTarget, action.run);
  }
  return (
    <form onSubmit={submit} data-testid={props.testId}>
      {props.children}
      <Notice error={action.error} status={props.status ?? action.status} />
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
