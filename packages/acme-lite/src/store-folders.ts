/**
 * The certificate stores under one root, one per ACME directory folder
 * (`<root>/letsencrypt/<directory-host-reversed>`): what `fluxel-acme show` and `delete`
 * search when no `--directory` says which CA's folder is meant. Node only (the CLI's).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CertificateMeta, FileCertificateStore } from './node/store.js';
import { LETS_ENCRYPT_PRODUCTION } from './objects.js';

/**
 * A store for every directory folder that holds a certificate, Let's Encrypt production first
 * (the folder's directory URL is read from a certificate's meta.json in it).
 */
export async function storesUnder(root: string): Promise<FileCertificateStore[]> {
  const production = new FileCertificateStore({ root, directoryUrl: LETS_ENCRYPT_PRODUCTION });
  const stores = [production];
  let folders: string[];
  try {
    folders = await readdir(join(root, 'letsencrypt'));
  } catch {
    return stores;
  }
  for (const folder of folders.sort()) {
    const directoryUrl = await directoryOf(join(root, 'letsencrypt', folder));
    if (!directoryUrl) continue;
    const store = new FileCertificateStore({ root, directoryUrl });
    // A folder whose name does not match its certificates' directory is not ours to guess at.
    if (store.base === join(root, 'letsencrypt', folder) && store.base !== production.base)
      stores.push(store);
  }
  return stores;
}

async function directoryOf(folder: string): Promise<string | undefined> {
  let orders: string[];
  try {
    orders = await readdir(join(folder, 'orders'));
  } catch {
    return undefined;
  }
  for (const order of orders) {
    try {
      const meta = JSON.parse(
        await readFile(join(folder, 'orders', order, 'meta.json'), 'utf8'),
      ) as CertificateMeta;
      if (typeof meta.directoryUrl === 'string') return meta.directoryUrl;
    } catch {
      // incomplete order: try the next
    }
  }
  return undefined;
}
