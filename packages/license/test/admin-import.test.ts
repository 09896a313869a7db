/**
 * Issue 20: `@fluxel/license/admin` threw on import in workerd — `new URL('../proto/…',
 * import.meta.url)` ran at module top level, and a module whose URL is not hierarchical (a
 * bundle, a `data:` URL, a worker script) cannot resolve a relative URL. Here the admin entry
 * and everything it imports are loaded as `data:` modules in a fresh Node.js process: importing
 * must work, the handlers and the embedded descriptor must be usable, and only asking for the
 * `.proto` file's URL fails (with a typed error).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

/** The module at `file` (TypeScript) and its relative imports, as one `data:` URL graph. */
function dataUrlModule(file: string, seen = new Map<string, string>()): string {
  const known = seen.get(file);
  if (known) return known;
  const source = readFileSync(file, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const code = outputText.replace(
    /(from\s+|import\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g,
    (_all, lead: string, quote: string, spec: string) => {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      return `${lead}${quote}${dataUrlModule(target, seen)}${quote}`;
    },
  );
  const url = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
  seen.set(file, url);
  return url;
}

it('@fluxel/license/admin imports where the module URL is not a file URL (workerd, bundles)', () => {
  const entry = dataUrlModule(resolve(import.meta.dirname, '../src/admin.ts'));
  const script = `
    const admin = await import(${JSON.stringify(entry)});
    const out = {
      url: import.meta.url.slice(0, 5),
      handlers: typeof admin.createLicenseAdminHandlers,
      service: Object.keys(admin.licenseAdminDescriptor().nested.fluxel.nested.license.nested.v1.nested).length,
    };
    try { admin.licenseAdminProtoUrl(); out.proto = 'resolved'; } catch (e) { out.proto = e.code; }
    console.log(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module'], {
    input: `await import(${JSON.stringify(`data:text/javascript;base64,${Buffer.from(script).toString('base64')}`)});`,
    encoding: 'utf8',
  });
  expect(JSON.parse(stdout)).toEqual({
    url: 'data:',
    handlers: 'function',
    service: 11,
    proto: 'ERR_LICENSE_INVALID_ARGUMENT',
  });
});
