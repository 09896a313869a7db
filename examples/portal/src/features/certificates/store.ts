/**
 * The certificates' tables: the settings row (`portal_certificate_settings`, one row `portal`)
 * and the orders with their progress (`portal_certificate_orders`).
 */
import type { Database } from '../../server/db.ts';
import type { CertificateSettings, OrderState } from './contract.ts';

/** The stored settings row, if any (raw: the service applies the configured defaults). */
export async function settingsRow(db: Database): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query("SELECT * FROM portal_certificate_settings WHERE id = 'portal'");
  return rows[0];
}

export async function saveSettings(
  db: Database,
  next: CertificateSettings,
  userId: string,
  at: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_certificate_settings (id, address, email, directory, updated_at, updated_by)
     VALUES ('portal', $1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET address = $1, email = $2, directory = $3, updated_at = $4, updated_by = $5`,
    [next.address, next.email, next.directory, at, userId],
  );
}

/** Which certificate is installed (empty strings: the development certificate). */
export async function setInstalled(
  db: Database,
  installed: { directoryUrl: string; orderId: string; domain: string },
  at: number,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_certificate_settings (id, installed_directory, installed_order, installed_domain, updated_at)
     VALUES ('portal', $1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET installed_directory = $1, installed_order = $2, installed_domain = $3`,
    [installed.directoryUrl, installed.orderId, installed.domain, at],
  );
}

export async function orderRow(
  db: Database,
  id: string,
): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query('SELECT * FROM portal_certificate_orders WHERE id = $1', [id]);
  return rows[0];
}

export async function latestOrderRow(db: Database): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query(
    'SELECT * FROM portal_certificate_orders ORDER BY started_at DESC, id LIMIT 1',
  );
  return rows[0];
}

export async function insertOrder(
  db: Database,
  order: { id: string; domain: string; directoryUrl: string; startedBy: string; at: number },
): Promise<void> {
  await db.query(
    `INSERT INTO portal_certificate_orders (id, domain, directory_url, state, started_by, started_at)
     VALUES ($1, $2, $3, 'pending', $4, $5)`,
    [order.id, order.domain, order.directoryUrl, order.startedBy, order.at],
  );
}

/** An order's progress; `finishedAt` set for a final state. */
export async function setOrderState(
  db: Database,
  id: string,
  state: OrderState,
  message: string | undefined,
  storeOrder: string | undefined,
  finishedAt: number | null,
): Promise<void> {
  await db.query(
    `UPDATE portal_certificate_orders SET state = $2, message = $3,
       store_order = COALESCE($4, store_order), finished_at = $5 WHERE id = $1`,
    [id, state, message ?? null, storeOrder ?? null, finishedAt],
  );
}

/** Orders still running that started before `startedBefore` (a previous process): failed. */
export async function failInterruptedOrders(
  db: Database,
  at: number,
  startedBefore: number,
): Promise<void> {
  await db.query(
    `UPDATE portal_certificate_orders SET state = 'failed', message = 'interrupted', finished_at = $1
     WHERE state NOT IN ('installed', 'failed') AND started_at < $2`,
    [at, startedBefore],
  );
}
