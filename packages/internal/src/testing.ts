/**
 * Test helpers shared by the packages' vitest suites. Never bundled into a package.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
 * How long a start-up may take before a test calls it hung: 5 minutes for a server, a
 * database, a browser or a child process to become ready. A bound, not a budget (issue 21):
 * on a busy machine start-up takes several times as long as on an idle one, and waiting
 * longer is harmless, so it only ends a hang (vitest's own limits are longer still).
 */
export const READY_BOUND_MS = 300_000;

/** The Redis the suites use: `REDIS_URL`, else the machine's on the default port. */
export const TEST_REDIS_URL: string = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A connected client of the test Redis, or {@link missingDependency}'s skip reason when it
 * cannot connect (under CI that throws). `createClient` is the `redis` package's own (this
 * package does not depend on it); the client neither retries nor reports errors itself.
 */
export async function connectTestRedis<
  C extends { on(event: 'error', listener: () => void): unknown; connect(): Promise<unknown> },
>(
  createClient: (options: {
    url: string;
    socket: { connectTimeout: number; reconnectStrategy: false };
  }) => C,
): Promise<C | string> {
  const client = createClient({
    url: TEST_REDIS_URL,
    socket: { connectTimeout: READY_BOUND_MS, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    return missingDependency(
      `Redis at ${TEST_REDIS_URL}`,
      `${(error as Error).message}; start it or set REDIS_URL`,
    );
  }
}

/**
 * Polls `probe` until it returns a value (anything but `undefined` or `false`) and returns
 * it; a probe that throws counts as "not yet". Past `boundMs` it throws an error naming
 * `what` it waited for, how long, and the probe's last error. Use it for readiness (a port,
 * a line, a health check), never to time a behaviour.
 */
export async function waitUntilReady<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { boundMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const boundMs = options.boundMs ?? READY_BOUND_MS;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    const waited = Date.now() - started;
    if (waited > boundMs) {
      const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${Math.round(waited / 1000)} s waiting for ${what}${last}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

/**
 * The test vectors of a package, kept in the repository under `<packageDir>/vectors/` (e.g.
 * Wycheproof in `vectors/wycheproof/`, unmodified, with its licence and source noted there).
 * `files` are the paths under that folder the test reads. Returns `{ dir }` when every file
 * is there, `{ skip }` with the reason when one is missing; under CI (`ci`, default `inCI`) a
 * missing file throws, so a vector test never skips there.
 */
export function vectorsDir(
  packageDir: string,
  files: readonly string[],
  ci: boolean = inCI,
): { dir: string; skip?: undefined } | { dir?: undefined; skip: string } {
  const dir = join(packageDir, 'vectors');
  const missing = files.filter((file) => !existsSync(join(dir, file)));
  if (missing.length === 0) return { dir };
  const message = `the test vector file(s) ${missing.join(', ')} in ${dir} are not available (they are part of the repository: restore them with \`git checkout -- ${relative(repoRoot, dir)}\`)`;
  if (ci) throw new Error(`CI=true and ${message}`);
  return { skip: message };
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

/** A stand-in `node:crypto` and how many calls it refused (so a test can show it was reached). */
export interface NodeCryptoStandIn {
  readonly module: Record<string, unknown>;
  refused(): number;
}

/** The real `node:crypto` of this Node.js process. */
export function realNodeCrypto(): Record<string, unknown> {
  return process.getBuiltinModule('node:crypto') as unknown as Record<string, unknown>;
}

/**
 * Makes `process.getBuiltinModule('node:crypto')` answer `module` — as Bun, Deno and workerd
 * (`nodejs_compat`) answer with their own node:crypto — until the returned function is called.
 * The packages look node:crypto up once: call `vi.resetModules()` and import the code under
 * test after this.
 */
export function stubNodeCrypto(module: object): () => void {
  const original = process.getBuiltinModule;
  const stub = (id: string) =>
    id === 'node:crypto' || id === 'crypto' ? module : original.call(process, id);
  process.getBuiltinModule = stub as typeof process.getBuiltinModule;
  return () => {
    process.getBuiltinModule = original;
  };
}

/**
 * node:crypto as Bun (1.4) and Deno (2.x) have it: everything works but the AES key-wrap
 * ciphers, which throw "Unknown cipher" (`ERR_CRYPTO_UNKNOWN_CIPHER`), as those runtimes do.
 */
export function nodeCryptoWithoutKeyWrap(): NodeCryptoStandIn {
  const real = realNodeCrypto() as unknown as {
    createCipheriv(algorithm: string, ...rest: unknown[]): unknown;
    createDecipheriv(algorithm: string, ...rest: unknown[]): unknown;
  };
  let refused = 0;
  const check = (algorithm: string) => {
    if (/wrap/i.test(algorithm)) {
      refused++;
      throw Object.assign(new Error('Unknown cipher'), { code: 'ERR_CRYPTO_UNKNOWN_CIPHER' });
    }
  };
  const module = {
    ...realNodeCrypto(),
    createCipheriv: (algorithm: string, ...rest: unknown[]) => {
      check(algorithm);
      return real.createCipheriv(algorithm, ...rest);
    },
    createDecipheriv: (algorithm: string, ...rest: unknown[]) => {
      check(algorithm);
      return real.createDecipheriv(algorithm, ...rest);
    },
  };
  return { module, refused: () => refused };
}

/**
 * node:crypto as workerd's `nodejs_compat` has it: `sign` and `verify` given
 * `{ key, dsaEncoding }` (ES256 with JWS signatures) throw workerd's `TypeError`
 * (`ERR_INVALID_ARG_TYPE`); the rest, Ed25519 with a bare key included, works.
 */
export function nodeCryptoLikeWorkerd(): NodeCryptoStandIn {
  const real = realNodeCrypto() as unknown as {
    sign(...args: unknown[]): unknown;
    verify(...args: unknown[]): unknown;
  };
  let refused = 0;
  const check = (key: unknown) => {
    if (typeof key === 'object' && key !== null && 'dsaEncoding' in key) {
      refused++;
      throw Object.assign(
        new TypeError(
          'The "options.key" property must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView.',
        ),
        { code: 'ERR_INVALID_ARG_TYPE' },
      );
    }
  };
  const module = {
    ...realNodeCrypto(),
    sign: (algorithm: unknown, data: unknown, key: unknown) => {
      check(key);
      return real.sign(algorithm, data, key);
    },
    verify: (algorithm: unknown, data: unknown, key: unknown, signature: unknown) => {
      check(key);
      return real.verify(algorithm, data, key, signature);
    },
  };
  return { module, refused: () => refused };
}
