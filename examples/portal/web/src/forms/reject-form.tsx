/**
 * "Reject, with a reason": the inline form a decision list (rights requests here, partner
 * registrations on the onboarding page) opens in a row in place of its buttons.
 */
import type { ReactNode } from 'react';
import { Button } from '../actions.tsx';
import { Field, formValue } from '../ui.tsx';

export function RejectForm({
  reasonLabel,
  reject,
  onReject,
  busy,
  cancel,
  onCancel,
  testId,
}: {
  /** The reason field's label. */
  reasonLabel: string;
  /** The submit button's text. */
  reject: string;
  onReject(reason: string): unknown;
  busy?: boolean;
  /** A button that closes the form without rejecting (its content), where the page offers one. */
  cancel?: ReactNode;
  onCancel?(): void;
  testId?: string;
}) {
  return (
    <form
      className="inline-form"
      data-testid={testId}
      onSubmit={(event) => {
        event.preventDefault();
        void onReject(formValue(event.currentTarget, 'reason'));
      }}
    >
      {/* The server asks for a reason of two characters or more: said before it is sent. */}
      <Field label={reasonLabel} name="reason" required minLength={2} />
      <div className="row-actions">
        <Button type="submit" variant="danger" small disabled={busy}>
          {reject}
        </Button>
        {cancel ? (
          <Button variant="secondary" small onClick={onCancel}>
            {cancel}
          </Button>
        ) : null}
      </div>
    </form>
  );
}
