/**
 * A device clock the relay cannot accept is this device's problem, not the record's: a DPoP
 * proof whose `iat` is outside the relay's window (problem code `ERR_DPOP_STALE`), or the relay's
 * certificate "not yet valid" / "expired" by this clock. The relay-client counts both as
 * final, so the outbox dead-lettered every record sent meanwhile, to be retried by hand. Here
 * such a failure stays retryable — the records wait in the outbox and go once the clock is
 * right — and the agent says, at most once a minute, that the clock is the cause.
 */
import { type Deliver, RelayError, type RelayErrorCode } from '@fluxel/relay-client/node';

type Log = (line: string, fields?: Record<string, unknown>) => void;

/** What is wrong with this device's clock according to `error`, or undefined. */
export function clockProblem(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const problemCode = (error as { problem?: { code?: unknown } } | undefined)?.problem?.code;
  const message = error instanceof Error ? error.message : '';
  if (code === 'ERR_DPOP_STALE' || problemCode === 'ERR_DPOP_STALE')
    return 'the relay refuses this device\'s proofs as too old or from the future ("iat")';
  if (code === 'ERR_RELAY_TLS' && /not yet valid|expired/i.test(message))
    return "the relay's certificate is not yet valid or has expired by this device's clock";
  return undefined;
}

const WARN_EVERY_MS = 60_000;
/** A retry every 15 s while the clock is off: a corrected clock is noticed soon. */
const RETRY_AFTER_MS = 15_000;

/** `deliver`, with clock failures retryable and reported (see the file comment). */
export function clockTolerant(deliver: Deliver, log: Log): Deliver {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return async (message, options) => {
    try {
      await deliver(message, options);
    } catch (error) {
      const problem = clockProblem(error);
      if (problem === undefined) throw error;
      const code = (error as { code: RelayErrorCode }).code;
      const now = performance.now();
      if (now - warnedAt >= WARN_EVERY_MS) {
        warnedAt = now;
        log(
          `clock: ${problem}; check this device's clock (time sync) — records wait in the outbox and go once the clock is right (this device thinks it is ${new Date().toISOString()})`,
          { event: 'clock.off', code },
        );
      }
      throw new RelayError(code, `${(error as Error).message} (device clock; kept for retry)`, {
        retryable: true,
        retryAfterMs: RETRY_AFTER_MS,
        cause: error,
        ...(RelayError.isInstance(error) && error.status !== undefined
          ? { status: error.status }
          : {}),
        ...(RelayError.isInstance(error) && error.problem !== undefined
          ? { problem: error.problem }
          : {}),
      });
    }
  };
}
