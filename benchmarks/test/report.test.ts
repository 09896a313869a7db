import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { result } from '../src/harness.ts';
import { parseArgs, writeReport } from '../src/report/main.ts';
import {
  chartOf,
  formatNumber,
  type ReportData,
  renderMarkdown,
  sections,
} from '../src/report/markdown.ts';
import {
  asTargets,
  check,
  type Found,
  parseResultLines,
  type Target,
  type Targets,
} from '../src/report/model.ts';
import { axisRange, formatRatio, renderChart, ticks, wrap, xmlEscape } from '../src/report/svg.ts';
import { parseXml } from './xml.ts';

const targetsFile = join(import.meta.dirname, '..', 'targets.json');
const realTargets = asTargets(JSON.parse(readFileSync(targetsFile, 'utf8')));

const line = (...args: Parameters<typeof result>) => JSON.stringify(result(...args));

const target = (over: Partial<Target>): Target => ({
  bench: 'x/case',
  issue: 1,
  wording: 'as the issue says',
  label: '≥ 0.5× peer',
  metric: 'ratio',
  op: '>=',
  value: 0.5,
  ...over,
});

const machine = {
  cpu: 'Test CPU <fast> & cheap',
  cores: 2,
  memoryGiB: 24,
  node: 'v20.20.2',
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: 'Linux 6.1 x64',
  loadStart: [3.5, 2, 1],
  loadEnd: [4.25, 3, 1.5],
  loadDuring: { min: 2, median: 3.5, max: 6.5 },
};

function data(found: Found[], exitCode = 0): ReportData {
  return {
    machine,
    run: {
      started: '2026-11-22T22:00:00.000Z',
      seconds: 312,
      quick: false,
      command: 'pnpm bench',
      exitCode,
    },
    results: found,
  };
}

describe('result lines', () => {
  it('finds plain and turbo-prefixed lines and ignores everything else', () => {
    const output = [
      '@fluxel/benchmarks:bench: > tsx src/run.ts',
      '@fluxel/benchmarks:bench: # crypto.bench.ts',
      `@fluxel/benchmarks:bench: ${line('crypto/seal-1mib', 900, 'node:crypto', 1000, 'MB/s')}`,
      `\u001b[36m@fluxel-example/portal:bench: \u001b[0m${line('portal/signin-p50', 80, 'argon2id', 30, 'ms', { p99Ms: 120 })}`,
      line('audit/verify-vs-sha256', 500, 'sha256', 1000, 'records/s'),
      ' Tasks:    3 successful, 3 total',
      '',
    ].join('\n');
    const found = parseResultLines(output);
    expect(found.map((f) => f.result.bench)).toEqual([
      'crypto/seal-1mib',
      'portal/signin-p50',
      'audit/verify-vs-sha256',
    ]);
    expect(found[0]?.task).toBe('@fluxel/benchmarks:bench');
    expect(found[1]?.task).toBe('@fluxel-example/portal:bench');
    expect(found[1]?.result.extra).toEqual({ p99Ms: 120 });
    expect(found[1]?.result.ratio).toBe(0.375);
    expect(found[2]?.task).toBeUndefined();
  });

  it('refuses a line that starts like a result but is not one', () => {
    expect(() => parseResultLines('pkg:bench: {"bench":"x/y","ours":1')).toThrow(/bad JSON/);
    expect(() =>
      parseResultLines(
        '{"bench":"x/y","ours":"fast","peer":"p","theirs":1,"unit":"ops/s","ratio":1}',
      ),
    ).toThrow(/numbers/);
    expect(() =>
      parseResultLines(
        '{"bench":"x/y","ours":1,"peer":"p","theirs":1,"unit":"furlongs","ratio":1}',
      ),
    ).toThrow(/unit/);
  });
});

describe('targets', () => {
  const r = result('x/case', 40, 'peer', 100, 'ops/s', { rssMB: 120, ours: 9, theirs: 12 });

  it('met and not met, by ratio, by figure and by an extra', () => {
    expect(check(target({ value: 0.4 }), [r]).status).toBe('met');
    expect(check(target({ value: 0.5 }), [r])).toMatchObject({
      status: 'not met',
      measured: 0.4,
      threshold: 0.5,
    });
    expect(check(target({ metric: 'ours', op: '>=', value: 40 }), [r]).status).toBe('met');
    expect(check(target({ metric: 'ours', op: '>', value: 40 }), [r]).status).toBe('not met');
    expect(check(target({ metric: 'extra.rssMB', op: '<', value: 150 }), [r]).status).toBe('met');
    expect(check(target({ metric: 'extra.rssMB', op: '<=', value: 100 }), [r]).status).toBe(
      'not met',
    );
  });

  it('compares two figures of the same line', () => {
    const fewer = target({ metric: 'extra.ours', op: '<', value: 'extra.theirs' });
    expect(check(fewer, [r])).toMatchObject({ status: 'met', measured: 9, threshold: 12 });
  });

  it('a bench that did not run, or lacks the figure, is not measured — never met', () => {
    expect(check(target({ bench: 'x/other' }), [r]).status).toBe('not measured');
    expect(check(target({ metric: 'extra.nothing' }), [r]).status).toBe('not measured');
  });

  it('report-only targets are reported with their figure', () => {
    expect(check(target({ op: 'report', metric: 'ours' }), [r])).toMatchObject({
      status: 'reported',
      measured: 40,
    });
  });

  it('the last line of a bench counts', () => {
    const again = result('x/case', 80, 'peer', 100, 'ops/s');
    expect(check(target({}), [r, again]).status).toBe('met');
  });

  it('the reviewed targets file is consistent', () => {
    expect(realTargets.targets.length).toBeGreaterThan(20);
    for (const t of realTargets.targets) {
      const pkg = realTargets.packages.find((p) => t.bench.startsWith(`${p.prefix}/`));
      expect(pkg, t.bench).toBeDefined();
      expect([pkg?.issue, ...(pkg?.laterIssues ?? [])], t.bench).toContain(t.issue);
      expect(realTargets.benches[t.bench], t.bench).toBeDefined();
      expect(t.wording.length, t.bench).toBeGreaterThan(40);
    }
    // Every numeric ratio target of the package issues is there.
    const ratio = realTargets.targets.filter((t) => t.metric === 'ratio').map((t) => t.bench);
    expect(ratio).toEqual(
      expect.arrayContaining([
        'crypto/seal-1mib',
        'crypto/open-1mib',
        'crypto/seal-256b-vs-aws',
        'crypto/open-256b-vs-raw',
        'crypto/stream-64mib',
        'license/verify-request-vs-jose',
        'license/verify-request-vs-raw',
        'license/proof-vs-jose',
        'audit/append-file-vs-pino',
        'audit/verify-vs-sha256',
        'acme/issue-vs-acme-client',
        'acme/issue-vs-protocol-floor',
        'relay-client/request-overhead',
        'relay/forward-vs-bare-proxy',
      ]),
    );
  });

  it('a malformed targets file is refused', () => {
    expect(() => asTargets({ packages: [], benches: {} })).toThrow();
    expect(() =>
      asTargets({ packages: [], benches: {}, targets: [target({ op: '≥' as never })] }),
    ).toThrow(/op/);
    expect(() =>
      asTargets({ packages: [], benches: {}, targets: [{ ...target({}), value: undefined }] }),
    ).toThrow(/value/);
    expect(() =>
      asTargets({ packages: [], benches: {}, targets: [target({ metric: 'speed' })] }),
    ).toThrow(/metric/);
  });
});

const sample: Targets = {
  packages: [
    { prefix: 'crypto', title: '@fluxel/crypto', slug: 'crypto', issue: 3 },
    { prefix: 'acme', title: '@fluxel/acme-lite', slug: 'acme-lite', issue: 6 },
  ],
  benches: {
    'crypto/seal-1mib': { kind: 'limit' },
    'crypto/seal-256b-vs-aws': { kind: 'peer', note: 'peer <aws> & co' },
  },
  targets: [
    target({ bench: 'crypto/seal-1mib', issue: 3, label: '≥ 0.9× raw', value: 0.9 }),
    target({ bench: 'crypto/seal-256b-vs-aws', issue: 3, label: '≥ 100× aws', value: 100 }),
    target({
      bench: 'crypto/seal-256b-vs-aws',
      issue: 3,
      label: 'peak RSS',
      metric: 'extra.peakRssMiB',
      unit: 'MiB',
      op: '<',
      value: 200,
    }),
    target({ bench: 'acme/issue-vs-acme-client', issue: 6, label: 'time ≤ 0.25×', value: 4 }),
  ],
};
const found: Found[] = parseResultLines(
  [
    line('crypto/seal-1mib', 950, 'node:crypto aes-256-gcm', 1000, 'MB/s'),
    line('crypto/seal-256b-vs-aws', 30_000, '@aws-crypto <client-node> & "raw"', 1200, 'ops/s', {
      peakRssMiB: 175,
    }),
    line('crypto/unlisted', 5, 'someone', 10, 'ms'),
  ].join('\n'),
);

describe('markdown report', () => {
  const md = renderMarkdown(data(found), sample);

  it('has the machine, the date, the duration and the load', () => {
    expect(md).toContain('| CPU | Test CPU &lt;fast> & cheap |');
    expect(md).toContain('| load average (1 / 5 / 15 min) at start | 3.50 / 2.00 / 1.00 |');
    expect(md).toContain('| cores | 2 |');
    expect(md).toContain('| RAM | 24.0 GiB |');
    expect(md).toContain('v20.20.2');
    expect(md).toContain('2026-11-22 22:00:00');
    expect(md).toContain('5 min 12 s');
    expect(md).toContain('3.50 / 2.00 / 1.00');
    expect(md).toContain('4.25 / 3.00 / 1.50');
    expect(md).toMatch(/machine was busy/);
  });

  it('says which targets are met, not met and not measured', () => {
    expect(md).toContain('2 met, 1 not met, 1 not measured.');
    expect(md).toMatch(
      /\| #3 \| `crypto\/seal-1mib` \| ≥ 0\.9× raw \| 0\.95× \(≥ 0\.9×\) \| \*\*met\*\* \|/,
    );
    expect(md).toMatch(
      /`crypto\/seal-256b-vs-aws` \| ≥ 100× aws \| 25× \(≥ 100×\) \| \*\*not met\*\*/,
    );
    expect(md).toMatch(/`acme\/issue-vs-acme-client` \| time ≤ 0\.25× \| — \| not measured/);
  });

  it('one section per package with its chart, table, extras and the issue wording', () => {
    expect(md).toContain(
      '![@fluxel/crypto: ratios against peers and limits, with targets](benchmarks/crypto.svg)',
    );
    expect(md).not.toContain('benchmarks/acme-lite.svg');
    expect(md).toContain('_No results in this run_');
    expect(md).toContain(
      '| `crypto/seal-1mib` | 950 |  | 1,000 (node:crypto aes-256-gcm) | 0.95× | MB/s | ≥ 0.9× raw | **met** |',
    );
    expect(md).toContain(
      '| `crypto/unlisted` | 5 | 10 (someone) |  | 2× | ms | no target | no target |',
    );
    expect(md).toContain('- `crypto/seal-256b-vs-aws`: peakRssMiB 175');
    expect(md).toContain('> Issue #3: “as the issue says”');
  });

  it('a failed run says so', () => {
    expect(renderMarkdown(data(found, 1), sample)).toContain('exited with 1');
  });

  it('formats numbers for people', () => {
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(123.456)).toBe('123.5');
    expect(formatNumber(0.36612)).toBe('0.366');
  });
});

describe('SVG chart', () => {
  const [crypto] = sections(data(found), sample);
  if (!crypto) throw new Error('no section');
  const svg = renderChart(chartOf(crypto, sample));

  it('is well-formed XML with an accessible title and description', () => {
    const elements = parseXml(svg);
    const root = elements[0];
    expect(root?.name).toBe('svg');
    expect(root?.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(root?.attributes.role).toBe('img');
    expect(root?.attributes['aria-labelledby']).toBe('title desc');
    expect(elements[1]?.name).toBe('title');
    expect(elements[1]?.text).toBe('@fluxel/crypto: benchmark ratios (higher is better)');
    const desc = elements.find((e) => e.name === 'desc')?.text ?? '';
    expect(desc).toContain(
      'crypto/seal-1mib: 0.95× of node:crypto aes-256-gcm (limit); target ≥ 0.9× raw, met.',
    );
    expect(desc).toContain('target ≥ 100× aws, not met; target peak RSS, met');
    expect(desc).toContain('&lt;client-node&gt; &amp; &quot;raw&quot;');
  });

  it('draws a bar per bench and a target line per ratio target', () => {
    const elements = parseXml(svg);
    const bars = elements.filter((e) => e.name === 'rect' && e.attributes.height === '18');
    expect(bars).toHaveLength(3);
    const texts = elements.filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['target 0.9×', 'target 100×', '25×', '0.95×']));
    expect(texts).toContain('1 of 2 met (see table)');
    expect(texts).toContain('no target');
    // bars grow with the ratio
    const width = (i: number) => Number(bars[i]?.attributes.width);
    expect(width(1)).toBeGreaterThan(width(0));
  });

  it('the well-formedness check itself catches broken XML', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/repeats/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/second root/);
    expect(() => parseXml('<svg x=1/>')).toThrow(/malformed/);
    expect(parseXml('<svg><text>a &amp; b &#215;</text></svg>')).toHaveLength(2);
  });

  it('never rounds a missed target up to the target', () => {
    expect(formatRatio(0.499)).toBe('0.499×');
    expect(formatRatio(21.89)).toBe('21.9×');
    expect(formatRatio(100.4)).toBe('100×');
  });

  it('escapes, wraps and scales', () => {
    expect(xmlEscape(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    expect(wrap('one two three four five six', 9, 2)).toEqual(['one two', 'three fo…']);
    expect(axisRange([0.37, 0.9, 25, 100])).toEqual([0.1, 1000]);
    expect(axisRange([1.05, 0.5])).toEqual([0.1, 10]);
    expect(ticks(0.1, 10)).toEqual([0.1, 0.2, 0.5, 1, 2, 5, 10]);
    expect(ticks(0.1, 1000)).toEqual([0.1, 1, 10, 100, 1000]);
  });
});

describe('writing the report', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-report-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the page, a chart per package with results, the saved results; drops stale charts', () => {
    writeFileSync(join(out, 'stale.txt'), '');
    const stale = join(out, 'benchmarks', 'acme-lite.svg');
    writeReport(data([]), sample, out);
    writeFileSync(stale, '<svg/>');
    const written = writeReport(data(found), sample, out);
    expect(written.map((f) => f.slice(out.length + 1)).sort()).toEqual([
      'benchmarks.md',
      'benchmarks/crypto.svg',
      'benchmarks/results.json',
    ]);
    expect(existsSync(stale)).toBe(false);
    parseXml(readFileSync(join(out, 'benchmarks', 'crypto.svg'), 'utf8'));
    const saved = JSON.parse(readFileSync(join(out, 'benchmarks', 'results.json'), 'utf8'));
    expect(saved.results).toHaveLength(3);
    expect(renderMarkdown(saved, sample)).toBe(readFileSync(join(out, 'benchmarks.md'), 'utf8'));
  });

  it('renders the real targets file against a real run’s lines', () => {
    const lines = [
      line('relay/forward-vs-bare-proxy', 564, 'bare Fastify + undici proxy', 1552, 'req/s', {
        p99AddedMs: 280,
      }),
      line('acme/issue-vs-acme-client', 20, 'acme-client auto()', 45, 'ms', {
        oursRequestsPerIssuance: 8,
        acmeClientRequestsPerIssuance: 10,
      }),
    ].join('\n');
    const md = renderMarkdown(data(parseResultLines(lines)), realTargets);
    expect(md).toMatch(
      /`relay\/forward-vs-bare-proxy` \| ≥ 0\.5× bare Fastify \+ undici proxy \| 0\.3634× \(≥ 0\.5×\) \| \*\*not met\*\*/,
    );
    expect(md).toMatch(/added p99 ≤ 2 ms .*\| 280 ms \(≤ 2 ms\) \| \*\*not met\*\*/);
    expect(md).toMatch(
      /fewer HTTP requests per issuance than acme-client \| 8 requests \(< 10\) \| \*\*met\*\*/,
    );
    expect(md).toMatch(
      /time ≤ 0\.25× acme-client auto\(\) \(ratio ≥ 4×\) \| 2\.25× \(≥ 4×\) \| \*\*not met\*\*/,
    );
    for (const s of sections(data(parseResultLines(lines)), realTargets))
      if (s.results.length > 0) parseXml(renderChart(chartOf(s, realTargets)));
  });
});

describe('issue 18 relay cost lines', () => {
  it('render against the real targets file: µs and statements per send, issues #8 and #18', () => {
    const lines = [
      line('relay/cpu-per-send-vs-proxy', 1300, 'bare Fastify + undici proxy', 850, 'µs'),
      line('relay/pg-statements-per-send-32', 0.27, 'issue 18 budget', 0.1, 'statements/send'),
      line('relay/pg-cpu-per-send', 117, 'bare proxy CPU per send', 850, 'µs'),
      line('relay/added-p99-50pct', 5, 'bare Fastify + undici proxy', 2, 'ms', { addedP99Ms: 3 }),
    ].join('\n');
    const found = parseResultLines(lines);
    const md = renderMarkdown(data(found), realTargets);
    expect(md).toMatch(/Targets from issues #8, #18\./);
    expect(md).toMatch(
      /relay CPU per send ≤ 2× the bare proxy's \(ratio ≥ 0\.5×\) \| 0\.6538× \(≥ 0\.5×\) \| \*\*met\*\*/,
    );
    expect(md).toMatch(
      /≤ 0\.1 PostgreSQL statements per send at 32 in flight \| 0\.27 statements\/send \(≤ 0\.1 statements\/send\) \| \*\*not met\*\*/,
    );
    expect(md).toMatch(
      /added p99 ≤ 2 ms at 50 % of the relay's own peak \| 3 ms \(≤ 2 ms\) \| \*\*not met\*\*/,
    );
    for (const s of sections(data(found), realTargets))
      if (s.results.length > 0) parseXml(renderChart(chartOf(s, realTargets)));
  });
});

describe('options', () => {
  it('pnpm bench -- --quick, --from, --out; anything else is refused', () => {
    expect(parseArgs(['--', '--quick'])).toMatchObject({ quick: true });
    expect(parseArgs([])).toMatchObject({ quick: false });
    expect(parseArgs(['--from', '/tmp/r.json', '--out', '/tmp/o'])).toMatchObject({
      from: '/tmp/r.json',
      out: '/tmp/o',
    });
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--from'])).toThrow(/unknown option/);
  });
});
