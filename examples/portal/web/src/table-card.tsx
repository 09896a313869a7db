/**
 * A card that is one table: the card's heading names the table, so the table's caption says the
 * same to screen readers without being shown twice (users, ADV, privacy).
 */
import type { ReactNode } from 'react';
import { Card, DataTable, type DataTableProps } from './ui.tsx';

export type TableCardProps<Row> = Omit<DataTableProps<Row>, 'caption' | 'captionHidden'> & {
  readonly title: string;
  /** What follows the table in the card (the notice of its row actions). */
  readonly children?: ReactNode;
};

export function TableCard<Row>({ title, children, ...table }: TableCardProps<Row>) {
  return (
    <Card title={title}>
      <DataTable caption={title} captionHidden {...table} />
      {children}
    </Card>
  );
}
