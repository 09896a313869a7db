/**
 * `fluxel-acme`: certificates from Let's Encrypt (or any ACME CA) from the command line.
 *
 *   fluxel-acme account  --email <address>
 *   fluxel-acme issue    <domain…> --email <address> [--http-port 80] [--profile <name>] [--key-type ec|rsa]
 *   fluxel-acme renew    [<domain>…] [--force] [--http-port 80]
 *   fluxel-acme show     [<domain|order-id>]
 *   fluxel-acme delete   <domain|order-id>
 *   fluxel-acme evaluate <domain> [--port 443] [--host <address>] [--trust <ca.pem>]
 *   fluxel-acme revoke   <domain|order-id> [--reason <0-10>]
 * Common: --directory <url> (default Let's Encrypt production; `show` and `delete` without it
 * look in every CA's folder of the store), --staging, --store <dir>
 * (default .), --ca <pem> (trust this CA for the ACME server), --eab-kid/--eab-hmac, --json.
 * Exit codes: 0 ok, 1 failed, 2 usage.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { standardFlag } from '../../internal/src/cli-flags.js';
import { AcmeError } from './errors.js';
import {
  acmeFetch,
  evaluate,
  FileCertificateStore,
  obtainCertificate,
  openAccount,
  startChallengeServer,
} from './node.js';
import { LETS_ENCRYPT_PRODUCTION, LETS_ENCRYPT_STAGING } from './objects.js';
import { renewalTime } from './renewal.js';
import { storesUnder } from './store-folders.js';
import { PACKAGE_VERSION } from './version.js';

/** Where the CLI writes; replaceable in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage:
  fluxel-acme account  --email <address>
  fluxel-acme issue    <domain>... --email <address> [--http-port 80] [--profile <name>] [--key-type ec|rsa]
  fluxel-acme renew    [<domain>...] [--force] [--http-port 80]
  fluxel-acme show     [<domain|order-id>]
  fluxel-acme delete   <domain|order-id>
  fluxel-acme evaluate <domain> [--port 443] [--host <address>] [--trust <ca.pem>]
  fluxel-acme revoke   <domain|order-id> [--reason <0-10>]
options: --directory <url> | --staging, --store <dir> (default .), --ca <pem>,
         --eab-kid <kid> --eab-hmac <key>, --json
show and delete without --directory/--staging look in every CA's folder of the store.
fluxel-acme --help prints this; fluxel-acme --version the version.
An order id can begin with "-": put it after "--" (fluxel-acme delete -- -AbC…).`;

class UsageError extends Error {}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      email: { type: 'string' },
      directory: { type: 'string' },
      staging: { type: 'boolean' },
      store: { type: 'string' },
      ca: { type: 'string' },
      'http-port': { type: 'string' },
      profile: { type: 'string' },
      'key-type': { type: 'string' },
      force: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      trust: { type: 'string' },
      reason: { type: 'string' },
      'eab-kid': { type: 'string' },
      'eab-hmac': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

function portOf(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${name} is a port number`);
  return port;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const flag = standardFlag(argv);
  if (flag === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (flag === 'version') {
    io.out(`fluxel-acme ${PACKAGE_VERSION}`);
    return 0;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  const json = values.json === true;
  const print = (human: string, data: unknown) => io.out(json ? JSON.stringify(data) : human);
  const progress = (step: string) => {
    if (!json) io.err(`… ${step}`);
  };
  try {
    if (values.staging && values.directory)
      throw new UsageError('--staging and --directory exclude each other');
    const explicitDirectory = values.staging === true || values.directory !== undefined;
    const directoryUrl = values.staging
      ? LETS_ENCRYPT_STAGING
      : (values.directory ?? LETS_ENCRYPT_PRODUCTION);
    const root = values.store ?? '.';
    const store = new FileCertificateStore({ root, directoryUrl });
    const ca = values.ca ? await readFile(values.ca, 'utf8') : undefined;
    const fetch = acmeFetch(ca ? { ca } : {});
    const eab =
      values['eab-kid'] && values['eab-hmac']
        ? { kid: values['eab-kid'], hmacKey: values['eab-hmac'] }
        : undefined;
    const account = () =>
      openAccount({
        store,
        fetch,
        ...(values.email ? { email: values.email } : {}),
        ...(eab ? { externalAccountBinding: eab } : {}),
      });
    const issue = async (domains: string[], replaces?: Awaited<ReturnType<typeof store.find>>) => {
      const client = await account();
      const listener = await startChallengeServer({
        port: portOf(values['http-port'], 80, '--http-port'),
      });
      progress(`answering HTTP-01 on port ${listener.port}`);
      try {
        const keyType = values['key-type'];
        if (keyType && keyType !== 'ec' && keyType !== 'rsa')
          throw new UsageError('--key-type is ec or rsa');
        return await obtainCertificate({
          client,
          store,
          domains,
          challengeStore: listener.store,
          onProgress: progress,
          ...(keyType === 'rsa' ? { keyType: { type: 'rsa' as const } } : {}),
          ...(values.profile ? { profile: values.profile } : {}),
          ...(replaces ? { replaces } : {}),
        });
      } finally {
        await listener.close();
      }
    };

    switch (command) {
      case 'account': {
        if (args.length > 0) throw new UsageError('account takes no arguments');
        const client = await account();
        print(`account ${client.accountUrl} at ${directoryUrl}`, {
          accountUrl: client.accountUrl,
          directoryUrl,
        });
        return 0;
      }
      case 'issue': {
        if (args.length === 0) throw new UsageError('issue needs at least one domain');
        if (!values.email && !(await store.loadAccount()))
          throw new UsageError('issue needs --email for the new account');
        const stored = await issue(args);
        print(
          `issued ${stored.meta.domains.join(', ')} (serial ${stored.meta.serial}, valid until ${stored.meta.notAfter})\n  ${stored.certPath}\n  ${stored.keyPath}`,
          stored,
        );
        return 0;
      }
      case 'renew': {
        const all = await store.list();
        const domains =
          args.length > 0 ? args : [...new Set(all.map((s) => s.meta.domains[0] as string))];
        const results: { domain: string; renewed: boolean; serial?: string; dueAt?: string }[] = [];
        for (const domain of domains) {
          const current = await store.current(domain);
          let dueAt = new Date();
          if (current) {
            const cert = {
              notBefore: new Date(current.meta.notBefore),
              notAfter: new Date(current.meta.notAfter),
            };
            // The CA's ARI window when it has one, else one third of the lifetime left.
            const ari = await (await account())
              .renewalInfo(await readFile(current.certPath, 'utf8'))
              .catch(() => undefined);
            dueAt = renewalTime(cert, ari ? { ari: ari.suggestedWindow } : {});
          }
          if (!values.force && current && dueAt.getTime() > Date.now()) {
            results.push({ domain, renewed: false, dueAt: dueAt.toISOString() });
            continue;
          }
          const stored = await issue(current ? [...current.meta.domains] : [domain], current);
          results.push({ domain, renewed: true, serial: stored.meta.serial });
        }
        print(
          results
            .map((r) =>
              r.renewed
                ? `${r.domain}: renewed (serial ${r.serial})`
                : `${r.domain}: not due until ${r.dueAt}`,
            )
            .join('\n') || 'nothing stored',
          { results },
        );
        return 0;
      }
      case 'show': {
        // Without --directory/--staging: every CA's folder in the store, production first.
        const stores = explicitDirectory ? [store] : await storesUnder(root);
        const where = stores.map((s) => s.base).join(', ');
        const reports = [];
        if (args.length === 0) {
          for (const s of stores)
            for (const stored of await s.list()) reports.push(await s.show(stored.id));
        }
        for (const target of args) {
          const found = await firstIn(stores, (s) => s.show(target));
          if (!found)
            throw new AcmeError('ERR_ACME_STORE', `no certificate for ${target} in ${where}`);
          reports.push(found);
        }
        const shown = reports.filter((r) => r !== undefined);
        print(
          shown
            .map(
              (r) =>
                `${r.meta.domains.join(', ')} (order ${r.id})\n  subject  ${r.subject}\n  SANs     ${r.sans.join(', ')}\n  issuer   ${r.issuer}\n  valid    ${r.notBefore.toISOString()} – ${r.notAfter.toISOString()} (${r.daysLeft} days left)\n  serial   ${r.serial}\n  directory ${r.meta.directoryUrl}\n  cert     ${r.certPath}\n  key      ${r.keyPath}`,
            )
            .join('\n') || `no certificates in ${where}`,
          { certificates: shown },
        );
        return 0;
      }
      case 'delete': {
        const [target] = args;
        if (!target || args.length > 1) throw new UsageError('delete needs one domain or order id');
        const stores = explicitDirectory ? [store] : await storesUnder(root);
        const matches = [];
        for (const s of stores) {
          const stored = await s.find(target);
          if (stored) matches.push({ store: s, stored });
        }
        const [match, other] = matches;
        if (!match)
          throw new AcmeError(
            'ERR_ACME_STORE',
            `no certificate for ${target} in ${stores.map((s) => s.base).join(', ')}`,
          );
        if (other)
          throw new UsageError(
            `${target} has certificates from ${matches.map((m) => m.stored.meta.directoryUrl).join(' and ')}: name one with --directory, or give the order id`,
          );
        await match.store.delete(match.stored.id);
        print(`deleted ${match.stored.certPath} and ${match.stored.keyPath}`, {
          deleted: match.stored.id,
        });
        return 0;
      }
      case 'evaluate': {
        const [domain] = args;
        if (!domain || args.length > 1) throw new UsageError('evaluate needs one domain');
        const trust = values.trust ? await readFile(values.trust, 'utf8') : undefined;
        const result = await evaluate(domain, {
          port: portOf(values.port, 443, '--port'),
          store,
          ...(values.host ? { host: values.host } : {}),
          ...(trust ? { ca: trust } : {}),
        });
        print(
          result.ok
            ? `OK: https://${domain}:${result.port} serves the stored certificate (serial ${result.servedSerial}, ${result.daysLeft} days left)`
            : `NOT OK: ${result.reason}`,
          result,
        );
        return result.ok ? 0 : 1;
      }
      case 'revoke': {
        const [target] = args;
        if (!target || args.length > 1) throw new UsageError('revoke needs one domain or order id');
        const stored = await store.find(target);
        if (!stored) throw new AcmeError('ERR_ACME_STORE', `no certificate for ${target}`);
        const reason = values.reason === undefined ? undefined : Number(values.reason);
        if (reason !== undefined && !(Number.isInteger(reason) && reason >= 0 && reason <= 10))
          throw new UsageError('--reason is 0 to 10');
        const client = await account();
        await client.revoke(
          await readFile(stored.certPath, 'utf8'),
          reason === undefined ? {} : { reason },
        );
        print(`revoked serial ${stored.meta.serial}`, { revoked: stored.meta.serial });
        return 0;
      }
      default:
        throw new UsageError(command ? `unknown command ${command}` : 'no command');
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${USAGE}`);
      return 2;
    }
    if (AcmeError.isInstance(error)) {
      if (json)
        io.out(
          JSON.stringify({
            ok: false,
            code: error.code,
            ...(error.reason !== undefined ? { reason: error.reason } : {}),
            message: error.message,
          }),
        );
      else io.err(`${error.code}: ${error.message}`);
      return 1;
    }
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  return /(?:^|[\\/])(?:cli\.js|fluxel-acme)$/.test(entry);
})();

if (invokedDirectly) {
  main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}

/** The first store's answer that is not `undefined`, in order. */
async function firstIn<S, T>(stores: readonly S[], look: (store: S) => Promise<T | undefined>) {
  for (const store of stores) {
    const found = await look(store);
    if (found !== undefined) return found;
  }
  return undefined;
}
