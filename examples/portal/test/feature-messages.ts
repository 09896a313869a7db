/**
 * Every feature's texts (`web/src/features/<feature>/messages.ts`, each export made with
 * `defineMessages`), found by reading the folders — so a new feature's texts are checked by the
 * dictionary tests without anyone listing them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Messages } from '../web/src/messages.ts';

const FEATURES = join(import.meta.dirname, '..', 'web', 'src', 'features');

function isMessages(value: unknown): value is Messages<string> {
  if (typeof value !== 'object' || value === null) return false;
  const { de, en } = value as { de?: unknown; en?: unknown };
  return typeof de === 'object' && de !== null && typeof en === 'object' && en !== null;
}

/** `[name, messages]` for every `defineMessages` export of every feature. */
export async function featureMessages(): Promise<[string, Messages<string>][]> {
  if (!existsSync(FEATURES)) return [];
  const found: [string, Messages<string>][] = [];
  for (const feature of readdirSync(FEATURES).sort()) {
    const file = join(FEATURES, feature, 'messages.ts');
    if (!existsSync(file)) continue;
    const module: Record<string, unknown> = await import(pathToFileURL(file).href);
    for (const [name, value] of Object.entries(module))
      if (isMessages(value)) found.push([`${feature}/messages.ts ${name}`, value]);
  }
  return found;
}
