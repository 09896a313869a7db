/**
 * `fluxel-audit`: the command-line verifier.
 *
 *   fluxel-audit verify <path> [--public-key <file>]… [--json] [--live] [--allow-empty]
 *
 * Exit codes: 0 the log verifies, 1 findings, 2 usage or I/O error.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { standardFlag } from '../../internal/src/cli-flags.js';
import { AuditError } from './errors.js';
import { parseVerifyingKey, type VerifyingKey } from './keys.js';
import { verifyPath } from './node.js';
import type { VerifyReport } from './verify.js';
import { PACKAGE_VERSION } from './version.js';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

const USAGE = `usage: fluxel-audit verify <path> [--public-key <file>]... [--json] [--live] [--allow-empty]

  <path>              a log directory (segment files) or a single segment file
  --public-key <file> pin a checkpoint key (JWK, or raw key as hex/base64url); repeatable
  --json              print the report as JSON
  --live              the log is still being written: an unsigned tail is not a finding
  --anchor <size>:<head>  a checkpoint kept elsewhere that the log must contain
  --allow-empty       no log is expected yet: an empty log verifies (otherwise finding
                      empty-log, since every log starts with a signed checkpoint)

--help / --version anywhere (before "--") print this / the version.
exit codes: 0 verified, 1 findings, 2 usage or I/O error
`;

function progressBar(stderr: CliIo['stderr']) {
  let total = 0;
  let last = -1;
  return {
    onTotal(bytes: number) {
      total = bytes;
    },
    onProgress(bytes: number) {
      if (!stderr.isTTY || total < 16 << 20) return;
      const pct = Math.min(100, Math.floor((bytes / total) * 100));
      if (pct === last) return;
      last = pct;
      const width = Math.max(10, Math.min(40, (stderr.columns ?? 80) - 30));
      const filled = Math.round((pct / 100) * width);
      stderr.write(
        `\rverifying [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${(bytes / 1048576).toFixed(0)} MiB`,
      );
    },
    done() {
      if (last >= 0) stderr.write('\r\x1b[K');
    },
  };
}

/** Quotes a word for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** What to do to pin the key the log brought itself (trust on first use). */
function pinAdvice(report: VerifyReport, path: string): string[] {
  const key = report.firstUseKey;
  if (!key) return ["key trust: none (no checkpoint key; pin the writer's key with --public-key)"];
  const file = `fluxel-audit-${key.kid}.pub`;
  return [
    'key trust: first use, NOT pinned: the key comes from the log itself, so a forger who',
    "  rewrites the whole log with their own key would also pass. The log's checkpoint key:",
    `  kid ${key.kid}, SHA-256 fingerprint ${key.fingerprint}`,
    `  public key ${key.publicKey}`,
    '  Compare the fingerprint with the key the writer was configured with (not with this log),',
    '  then pin it next time:',
    `    printf '%s\\n' ${key.publicKey} > ${file}`,
    `    fluxel-audit verify ${shellWord(path)} --public-key ${file}`,
  ];
}

function human(report: VerifyReport, path: string): string {
  const lines: string[] = [];
  lines.push(
    `${path}: ${report.records} records (${report.events} events, ${report.checkpoints} checkpoints), seq ${report.firstSeq ?? '-'}..${report.lastSeq ?? '-'}, log ${report.logId ?? '?'}`,
  );
  if (report.trust === 'pinned') lines.push('key trust: pinned');
  else lines.push(...pinAdvice(report, path));
  if (report.lastCheckpoint)
    lines.push(
      `last checkpoint: seq ${report.lastCheckpoint.seq} (${report.lastCheckpoint.checkpoint.reason}) at ${report.lastCheckpoint.checkpoint.time}`,
    );
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.ok) lines.push('OK: chain, checkpoints and signatures verify');
  else {
    lines.push(
      `FAILED: ${report.findings.length} finding(s); first bad sequence number: ${report.firstBadSeq ?? '-'}`,
    );
    for (const f of report.findings)
      lines.push(
        `  ${f.code}${f.seq !== undefined ? ` at seq ${f.seq}` : ''}${f.source ? ` (${f.source}${f.line ? `:${f.line}` : ''})` : ''}: ${f.message}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the CLI with arguments (without `node` and the script); returns the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [command, ...rest] = argv;
  const flag = standardFlag(argv);
  if (flag === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (flag === 'version') {
    io.stdout.write(`fluxel-audit ${PACKAGE_VERSION}\n`);
    return 0;
  }
  if (command !== 'verify') {
    io.stderr.write(USAGE);
    return 2;
  }
  const keys: VerifyingKey[] = [];
  let json = false;
  let live = false;
  let allowEmpty = false;
  let anchor: { size: number; head: string } | undefined;
  let path: string | undefined;
  try {
    let operandsOnly = false;
    for (let i = 0; i < rest.length; i++) {
      const arg = rest[i] as string;
      if (operandsOnly || !arg.startsWith('-')) {
        if (path !== undefined)
          throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `unexpected argument ${arg}`);
        path = arg;
      } else if (arg === '--') operandsOnly = true;
      else if (arg === '--json') json = true;
      else if (arg === '--live') live = true;
      else if (arg === '--allow-empty') allowEmpty = true;
      else if (arg === '--public-key') {
        const file = rest[++i];
        if (!file) throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', '--public-key needs a file');
        keys.push(parseVerifyingKey(readFileSync(file, 'utf8')));
      } else if (arg === '--anchor') {
        const m = /^(\d+):([0-9a-f]{64})$/.exec(rest[++i] ?? '');
        if (!m)
          throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', '--anchor needs <size>:<64 hex head>');
        anchor = { size: Number(m[1]), head: m[2] as string };
      } else throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', `unknown option ${arg}`);
    }
    if (path === undefined) throw new AuditError('ERR_AUDIT_INVALID_ARGUMENT', 'missing <path>');
  } catch (error) {
    io.stderr.write(`fluxel-audit: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const bar = progressBar(io.stderr);
  let report: VerifyReport;
  try {
    report = await verifyPath(path, {
      ...(keys.length > 0 ? { publicKeys: keys } : {}),
      live,
      allowEmpty,
      ...(anchor ? { anchor } : {}),
      onTotal: bar.onTotal,
      onProgress: bar.onProgress,
    });
  } catch (error) {
    bar.done();
    io.stderr.write(`fluxel-audit: ${(error as Error).message}\n`);
    return 2;
  }
  bar.done();
  io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : human(report, path));
  return report.ok ? 0 : 1;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fluxel-audit: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
