#!/usr/bin/env node
// Writes openapi.json from the built contract (`pnpm --filter @fluxel/relay-client openapi`).
// test/contract.test.ts fails when the committed file differs from the contract.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../dist/contract.js';

const dir = join(import.meta.dirname, '..');
writeFileSync(join(dir, 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log('wrote openapi.json');
