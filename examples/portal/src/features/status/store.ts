/** Maintenance windows and security notes in the portal's database (migration 004). */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../server/db.ts';
import {
  COMPONENT_IDS,
  type ComponentId,
  type MaintenanceWindow,
  SEVERITIES,
  type SecurityNote,
  type Severity,
} from './contract.ts';

const NOTE_HORIZON_MS = 180 * 86_400_000;
const NOTE_LIMIT = 20;
const WINDOW_LIMIT = 50;

/** A title and a body in both languages: windows and notes share these four columns. */
interface BilingualText {
  readonly title: { de: string; en: string };
  readonly body: { de: string; en: string };
}

export interface MaintenanceInput extends BilingualText {
  readonly startsAt: number;
  readonly endsAt: number;
  readonly components: readonly ComponentId[];
}

export interface NoteInput extends BilingualText {
  readonly severity: Severity;
  readonly publishedAt: number;
}

/** The values of title_de, title_en, body_de, body_en, in that order. */
const textColumns = (t: BilingualText) => [t.title.de, t.title.en, t.body.de, t.body.en];

const newId = (prefix: string) => `${prefix}_${randomBytes(9).toString('base64url')}`;

function components(value: unknown): ComponentId[] {
  return String(value ?? '')
    .split(',')
    .filter((c): c is ComponentId => (COMPONENT_IDS as readonly string[]).includes(c));
}

function toWindow(r: Record<string, unknown>, now: number): MaintenanceWindow {
  const startsAt = Number(r.starts_at);
  const endsAt = Number(r.ends_at);
  return {
    id: String(r.id),
    title: { de: String(r.title_de), en: String(r.title_en) },
    body: { de: String(r.body_de ?? ''), en: String(r.body_en ?? '') },
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    components: components(r.components),
    active: startsAt <= now && now < endsAt,
  };
}

function toNote(r: Record<string, unknown>): SecurityNote {
  const severity = String(r.severity);
  return {
    id: String(r.id),
    title: { de: String(r.title_de), en: String(r.title_en) },
    body: { de: String(r.body_de), en: String(r.body_en) },
    severity: (SEVERITIES as readonly string[]).includes(severity)
      ? (severity as Severity)
      : 'info',
    publishedAt: new Date(Number(r.published_at)).toISOString(),
  };
}

/** One round trip to the database (the status page's probe); throws when it is down. */
export async function ping(db: Database): Promise<void> {
  await db.query('SELECT 1 AS ok');
}

export class StatusStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  /** Running and upcoming windows, soonest first. */
  async currentAndUpcoming(): Promise<MaintenanceWindow[]> {
    const now = this.now();
    const { rows } = await this.db.query(
      `SELECT * FROM portal_maintenance WHERE ends_at > $1 ORDER BY starts_at, id LIMIT ${WINDOW_LIMIT}`,
      [now],
    );
    return rows.map((r) => toWindow(r, now));
  }

  /** Published notes of the last 180 days, newest first. */
  async recentNotes(): Promise<SecurityNote[]> {
    const now = this.now();
    const { rows } = await this.db.query(
      `SELECT * FROM portal_security_notes WHERE published_at <= $1 AND published_at > $2
       ORDER BY published_at DESC, id LIMIT ${NOTE_LIMIT}`,
      [now, now - NOTE_HORIZON_MS],
    );
    return rows.map(toNote);
  }

  async window(id: string): Promise<MaintenanceWindow | undefined> {
    const { rows } = await this.db.query('SELECT * FROM portal_maintenance WHERE id = $1', [id]);
    return rows[0] ? toWindow(rows[0], this.now()) : undefined;
  }

  async note(id: string): Promise<SecurityNote | undefined> {
    const { rows } = await this.db.query('SELECT * FROM portal_security_notes WHERE id = $1', [id]);
    return rows[0] ? toNote(rows[0]) : undefined;
  }

  async createWindow(input: MaintenanceInput, by: string): Promise<MaintenanceWindow> {
    const id = newId('mw');
    const now = this.now();
    await this.db.query(
      `INSERT INTO portal_maintenance
         (id, title_de, title_en, body_de, body_en, starts_at, ends_at, components, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
      [
        id,
        ...textColumns(input),
        input.startsAt,
        input.endsAt,
        [...new Set(input.components)].join(','),
        by,
        now,
      ],
    );
    return (await this.window(id)) as MaintenanceWindow;
  }

  async updateWindow(id: string, input: MaintenanceInput): Promise<MaintenanceWindow | undefined> {
    const { rows } = await this.db.query(
      `UPDATE portal_maintenance SET title_de = $2, title_en = $3, body_de = $4, body_en = $5,
         starts_at = $6, ends_at = $7, components = $8, updated_at = $9
       WHERE id = $1 RETURNING id`,
      [
        id,
        ...textColumns(input),
        input.startsAt,
        input.endsAt,
        [...new Set(input.components)].join(','),
        this.now(),
      ],
    );
    return rows[0] ? this.window(id) : undefined;
  }

  deleteWindow(id: string): Promise<boolean> {
    return this.#deleteRow('portal_maintenance', id);
  }

  async createNote(input: NoteInput, by: string): Promise<SecurityNote> {
    const id = newId('sn');
    const now = this.now();
    await this.db.query(
      `INSERT INTO portal_security_notes
         (id, title_de, title_en, body_de, body_en, severity, published_at, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [id, ...textColumns(input), input.severity, input.publishedAt, by, now],
    );
    return (await this.note(id)) as SecurityNote;
  }

  async updateNote(id: string, input: NoteInput): Promise<SecurityNote | undefined> {
    const { rows } = await this.db.query(
      `UPDATE portal_security_notes SET title_de = $2, title_en = $3, body_de = $4, body_en = $5,
         severity = $6, published_at = $7, updated_at = $8
       WHERE id = $1 RETURNING id`,
      [id, ...textColumns(input), input.severity, input.publishedAt, this.now()],
    );
    return rows[0] ? this.note(id) : undefined;
  }

  deleteNote(id: string): Promise<boolean> {
    return this.#deleteRow('portal_security_notes', id);
  }

  /** Deletes row `id` of `table`; true when there was one. */
  async #deleteRow(table: 'portal_maintenance' | 'portal_security_notes', id: string) {
    const { rows } = await this.db.query(`DELETE FROM ${table} WHERE id = $1 RETURNING id`, [id]);
    return rows.length > 0;
  }
}
