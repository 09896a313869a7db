/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notActivated: 3 } as const;

/** A failure the CLI reports with a stable code, a message for people and an exit code. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
