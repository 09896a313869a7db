// Launcher for runtimes that run a file directly (Node, Bun, Deno):
//   <runtime> cli.mjs produce <name>          → prints the result of produce(name)
//   <runtime> cli.mjs consume <vectors.json>  → prints the result of consume(vectors)
// The result is one line `@@matrix@@<json>` on stdout, so other output cannot confuse the harness.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { consume, describe, produce } from './roundtrip.mjs';

const [mode, arg] = process.argv.slice(2);
try {
  const result =
    mode === 'produce' ? await produce(arg) : await consume(JSON.parse(readFileSync(arg, 'utf8')));
  process.stdout.write(`@@matrix@@${JSON.stringify(result)}\n`, () => process.exit(0));
} catch (error) {
  process.stdout.write(`@@matrix@@${JSON.stringify({ fatal: describe(error) })}\n`, () =>
    process.exit(0),
  );
}
