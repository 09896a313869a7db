/**
 * The administrators' forms on the status page (announce maintenance, publish a security note):
 * both post a title and a text in German and English, plus fields of their own.
 */
import type { FormEvent, ReactNode } from 'react';
import { SubmitRow } from '../../forms/submit-row.tsx';
import { useMessages } from '../../messages.ts';
import { Card, Field, formValue, TextArea, useAction } from '../../ui.tsx';
import { statusMessages } from './messages.ts';

/** The title and text in both languages, as the server takes them. */
export interface Bilingual {
  readonly title: { de: string; en: string };
  readonly body: { de: string; en: string };
}

export interface PostFormProps {
  readonly title: string;
  /** The form's `data-testid`. */
  readonly testId: string;
  readonly submitTestId: string;
  readonly submitText: string;
  /** Whether the texts (not only the titles) must be filled in. */
  readonly bodyRequired: boolean;
  /** The form's own fields, after the texts. */
  readonly children: ReactNode;
  /** A sentence saying what is missing, checked before anything is sent. */
  readonly refuse?: (form: HTMLFormElement) => string | undefined;
  readonly post: (form: HTMLFormElement, text: Bilingual) => Promise<unknown>;
  /** The status message once posted. */
  readonly posted: string;
  readonly onDone: () => void;
}

export function PostForm(props: PostFormProps) {
  const st = useMessages(statusMessages);
  const action = useAction();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const refused = props.refuse?.(form);
    if (refused) {
      action.setError(refused);
      return;
    }
    const text: Bilingual = {
      title: { de: formValue(form, 'titleDe'), en: formValue(form, 'titleEn') },
      body: { de: formValue(form, 'bodyDe'), en: formValue(form, 'bodyEn') },
    };
    const done = await action.run(() => props.post(form, text), props.posted);
    if (done) {
      form.reset();
      props.onDone();
    }
  }

  const textArea = { rows: 3, maxLength: 4000, required: props.bodyRequired };
  return (
    <Card title={props.title}>
      <form onSubmit={(e) => void submit(e)} data-testid={props.testId} className="form-grid">
        <Field label={st('fieldTitleDe')} name="titleDe" required maxLength={200} lang="de" />
        <Field label={st('fieldTitleEn')} name="titleEn" required maxLength={200} lang="en" />
        <TextArea label={st('fieldBodyDe')} name="bodyDe" {...textArea} />
        <TextArea label={st('fieldBodyEn')} name="bodyEn" {...textArea} />
        {props.children}
        <SubmitRow action={action} testId={props.submitTestId}>
          {props.submitText}
        </SubmitRow>
      </form>
    </Card>
  );
}
