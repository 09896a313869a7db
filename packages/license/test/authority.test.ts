import { MemoryLicenseStore } from '../src/lib/store.ts';
import { authoritySuite } from './authority-suite.ts';

authoritySuite('the memory store', async () => new MemoryLicenseStore());
