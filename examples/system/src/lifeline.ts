/**
 * The lifeline between a launcher and its child: a pipe on an extra file descriptor whose write
 * end only the parent holds. The child never reads data from it; the kernel closes the parent's
 * end when the parent is gone — a clean exit, a crash or SIGKILL alike — and the child reads
 * end-of-file. That is how a child learns its parent went without polling and without the
 * parent's cooperation (Linux's PR_SET_PDEATHSIG, which Node does not offer, done with a pipe).
 *
 * The parent spawns with an extra `'pipe'` stdio entry and names its descriptor in
 * {@link LIFELINE_ENV}; the child calls {@link onLifelineCut} (the demo) or is started with
 * `--import` of `lifeline-guard.ts` (every service of the launcher).
 */
import { Socket } from 'node:net';

/** Names the child's file descriptor of the lifeline (`'3'` when it is the fourth stdio entry). */
export const LIFELINE_ENV = 'FLUXEL_LIFELINE_FD';

/** The child's descriptor of the lifeline when the parent passes it as the fourth stdio entry. */
export const LIFELINE_FD = 3;

/**
 * Calls `onCut` once when the parent that handed this process its lifeline is gone. Returns
 * false (and does nothing) when the process was started without one. From then on, writes to a
 * closed stdout or stderr (the parent read them) are dropped instead of crashing the process in
 * the middle of its shutdown.
 */
export function onLifelineCut(onCut: () => void): boolean {
  const fd = Number(process.env[LIFELINE_ENV]);
  // Not passed on: a process this one starts gets its own lifeline or none, never this fd.
  delete process.env[LIFELINE_ENV];
  if (!Number.isInteger(fd) || fd < 3) return false;
  let line: Socket;
  try {
    line = new Socket({ fd, readable: true, writable: false });
  } catch {
    return false;
  }
  let cut = false;
  const fire = () => {
    if (cut) return;
    cut = true;
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    onCut();
  };
  line.on('end', fire);
  line.on('close', fire);
  line.on('error', fire);
  line.resume();
  // The lifeline alone never keeps the process alive.
  line.unref();
  return true;
}
