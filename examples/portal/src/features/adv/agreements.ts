/**
 * Agreement versions: the ones shipped in `data/adv/` (index `versions.json`, texts `*.md`) plus
 * the ones administrators published through the API (table `portal_adv_versions`). The current
 * version is the newest one whose publication time has come.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Database } from '../../server/db.ts';
import { type AdvIndex, type AdvLocale, type AdvVersionInfo, advIndexSchema } from './contract.ts';
import { type StoredVersion, storedVersionById, storedVersions } from './store.ts';

export const ADV_DATA_DIR = new URL('../../../data/adv/', import.meta.url);

export interface AgreementVersion extends AdvVersionInfo {
  /** Publication time in ms (file versions: 00:00 UTC of their day). */
  readonly publishedMs: number;
  readonly text: Readonly<Record<AdvLocale, string>>;
}

export const sha256Hex = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

/** Normalises a text before it is stored or hashed: LF line ends, one trailing newline. */
export const normaliseText = (text: string): string => `${text.replace(/\r\n?/g, '\n').trim()}\n`;

export interface AgreementFiles {
  readonly operator: AdvIndex['operator'];
  readonly versions: readonly AgreementVersion[];
}

/** Reads and validates `versions.json` and the texts it names; throws on any mistake. */
export function loadAgreementFiles(dir: URL = ADV_DATA_DIR): AgreementFiles {
  const index = advIndexSchema.parse(
    JSON.parse(readFileSync(new URL('versions.json', dir), 'utf8')),
  );
  const versions = index.versions.map((v) => {
    const publishedMs = Date.parse(`${v.publishedAt}T00:00:00Z`);
    if (Number.isNaN(publishedMs)) throw new Error(`ADV ${v.id}: bad publishedAt`);
    return {
      id: v.id,
      publishedAt: new Date(publishedMs).toISOString(),
      publishedMs,
      source: 'file' as const,
      text: {
        de: normaliseText(readFileSync(new URL(v.de, dir), 'utf8')),
        en: normaliseText(readFileSync(new URL(v.en, dir), 'utf8')),
      },
    };
  });
  return { operator: index.operator, versions };
}

let cached: AgreementFiles | undefined;
/** The shipped versions, read once per process. */
export function agreementFiles(): AgreementFiles {
  cached ??= loadAgreementFiles();
  return cached;
}

const fromStore = (v: StoredVersion): AgreementVersion => ({
  id: v.id,
  publishedMs: v.publishedMs,
  publishedAt: new Date(v.publishedMs).toISOString(),
  source: 'published',
  text: { de: v.textDe, en: v.textEn },
});

/** Every version published by `now`, oldest first. */
export async function allVersions(db: Database, now: number): Promise<AgreementVersion[]> {
  const published = (await storedVersions(db)).map(fromStore);
  const ids = new Set(published.map((v) => v.id));
  return [...agreementFiles().versions.filter((v) => !ids.has(v.id)), ...published]
    .filter((v) => v.publishedMs <= now)
    .sort(
      (a, b) =>
        a.publishedMs - b.publishedMs ||
        Number(a.source === 'published') - Number(b.source === 'published'),
    );
}

/** The version in force at `now`, if any. */
export async function currentVersion(
  db: Database,
  now: number,
): Promise<AgreementVersion | undefined> {
  const versions = await allVersions(db, now);
  return versions[versions.length - 1];
}

/** A version by id, including the not-yet-current file versions (their acceptances never exist). */
export async function versionById(db: Database, id: string): Promise<AgreementVersion | undefined> {
  const stored = await storedVersionById(db, id);
  if (stored) return fromStore(stored);
  return agreementFiles().versions.find((v) => v.id === id);
}

export const versionInfo = (v: AgreementVersion): AdvVersionInfo => ({
  id: v.id,
  publishedAt: v.publishedAt,
  source: v.source,
});
