/**
 * A field for an identifier (product, connection, credential kind, field name): typed exactly
 * as the system wants it, so no spell-checking and no automatic capital letter. Belongs in
 * `ui.tsx` next to `Field` (other pages repeat the same two settings); here until it moves.
 */
import { Field } from '../../ui.tsx';

export function CodeField(props: Parameters<typeof Field>[0]) {
  return <Field spellCheck={false} autoCapitalize="off" {...props} />;
}
