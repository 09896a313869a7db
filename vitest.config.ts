// Runs every workspace project at once (`pnpm exec vitest`), e.g. from an editor.
// `pnpm test` runs them per package through turbo instead, so results are cached.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { projects: ['packages/*', 'examples/*', 'benchmarks'] },
});
