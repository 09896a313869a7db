/**
 * What the web app says about refused input: each field of a problem (`fields[].reason`, see
 * FIELD_REASONS) becomes a translated sentence that tells the person what to do. The server's
 * `message` and `detail` are developer texts (zod's English, regular expressions, policy
 * codes) and are never shown.
 */
import type { FieldProblem } from '../../src/shared/api.ts';
import { de, type MessageKey, type Translate } from './i18n.ts';

const isKey = (key: string): key is MessageKey => Object.hasOwn(de, key);

/** The field's name as shown: the whole path, then its first and last parts (`title.de`). */
function fieldKeys(path: string): string[] {
  const parts = path.split('.');
  return [...new Set([path, parts[0] ?? path, parts.at(-1) ?? path])];
}

/** The translated label of a field path (`Eingabe`/`Input` when it has none). */
export function fieldLabel(t: Translate, path: string): string {
  const key = fieldKeys(path)
    .map((name) => `problem.label.${name}`)
    .find(isKey);
  return t(key ?? 'problem.label.other');
}

/**
 * One sentence for one refused field: a sentence made for this field and reason when there is
 * one (`problem.field.code.invalid_format`), else the reason's sentence with the field's label.
 */
export function fieldSentence(t: Translate, field: Pick<FieldProblem, 'path' | 'reason'>): string {
  const specific = fieldKeys(field.path)
    .map((name) => `problem.field.${name}.${field.reason}`)
    .find(isKey);
  if (specific) return t(specific);
  const generic = `problem.reason.${field.reason}`;
  return t(isKey(generic) ? generic : 'problem.reason.invalid', {
    field: fieldLabel(t, field.path),
  });
}

/** The sentences for every refused field, each said once. */
export function fieldSentences(
  t: Translate,
  fields: readonly Pick<FieldProblem, 'path' | 'reason'>[],
): string {
  return [...new Set(fields.map((field) => fieldSentence(t, field)))].join(' ');
}
