/**
 * `fluxel-license`: license keys and tokens from the command line.
 *
 *   fluxel-license key generate [--prefix FLX] [--count N]
 *   fluxel-license key check <key> [--prefix FLX]
 *   fluxel-license token inspect <token>
 *   fluxel-license token verify <token> --jwks <file> --issuer <iss> [--jkt <thumbprint>]
 *                                       [--entitlement <name>]…
 *   fluxel-license --help | --version
 * `--json` prints machine-readable output. Exit codes: 0 ok, 1 invalid key or token, 2 usage.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { standardFlag } from '../../internal/src/cli-flags.js';
import type { Jwks } from './lib/claims.js';
import { LicenseError } from './lib/errors.js';
import { decodeJws } from './lib/jws.js';
import { generateLicenseKey, parseLicenseKey } from './lib/key.js';
import { createTokenVerifier } from './lib/token-verify.js';
import { PACKAGE_VERSION } from './version.js';

/** Where the CLI writes; replaceable in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage:
  fluxel-license key generate [--prefix FLX] [--count N] [--json]
  fluxel-license key check <key> [--prefix FLX] [--json]
  fluxel-license token inspect <token> [--json]
  fluxel-license token verify <token> --jwks <file> --issuer <iss> [--jkt <thumbprint>] [--entitlement <name>]... [--json]
fluxel-license --help prints this; fluxel-license --version the version.
Exit codes: 0 ok, 1 invalid key or token, 2 usage.`;

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const flag = standardFlag(argv);
  if (flag === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (flag === 'version') {
    io.out(`fluxel-license ${PACKAGE_VERSION}`);
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
  const [group, command, subject] = positionals;
  const json = values.json === true;
  const print = (human: string, data: unknown) => io.out(json ? JSON.stringify(data) : human);
  try {
    if (group === 'key' && command === 'generate') {
      const count = Number(values.count ?? 1);
      if (!Number.isInteger(count) || count < 1 || count > 1000)
        throw usage('--count is 1 to 1000');
      const keys = Array.from({ length: count }, () =>
        generateLicenseKey(values.prefix ? { prefix: values.prefix } : {}),
      );
      print(keys.join('\n'), { keys });
      return 0;
    }
    if (group === 'key' && command === 'check' && subject) {
      const key = parseLicenseKey(subject, values.prefix ? { prefix: values.prefix } : {});
      print(`valid license key for product ${key.prefix}: ${key.canonical}`, {
        valid: true,
        ...key,
      });
      return 0;
    }
    if (group === 'token' && command === 'inspect' && subject) {
      const jws = decodeJws(subject);
      if (!jws) throw new LicenseError('ERR_LICENSE_INVALID_TOKEN', 'not a well-formed JWT');
      const data = { verified: false, header: jws.header, claims: jws.payload };
      print(
        `NOT VERIFIED (inspect only decodes)\nheader: ${JSON.stringify(jws.header, null, 2)}\nclaims: ${JSON.stringify(jws.payload, null, 2)}`,
        data,
      );
      return 0;
    }
    if (group === 'token' && command === 'verify' && subject) {
      if (!values.jwks || !values.issuer) throw usage('token verify needs --jwks and --issuer');
      const jwks = JSON.parse(await readFile(values.jwks, 'utf8')) as Jwks;
      const verifier = createTokenVerifier({ jwks, issuer: values.issuer });
      const requirements = {
        ...(values.jkt ? { jkt: values.jkt } : {}),
        ...(values.entitlement ? { entitlements: values.entitlement } : {}),
      };
      const claims = await verifier
        .verifyLicenseToken(subject, requirements)
        .catch(async (error: unknown) => {
          if (LicenseError.isInstance(error) && error.message.includes('another type')) {
            return verifier.verifyAccessToken(subject, requirements);
          }
          throw error;
        });
      const expires = new Date(claims.exp * 1000).toISOString();
      print(
        `valid: license ${claims.sub} of ${claims.tid}, product ${claims.prd}, entitlements [${claims.ent.join(', ')}], bound to device ${claims.cnf.jkt}, valid until ${expires}`,
        { valid: true, claims },
      );
      return 0;
    }
    throw usage('unknown command');
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${USAGE}`);
      return 2;
    }
    if (LicenseError.isInstance(error)) {
      if (json) io.out(JSON.stringify({ valid: false, code: error.code, message: error.message }));
      else io.err(`${error.code}: ${error.message}`);
      return 1;
    }
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

class UsageError extends Error {}
function usage(message: string): UsageError {
  return new UsageError(message);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      prefix: { type: 'string' },
      count: { type: 'string' },
      jwks: { type: 'string' },
      issuer: { type: 'string' },
      jkt: { type: 'string' },
      entitlement: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  });
}

const isEntry =
  typeof process !== 'undefined' &&
  process.argv[1] !== undefined &&
  /fluxel-license|cli\.js$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
