/**
 * Test helpers shared by the packages' vitest suites. Never bundled into a package.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (the folder holding `pnpm-workspace.yaml`). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** True when running under CI (`CI=true`): a missing dependency must then fail, not skip. */
export const inCI: boolean = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * Decides what a test does when something it needs from the system is absent.
 * Returns a skip reason outside CI; throws under CI, so nothing is skipped silently there.
 */
export function missingDependency(what: string, howToGet: string): string {
  const message = `${what} is not available (${howToGet})`;
  if (inCI) throw new Error(`CI=true and ${message}`);
  return message;
}

/**
 * The folder of published test vectors (`../shared/vectors` beside the repository, or
 * `FLUXEL_VECTORS_DIR`). Returns `{ dir }` when present, `{ skip }` with a reason when not;
 * under CI its absence throws.
 */
export function vectorsDir():
  | { dir: string; skip?: undefined }
  | { dir?: undefined; skip: string } {
  const dir = resolve(process.env.FLUXEL_VECTORS_DIR ?? join(repoRoot, '../shared/vectors'));
  if (existsSync(dir)) return { dir };
  return {
    skip: missingDependency(
      `the shared test vectors folder ${dir}`,
      'clone the project beside its shared/ folder or set FLUXEL_VECTORS_DIR',
    ),
  };
}

/** One fenced code block of a README. */
export interface ReadmeBlock {
  readonly lang: string;
  readonly info: string;
  readonly code: string;
  readonly line: number;
}

/** Extracts the fenced code blocks of a Markdown file whose info string contains `tag`. */
export function readmeBlocks(readmePath: string, tag: string): ReadmeBlock[] {
  const text = readFileSync(readmePath, 'utf8');
  const blocks: ReadmeBlock[] = [];
  const fence = /^```(\S*)([^\n]*)\n([\s\S]*?)^```\s*$/gm;
  for (const match of text.matchAll(fence)) {
    const info = (match[2] ?? '').trim();
    if (!info.split(/\s+/).includes(tag)) continue;
    const line = text.slice(0, match.index).split('\n').length;
    blocks.push({ lang: match[1] ?? '', info, code: match[3] ?? '', line });
  }
  return blocks;
}

/**
 * Writes each `quickstart` block of a package README to a module under `.reports/` and
 * imports it, so the README's example is executed exactly as printed. Package imports in
 * the block resolve to the package's source through the vitest aliases.
 */
export async function runReadmeQuickstart(packageDir: string): Promise<number> {
  const blocks = readmeBlocks(join(packageDir, 'README.md'), 'quickstart');
  if (blocks.length === 0) throw new Error(`${packageDir}/README.md has no quickstart block`);
  const outDir = join(packageDir, '.reports', 'quickstart');
  mkdirSync(outDir, { recursive: true });
  for (const [index, block] of blocks.entries()) {
    const file = join(outDir, `block-${index}-line-${block.line}.${block.lang || 'ts'}`);
    writeFileSync(file, block.code);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  }
  return blocks.length;
}
