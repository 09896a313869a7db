/**
 * The flags every Fluxel CLI answers wherever they stand: `--help` (`-h`, or `help` as the
 * first word) and `--version` (`-v`, or `version` first), anywhere before `--` — after it they
 * are operands. `fluxel-audit verify --help` prints the usage, as `fluxel-audit --help` does.
 */
export type CliFlag = 'help' | 'version' | undefined;

/** Which of the two flags the arguments ask for (help wins when both are given). */
export function standardFlag(argv: readonly string[]): CliFlag {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  const first = flags[0];
  if (first === 'help' || flags.includes('--help') || flags.includes('-h')) return 'help';
  if (first === 'version' || flags.includes('--version') || flags.includes('-v')) return 'version';
  return undefined;
}
