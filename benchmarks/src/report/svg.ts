/**
 * One chart per package: a horizontal bar per benchmark with its ratio (higher is better) on a
 * logarithmic axis, coloured by what it is compared against (a peer library or a limit), with
 * the issue's target drawn as a line on the bar's row and parity (1×) as a dashed line.
 * Plain SVG 1.1 text, no library; `<title>` and `<desc>` carry the whole chart for screen
 * readers.
 */

export interface ChartRow {
  readonly bench: string;
  /** What `theirs` was: the peer's or the limit's name. */
  readonly against: string;
  readonly kind: 'peer' | 'limit';
  readonly ratio: number;
  /** Ratio targets of this bench (`metric: ratio`), with their status. */
  readonly targets: readonly {
    readonly value: number;
    readonly label: string;
    readonly met: boolean;
  }[];
  /** The bench's other targets (not on the ratio axis), counted in the row's status. */
  readonly others?: readonly { readonly label: string; readonly met: boolean }[];
}

export interface Chart {
  readonly title: string;
  readonly rows: readonly ChartRow[];
}

const WIDTH = 900;
const LABEL_W = 320;
const PLOT_X = LABEL_W + 20;
const PLOT_W = WIDTH - PLOT_X - 90;
const TOP = 92;
const ROW_H = 62;
const BAR_H = 18;
const COLOURS = { peer: '#1f5fa8', limit: '#b35900' } as const;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Formats a ratio for the chart: 3 significant digits, `×` after. */
export function formatRatio(ratio: number): string {
  // Three significant digits, so 0.499 does not read as a met 0.5.
  return `${ratio >= 100 ? Math.round(ratio) : Number(ratio.toPrecision(3))}×`;
}

/** Decades of the log axis covering every ratio and target, with room on both sides. */
export function axisRange(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.min(1, ...positive);
  const hi = Math.max(1, ...positive);
  let min = 10 ** Math.floor(Math.log10(lo));
  let max = 10 ** Math.ceil(Math.log10(hi));
  if (min === max) max *= 10;
  if (lo / min < 1.15) min /= 10;
  if (max / hi < 1.15) max *= 10;
  return [min, max];
}

/** Tick values 1, 2, 5 × 10^k within the range (only 1 × 10^k when the range is wide). */
export function ticks(min: number, max: number): number[] {
  const decades = Math.round(Math.log10(max / min));
  const steps = decades > 3 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let e = Math.round(Math.log10(min)); e <= Math.round(Math.log10(max)); e++) {
    for (const s of steps) {
      const v = Number((s * 10 ** e).toPrecision(6));
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

function tickLabel(v: number): string {
  return `${v >= 1 ? v : Number(v.toPrecision(1))}×`;
}

/** Renders the chart as a standalone SVG document. */
export function renderChart(chart: Chart): string {
  const values = chart.rows.flatMap((r) => [r.ratio, ...r.targets.map((t) => t.value)]);
  const [min, max] = axisRange(values);
  const x = (v: number) =>
    PLOT_X + (Math.log10(Math.min(max, Math.max(min, v)) / min) / Math.log10(max / min)) * PLOT_W;
  const height = TOP + chart.rows.length * ROW_H + 56;
  const bottom = TOP + chart.rows.length * ROW_H;
  const n = (v: number) => Number(v.toFixed(1));
  const out: string[] = [];
  const titleText = `${chart.title}: benchmark ratios (higher is better)`;
  const desc = chart.rows
    .map((r) => {
      const target = [...r.targets, ...(r.others ?? [])]
        .map((t) => `target ${t.label}, ${t.met ? 'met' : 'not met'}`)
        .join('; ');
      return `${r.bench}: ${formatRatio(r.ratio)} of ${r.against} (${r.kind === 'peer' ? 'peer' : 'limit'})${target ? `; ${target}` : '; no target'}.`;
    })
    .join(' ');

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title desc" ${FONT} font-size="13">`,
    `<title id="title">${xmlEscape(titleText)}</title>`,
    `<desc id="desc">${xmlEscape(desc || 'No results.')}</desc>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="17" font-weight="bold" fill="#111111">${xmlEscape(chart.title)}</text>`,
    `<text x="16" y="48" fill="#333333">ratio to a peer or a limit, higher is better (rates ours ÷ theirs, times theirs ÷ ours); log scale</text>`,
  );
  // legend
  const legendY = 66;
  out.push(
    `<g aria-hidden="true">`,
    `<rect x="16" y="${legendY - 10}" width="14" height="12" fill="${COLOURS.peer}"/>`,
    `<text x="36" y="${legendY}" fill="#111111">vs peer library</text>`,
    `<rect x="156" y="${legendY - 10}" width="14" height="12" fill="${COLOURS.limit}"/>`,
    `<text x="176" y="${legendY}" fill="#111111">vs limit (hardware, floor or bare baseline)</text>`,
    `<line x1="470" y1="${legendY - 12}" x2="470" y2="${legendY + 2}" stroke="#111111" stroke-width="3"/>`,
    `<text x="478" y="${legendY}" fill="#111111">target from the issue</text>`,
    `<line x1="640" y1="${legendY - 5}" x2="664" y2="${legendY - 5}" stroke="#666666" stroke-dasharray="4 3"/>`,
    `<text x="670" y="${legendY}" fill="#111111">1× (parity)</text>`,
    `</g>`,
  );
  // grid and axis
  out.push(`<g aria-hidden="true">`);
  for (const t of ticks(min, max)) {
    const tx = n(x(t));
    out.push(
      `<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#666666' : '#e2e2e2'}"${t === 1 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${tx}" y="${bottom + 18}" text-anchor="middle" fill="#333333">${xmlEscape(tickLabel(t))}</text>`,
    );
  }
  out.push(
    `<line x1="${PLOT_X}" y1="${bottom}" x2="${PLOT_X + PLOT_W}" y2="${bottom}" stroke="#333333"/>`,
    `<text x="${PLOT_X + PLOT_W / 2}" y="${bottom + 40}" text-anchor="middle" fill="#333333">ratio (×)</text>`,
    `</g>`,
  );
  // rows
  chart.rows.forEach((row, i) => {
    const y = TOP + i * ROW_H;
    const barY = y + 22;
    const end = x(row.ratio);
    const all = [...row.targets, ...(row.others ?? [])];
    const met = all.filter((t) => t.met).length;
    const failed = met < all.length;
    const status =
      all.length === 0
        ? 'no target'
        : all.length === 1
          ? failed
            ? 'target not met'
            : 'target met'
          : `${met} of ${all.length} met${row.others?.length ? ' (see table)' : ''}`;
    out.push(
      `<g>`,
      `<text x="16" y="${y + 24}" font-weight="bold" fill="#111111">${xmlEscape(row.bench)}</text>`,
      ...wrap(`${row.kind === 'peer' ? 'peer' : 'limit'}: ${row.against}`, 48, 2).map(
        (line, k) =>
          `<text x="16" y="${y + 41 + k * 14}" font-size="11.5" fill="#444444">${xmlEscape(line)}</text>`,
      ),
      `<rect x="${PLOT_X}" y="${barY}" width="${n(Math.max(1, end - PLOT_X))}" height="${BAR_H}" fill="${COLOURS[row.kind]}"/>`,
    );
    for (const t of row.targets) {
      const tx = n(x(t.value));
      out.push(
        `<line x1="${tx}" y1="${barY - 7}" x2="${tx}" y2="${barY + BAR_H + 7}" stroke="#111111" stroke-width="3"/>`,
        `<text x="${tx}" y="${barY - 9}" text-anchor="middle" font-size="11" fill="#111111">${xmlEscape(`target ${formatRatio(t.value)}`)}</text>`,
      );
    }
    // The ratio's label goes right of the bar, or right of a target line just beyond it.
    let left = end + 6;
    for (const t of row.targets) {
      const tx = x(t.value);
      if (tx >= end - 2 && tx < end + 64) left = Math.max(left, tx + 8);
    }
    const labelX = n(Math.min(left, PLOT_X + PLOT_W + 6));
    out.push(
      `<text x="${labelX}" y="${barY + 14}" font-weight="bold" fill="#111111">${xmlEscape(formatRatio(row.ratio))}</text>`,
      `<text x="${labelX}" y="${barY + 29}" font-size="11" fill="${all.length === 0 ? '#444444' : failed ? '#a00000' : '#1d6b1d'}">${xmlEscape(status)}</text>`,
      `</g>`,
    );
  });
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}

/** Splits text into at most `lines` lines of about `width` characters, at spaces. */
export function wrap(text: string, width: number, lines: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  if (out.length <= lines) return out;
  const kept = out.slice(0, lines - 1);
  const rest = out.slice(lines - 1).join(' ');
  kept.push(`${rest.slice(0, Math.max(0, width - 1)).trimEnd()}…`);
  return kept;
}
