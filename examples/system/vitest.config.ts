import { defineConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.ts';

// Each file starts its own system (own temp folder, ephemeral ports, own database schemas), so
// files run side by side; most of their time is waiting on real processes, not CPU.
const base = projectConfig(import.meta.dirname);
export default defineConfig({ ...base, test: { ...base.test, maxWorkers: 3 } });
