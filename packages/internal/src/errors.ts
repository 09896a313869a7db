/**
 * The error base every `@fluxel` package builds its one error class on.
 *
 * Two things make these errors usable in real applications, where a dependency tree often
 * holds two copies of the same package (and `instanceof` then lies):
 * - every error carries a stable `code`; callers match on it, never on `message`;
 * - every error is branded with registry symbols (`Symbol.for`), so `isFluxelError()` and
 *   each package's `XError.isInstance()` recognise errors from any copy of the package.
 */

const FLUXEL_ERROR = Symbol.for('@fluxel/error');

/** Options accepted by every Fluxel error constructor. */
export interface FluxelErrorOptions {
  /** The underlying failure, kept on `error.cause`. */
  readonly cause?: unknown;
}

/**
 * Base class of all errors thrown by `@fluxel` packages.
 *
 * @typeParam Code - the closed union of codes the subclass may carry.
 */
export abstract class FluxelError<Code extends string = string> extends Error {
  /** Stable, machine-readable code. Match on this, never on `message`. */
  readonly code: Code;

  /** The npm package that raised the error, e.g. `@fluxel/crypto`. */
  abstract readonly package: string;

  constructor(code: Code, message: string, options?: FluxelErrorOptions) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}

Object.defineProperty(FluxelError.prototype, FLUXEL_ERROR, { value: true });

/**
 * True for an error raised by any `@fluxel` package, from any copy of it.
 */
export function isFluxelError(value: unknown): value is FluxelError {
  return isBranded(value, FLUXEL_ERROR);
}

/**
 * Brands a package's error class with `Symbol.for(key)` and returns the matching guard,
 * which recognises instances created by any copy of the package.
 */
export function brandErrorClass(
  ctor: abstract new (...args: never[]) => FluxelError,
  key: string,
): (value: unknown) => boolean {
  const symbol = Symbol.for(key);
  Object.defineProperty(ctor.prototype, symbol, { value: true });
  return (value) => isBranded(value, symbol);
}

function isBranded(value: unknown, symbol: symbol): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[symbol] === true
  );
}
