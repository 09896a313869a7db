/**
 * A small disk for one agent's outbox: a tmpfs of a few MiB mounted on the outbox folder
 * (needs root; `mount` refused → the suite fails, it never pretends). `fill()` takes every
 * free byte with a filler file, so the agent's next write gets ENOSPC; `free()` removes it.
 * `unmount()` runs at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SmallDisk {
  readonly dir: string;
  /** Fills the disk; returns the bytes taken. */
  fill(): number;
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(dir: string, mib: number): SmallDisk {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'fluxel-load', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const why =
      (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `cannot mount a ${mib} MiB tmpfs on ${dir} for the disk-full fault (${why}); run the suite as root or in a container with CAP_SYS_ADMIN`,
    );
  }
  const filler = join(dir, '.filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a', 0o600);
      let taken = 0;
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) {
          const { bavail, bsize } = statfsSync(dir);
          const room = bavail * bsize;
          if (room <= 0) break;
          taken += writeSync(fd, chunk, 0, Math.min(chunk.length, room));
        }
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
      return taken;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        // already gone (a previous cleanup)
      }
    },
  };
}
