/**
 * The processing register (Verarbeitungsverzeichnis, Art. 30 GDPR): `data/processing-register.json`,
 * validated with zod when it is loaded (a broken file fails loudly, at start or in the test).
 */
import { readFileSync } from 'node:fs';
import { type ProcessingRegister, registerSchema } from './contract.ts';

export const REGISTER_FILE = new URL('../../../data/processing-register.json', import.meta.url);

/** Parses and validates a register; throws a readable error naming the bad paths. */
export function parseRegister(json: unknown): ProcessingRegister {
  const result = registerSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new Error(`processing register is not valid: ${issues}`);
}

export function loadRegister(file: URL = REGISTER_FILE): ProcessingRegister {
  return parseRegister(JSON.parse(readFileSync(file, 'utf8')));
}
