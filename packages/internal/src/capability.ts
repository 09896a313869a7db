/**
 * Native capability detection. A runtime that answers `getBuiltinModule('node:crypto')` is not
 * necessarily Node.js: Bun and Deno lack `id-aes256-wrap(-pad)`, workerd's `nodejs_compat`
 * throws a `TypeError` from `sign`. So every native fast path is gated on one capability (an
 * algorithm, not the module), proven by a known-answer probe that runs the first time the
 * capability is asked for, once per module, and whose verdict is cached. A probe that throws or
 * gives a wrong answer sends that capability — and only it — to the portable path (Web Crypto
 * or `@noble`). See docs/decisions/0015-native-capability-probes.md.
 */

const verdicts = new WeakMap<object, Map<string, boolean>>();

/**
 * `module` when it passes `probe` for `capability`, else `undefined`. The probe runs once per
 * module and capability (a throw counts as a failure); later calls read the cached verdict.
 * Tests hand in a stand-in module to see the fallback taken.
 */
export function nativeCapability<M extends object>(
  module: M | undefined,
  capability: string,
  probe: (module: M) => boolean,
): M | undefined {
  if (module === undefined) return undefined;
  let known = verdicts.get(module);
  if (!known) {
    known = new Map();
    verdicts.set(module, known);
  }
  let ok = known.get(capability);
  if (ok === undefined) {
    try {
      ok = probe(module) === true;
    } catch {
      ok = false;
    }
    known.set(capability, ok);
  }
  return ok ? module : undefined;
}

/** The verdicts cached so far for `module` (for diagnostics and tests). */
export function capabilityVerdicts(module: object): Readonly<Record<string, boolean>> {
  return Object.fromEntries(verdicts.get(module) ?? []);
}

/** The runtime this code runs on, for error messages: `Bun 1.2.3`, `workerd`, `Node.js 20.19.0`. */
export function runtimeName(): string {
  const g = globalThis as {
    Bun?: { version?: string };
    Deno?: { version?: { deno?: string } };
    navigator?: { userAgent?: string };
    process?: { versions?: { node?: string } };
  };
  if (typeof g.Bun?.version === 'string') return `Bun ${g.Bun.version}`;
  if (typeof g.Deno?.version?.deno === 'string') return `Deno ${g.Deno.version.deno}`;
  const agent = g.navigator?.userAgent;
  if (agent === 'Cloudflare-Workers') return 'workerd (Cloudflare Workers)';
  if (typeof g.process?.versions?.node === 'string') return `Node.js ${g.process.versions.node}`;
  return typeof agent === 'string' && agent !== '' ? agent : 'this runtime';
}
