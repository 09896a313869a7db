/**
 * What the status page lists from administrators (maintenance windows, security notes): an
 * empty text or the list, and for those who manage it a delete button on every entry.
 */
import type { ReactNode } from 'react';
import { Button } from '../../actions.tsx';
import { Notice, useAction } from '../../ui.tsx';

export interface PostedListProps<Item extends { readonly id: string }> {
  readonly items: readonly Item[];
  /** `x-list` names the list, `x-empty` the empty text, `x-item` an entry, `x-delete` its button. */
  readonly testIds: { list: string; empty: string; item: string; delete: string };
  readonly empty: ReactNode;
  /** More `data-*` attributes for an entry's `<li>`. */
  readonly itemAttributes: (item: Item) => Readonly<Record<`data-${string}`, string | boolean>>;
  readonly render: (item: Item) => ReactNode;
  /** Shown with a delete button when set. */
  readonly manage: boolean;
  /** The delete button's text ("Löschen") and its accessible name, which says what it deletes. */
  readonly deleteText: string;
  readonly deleteLabel: (item: Item) => string;
  readonly remove: (item: Item) => Promise<unknown>;
  readonly deleted: ReactNode;
  readonly onDeleted: () => void;
}

export function PostedList<Item extends { readonly id: string }>(props: PostedListProps<Item>) {
  const action = useAction();
  const { items, testIds } = props;
  return (
    <>
      {items.length === 0 ? <p data-testid={testIds.empty}>{props.empty}</p> : null}
      {items.length > 0 ? (
        <ul className="shortcuts" data-testid={testIds.list}>
          {items.map((item) => (
            <li key={item.id} data-testid={testIds.item} {...props.itemAttributes(item)}>
              {props.render(item)}
              {props.manage ? (
                <Button
                  variant="secondary"
                  small
                  testId={testIds.delete}
                  aria-label={props.deleteLabel(item)}
                  disabled={action.busy}
                  onClick={() =>
                    void action.run(() => props.remove(item), props.deleted).then(props.onDeleted)
                  }
                >
                  {props.deleteText}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <Notice error={action.error} status={action.status} />
    </>
  );
}
