/**
 * Tokens kept in one JSON file across restarts (Node): written atomically (temp file, fsync,
 * rename) with mode 0600. Tokens are useless without the device key, but they are still
 * credentials of a kind, so only the owner reads them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredTokens, TokenStore } from '../client.js';
import { Tokens } from '../contract.js';
import { RelayError } from '../errors.js';

/** The tokens schema without `jwks` required (what a client stores). */
const StoredTokensSchema = Tokens.partial({ jwks: true });

/**
 * A {@link TokenStore} in a file: `new FileTokenStore('/var/lib/agent/tokens.json')`.
 * A missing, unreadable or malformed file loads as "no tokens" (it costs one refresh or a new
 * activation, never a crash); a failed save is `ERR_RELAY_TOKEN_STORAGE` naming the file.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileTokenStore } from '@fluxel/relay-client/node';
 *
 * const dir = mkdtempSync(join(tmpdir(), 'relay-example-'));
 * const store = new FileTokenStore(join(dir, 'tokens.json'));
 * assert.equal(await store.load(), undefined);
 * await store.save({ licenseId: 'lic-1', accessToken: 'a', accessTokenExpiresAt: '2030-01-01T00:00:00Z', licenseToken: 'l', licenseTokenExpiresAt: '2030-01-02T00:00:00Z' });
 * assert.equal((await new FileTokenStore(join(dir, 'tokens.json')).load())?.licenseId, 'lic-1');
 * ```
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;

  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0)
      throw new RelayError(
        'ERR_RELAY_INVALID_ARGUMENT',
        'FileTokenStore needs the path of its JSON file, e.g. new FileTokenStore("/var/lib/agent/tokens.json")',
      );
    this.path = path;
  }

  async load(): Promise<StoredTokens | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = StoredTokensSchema.safeParse(JSON.parse(text));
      if (!parsed.success) return undefined;
      const { jwks, ...rest } = parsed.data;
      return jwks ? { ...rest, jwks } : rest;
    } catch {
      return undefined;
    }
  }

  async save(tokens: StoredTokens): Promise<void> {
    const tmp = `${this.path}.${randomUUID()}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const file = await open(tmp, 'wx', 0o600);
      try {
        await file.writeFile(JSON.stringify(tokens));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new RelayError('ERR_RELAY_TOKEN_STORAGE', `cannot write the token file ${this.path}`, {
        cause,
      });
    }
  }
}
