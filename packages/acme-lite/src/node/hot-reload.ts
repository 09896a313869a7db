/**
 * `hotReload`: keeps a running `https`/`tls` server on the newest stored certificate
 * (`setSecureContext`), no restart.
 */
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import type { FileCertificateStore, StoredCertificate } from './store.js';

/** The secure context options of a stored certificate (leaf + chain, key). */
export async function secureContextOptions(
  store: FileCertificateStore,
  stored: StoredCertificate,
): Promise<SecureContextOptions> {
  const { cert, key, chain } = await store.read(stored);
  return { cert: cert + chain, key };
}

/** A running hot reload. */
export interface HotReload {
  /** Installs the current certificate of the domain now; resolves to it (or undefined). */
  reload(): Promise<StoredCertificate | undefined>;
  /** Stops listening to the store. */
  stop(): void;
}

/** Options of {@link hotReload}. */
export interface HotReloadOptions {
  /**
   * Also look at the store every this many milliseconds, for certificates saved by another
   * process (e.g. the `fluxel-acme` CLI or a renewal worker). Off by default.
   */
  readonly pollMs?: number;
  /** Called when installing a certificate fails (the old one stays in place). */
  readonly onError?: (error: unknown) => void;
  /** Called after a new certificate was installed. */
  readonly onReload?: (stored: StoredCertificate) => void;
  /**
   * The server's own TLS settings (`ciphers`, `minVersion`, `honorCipherOrder`, `ecdhCurve`,
   * …), installed with every certificate. `server.setSecureContext` replaces the whole
   * context: whatever is not given here falls back to Node's defaults, so a server that
   * restricts its suites must repeat them here or lose them at the first reload.
   */
  readonly contextOptions?: Omit<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
}

/**
 * Keeps a running `https`/`tls` server on the newest stored certificate of `domain`: installs
 * it now and again whenever the store saves a certificate for that domain
 * (`server.setSecureContext`), so no restart is needed. Existing connections keep their
 * certificate; new handshakes get the new one. With `pollMs`, certificates stored by other
 * processes are picked up too.
 */
export function hotReload(
  server: TlsServer,
  store: FileCertificateStore,
  domain: string,
  options: HotReloadOptions = {},
): HotReload {
  const onError = options.onError ?? (() => {});
  let installed: string | undefined;
  // Polling installs only what changed; an explicit reload() always installs.
  const install = async (force: boolean) => {
    const stored = await store.current(domain);
    if (stored && (force || stored.id + stored.meta.serial !== installed)) {
      server.setSecureContext({
        ...options.contextOptions,
        ...(await secureContextOptions(store, stored)),
      });
      installed = stored.id + stored.meta.serial;
      options.onReload?.(stored);
    }
    return stored;
  };
  const reload = () => install(true);
  const off = store.onSaved((stored) => {
    if (stored.meta.domains.includes(domain.toLowerCase())) install(false).catch(onError);
  });
  const timer = options.pollMs
    ? setInterval(() => install(false).catch(onError), options.pollMs)
    : undefined;
  timer?.unref();
  return {
    reload,
    stop: () => {
      off();
      if (timer) clearInterval(timer);
    },
  };
}
