// Launcher for Chromium (bundled with esbuild, loaded by a page): the harness calls
// globalThis.__matrix.produce(name) / .consume(vectors) through playwright.
import { consume, produce } from './roundtrip.mjs';

globalThis.__matrix = { produce, consume };
