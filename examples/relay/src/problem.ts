import type { RelayProblemCode } from '@fluxel/relay-client/contract';
import { Problem, type ProblemMembers } from '@fluxel-example/kit/problem';

/**
 * Extension members of a problem document; `code` is one the contract declares
 * (`RELAY_PROBLEM_CODES`), so the relay cannot emit a code its clients do not know.
 */
export interface ProblemExtra extends ProblemMembers {
  readonly code?: RelayProblemCode;
}

/**
 * A problem of the relay's realm. Its documents say `about:blank` unless a problem names its
 * type (`problemType('relay', …)`): the contract's clients read `code`, and earlier relays
 * answered so.
 */
export class HttpProblem extends Problem<ProblemExtra> {
  constructor(status: number, title: string, extra: ProblemExtra = {}) {
    super('relay', status, title, extra);
  }
}
