/**
 * Table columns that show a moment (signed in, last seen, added) as date and time in the page's
 * language, "–" where there is none. The session and factor tables have several.
 * Not specific to the account pages: it belongs in `ui.tsx` beside `DataTable` once that file
 * may change again.
 */
import type { Locale } from '../../../../src/shared/api.ts';
import { type Column, formatDate } from '../../ui.tsx';

/** The column maker for one table: `dateColumn('created', header, (row) => row.createdAt)`. */
export function dateColumnsFor<Row>(locale: Locale) {
  return function dateColumn(
    key: string,
    header: string,
    date: (row: Row) => string | undefined,
  ): Column<Row> {
    return { key, header, cell: (row) => formatDate(locale, date(row)) };
  };
}
