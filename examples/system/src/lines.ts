/**
 * Output lines of a child process, split on `\n` only. `node:readline` also splits at a lone
 * `\r` and, from Node 24, at U+2028/U+2029 — characters a JSON log line may carry inside a
 * string — so one line became two and a readiness pattern or a JSON parse missed it.
 */
import type { Readable } from 'node:stream';

/** Calls `onLine` with every `\n`-terminated line of `stream` (and a last unterminated one at its end). */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
    pending = '';
  });
}
