/** An RFC 9457 problem the relay's error handler turns into `application/problem+json`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(title);
  }
}

/** The `type` URI of the relay's own problem types (`…/problems/<name>`). */
export const PROBLEM_BASE = 'https://relay.fluxel.dev/problems/';
