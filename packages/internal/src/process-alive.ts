/**
 * Whether a process with this id runs on this machine (Node.js only: the lock files of the
 * audit log, the ACME store and the relay client's journal record their owner's pid).
 * `kill(pid, 0)` sends nothing: ESRCH means no such process; EPERM means one exists that
 * belongs to another user.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
