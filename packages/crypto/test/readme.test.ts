import { resolve } from 'node:path';
import { runReadmeQuickstart } from '@fluxel/internal/testing';
import { expect, it } from 'vitest';

it('the README quickstart runs as printed', async () => {
  expect(await runReadmeQuickstart(resolve(import.meta.dirname, '..'))).toBeGreaterThan(0);
});
