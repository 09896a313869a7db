import type { RelayProblemCode } from '@fluxel/relay-client/contract';

/**
 * Extension members of a problem document; `code` is one the contract declares
 * (`RELAY_PROBLEM_CODES`), so the relay cannot emit a code its clients do not know.
 */
export interface ProblemExtra {
  readonly code?: RelayProblemCode;
  readonly [member: string]: unknown;
}

/** An RFC 9457 problem the relay's error handler turns into `application/problem+json`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly extra: ProblemExtra = {},
  ) {
    super(title);
  }
}

/** The `type` URI of the relay's own problem types (`…/problems/<name>`). */
export const PROBLEM_BASE = 'https://relay.fluxel.dev/problems/';
