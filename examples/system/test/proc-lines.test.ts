import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnce } from '../src/proc.ts';

describe('Service output lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fluxel-proc-lines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a line holding a lone \\r or U+2028 stays one line (readline split it in two)', async () => {
    // A JSON log line may carry both inside a string; the last line has no newline.
    const record = JSON.stringify({ msg: 'a\rb\u2028c\u2029d' }).replaceAll('\\r', '\r');
    const entry = join(dir, 'print.mjs');
    writeFileSync(
      entry,
      `process.stdout.write(${JSON.stringify(`${record}\nrelay ready\nno newline`)});\n`,
    );
    const run = await runOnce({ name: 'print', entry, cwd: dir, env: {}, logDir: dir });
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([record, 'relay ready', 'no newline']);
    expect(run.lines[0]).toContain('\r');
  });
});
