/**
 * Checks shared by the constructors of the outbox, the mailbox consumer, their stores and the
 * delivery adapters: a wrong option fails when the object is built, with
 * `ERR_RELAY_INVALID_ARGUMENT` naming it — not later with a raw "x is not a function".
 */
import { RelayError } from './errors.js';

/** The typed error of a wrong argument. */
export function invalidArgument(message: string): RelayError {
  return new RelayError('ERR_RELAY_INVALID_ARGUMENT', message);
}

/** `options` as a record (`{}` when left out); anything but an object is refused. */
export function optionsRecord(options: unknown, owner: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(`the options of ${owner} must be an object (or left out)`);
  return options as Record<string, unknown>;
}

/** Each named option, when given, must be a function. */
export function optionalFunctions(
  options: Record<string, unknown>,
  names: readonly string[],
  owner: string,
): void {
  for (const name of names) checkFunction(options[name], `${owner}: ${name}`);
}

/** `value`, when given, is a function; `label` names it in the error. */
export function checkFunction(value: unknown, label: string): void {
  if (value !== undefined && typeof value !== 'function')
    throw invalidArgument(`${label} must be a function (or left out)`);
}

/** `timers`, when given, must have `setTimeout` and `clearTimeout`. */
export function optionalTimers(options: Record<string, unknown>, owner: string): void {
  const timers = options.timers as Record<string, unknown> | undefined | null;
  if (timers === undefined) return;
  if (
    typeof timers !== 'object' ||
    timers === null ||
    typeof timers.setTimeout !== 'function' ||
    typeof timers.clearTimeout !== 'function'
  )
    throw invalidArgument(
      `${owner}: timers must have setTimeout and clearTimeout (or be left out)`,
    );
}

/** `value` must be an object with every one of `methods`. */
export function withMethods(value: unknown, methods: readonly string[], what: string): void {
  const record = value as Record<string, unknown> | null | undefined;
  const missing =
    typeof record !== 'object' || record === null
      ? methods
      : methods.filter((name) => typeof record[name] !== 'function');
  if (missing.length > 0)
    throw invalidArgument(
      `${what} must have ${methods.join(', ')} (missing: ${missing.join(', ')})`,
    );
}

/** A boolean option, when given. */
export function optionalBoolean(
  options: Record<string, unknown>,
  name: string,
  owner: string,
): void {
  if (options[name] !== undefined && typeof options[name] !== 'boolean')
    throw invalidArgument(`${owner}: ${name} must be true or false (or left out)`);
}

/** A number option ≥ `min` (an integer when asked), when given. */
export function optionalNumber(
  options: Record<string, unknown>,
  name: string,
  min: number,
  owner: string,
  integer = false,
): void {
  checkNumber(options[name], `${owner}: ${name}`, min, integer);
}

/**
 * `value`, when given, is a finite number ≥ `min` (an integer when asked); `label` names it in
 * the error (`"retry.attempts"`, `"Outbox: maxAttempts"`).
 */
export function checkNumber(value: unknown, label: string, min: number, integer = false): void {
  if (value === undefined) return;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  )
    throw invalidArgument(
      `${label} must be ${integer ? 'an integer' : 'a number'} ≥ ${min} (or left out)`,
    );
}
