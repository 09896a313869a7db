/**
 * Preloaded (`node --import tsx --import <this file>`) into every process the launcher starts
 * (`Service` in `proc.ts`): when the launcher is gone, however it went, the process sends itself
 * SIGTERM — its own graceful stop, exactly as if the launcher had stopped it — and SIGKILL after
 * {@link ORPHAN_GRACE_MS} if that stop hangs. So no relay, portal, counterpart or agent outlives
 * the demo or test that started it.
 */
import { onLifelineCut } from './lifeline.ts';

/** How long an orphaned process's own graceful stop may take before it kills itself. */
export const ORPHAN_GRACE_MS = 10_000;

onLifelineCut(() => {
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), ORPHAN_GRACE_MS).unref();
});
