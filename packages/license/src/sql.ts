/**
 * `@fluxel/license/sql`: the license store on SQL (PostgreSQL and PGlite), through any
 * client with `query(text, params)` — `pg`'s Client/Pool, PGlite, or your own wrapper.
 * `migrate()` applies the shipped migrations (also published as `LICENSE_MIGRATIONS`).
 *
 * @packageDocumentation
 */
export type { EcPublicJwk, OkpPublicJwk, PublicJwk } from './jwk.js';
export {
  LICENSE_MIGRATIONS,
  type Migration,
  type SqlClient,
  SqlLicenseStore,
  type SqlLicenseStoreOptions,
} from './lib/sql.js';
export type {
  LicenseListFilter,
  LicensePatch,
  LicenseRecord,
  LicenseSeen,
  LicenseState,
  LicenseStore,
} from './lib/store.js';
