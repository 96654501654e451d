// reports/bench.svg: the ratios of the performance section as a bar chart, one group of bars
// per benchmark and one bar per variant, on a logarithmic axis (a context create and destroy
// is some 10,000 times slower than a table load, a hot translation a few times slower),
// with each goal drawn as a dashed line. Plain SVG 1.1, no script, deterministic.
import type { Results } from '../measure/results.ts';
import { BASELINE, bench_variants, chart_rows, format_ratio, sanitise } from './common.ts';

const WIDTH = 760;
const LABEL = 190;
const RIGHT = 70;
const BAR = 14;
const GAP = 4;
const GROUP_GAP = 14;
const TOP = 56;
/** legend entries per line */
const LEGEND_ROW = 3;
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

function esc(s: string): string {
  return sanitise(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** The SVG, or null when no row was measured. */
export function format_chart_svg(r: Results): string | null {
  const rows = chart_rows(r);
  if (rows.length === 0) return null;
  const variants = bench_variants(r).filter((v) => rows.some((b) => b.variant === v));
  const names = [...new Set(rows.map((b) => b.name))];
  const lo = Math.floor(Math.log10(Math.min(...rows.map((b) => b.ratio), ...rows.flatMap((b) => (b.goal ? [b.goal] : [])))));
  const hi = Math.max(0, Math.ceil(Math.log10(Math.max(...rows.map((b) => b.ratio)))));
  const plot = WIDTH - LABEL - RIGHT;
  const x = (ratio: number): number => LABEL + ((Math.log10(ratio) - lo) / (hi - lo || 1)) * plot;
  const group_h = variants.length * (BAR + GAP) - GAP;
  const top = TOP + Math.floor((variants.length - 1) / LEGEND_ROW) * 16;
  const height = top + names.length * (group_h + GROUP_GAP) + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${num(height)}" viewBox="0 0 ${WIDTH} ${num(height)}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${num(height)}" fill="#ffffff"/>`,
    `<text x="${LABEL}" y="18" font-size="14" font-weight="bold">ops/s over ${esc(BASELINE)} (log scale; higher is faster)</text>`,
  ];
  variants.forEach((v, i) => {
    const lx = LABEL + (i % LEGEND_ROW) * 170;
    const ly = 28 + Math.floor(i / LEGEND_ROW) * 16;
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`, `<text x="${lx + 16}" y="${ly + 10}">${esc(v)}</text>`);
  });
  const bottom = height - 30;
  for (let e = lo; e <= hi; e++) {
    const gx = num(x(10 ** e));
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${num(bottom)}" stroke="#dddddd"/>`);
    out.push(`<text x="${gx}" y="${num(bottom + 16)}" text-anchor="middle" fill="#555555">${e === 0 ? '1' : `1e${e}`}</text>`);
  }
  names.forEach((name, g) => {
    const y0 = top + g * (group_h + GROUP_GAP);
    out.push(`<text x="${LABEL - 8}" y="${num(y0 + group_h / 2 + 4)}" text-anchor="end">${esc(name)}</text>`);
    variants.forEach((v, i) => {
      const b = rows.find((row) => row.name === name && row.variant === v);
      if (!b) return;
      const y = y0 + i * (BAR + GAP);
      const w = Math.max(1, x(b.ratio) - LABEL);
      const interval = `${format_ratio(b.ratio_low).slice(0, -1)}-${format_ratio(b.ratio_high)}`;
      out.push(`<rect x="${LABEL}" y="${num(y)}" width="${num(w)}" height="${BAR}" fill="${COLORS[i % COLORS.length]}"><title>${esc(`${name}, ${v}: ${format_ratio(b.ratio)} [${interval}]`)}</title></rect>`);
      // the interval over the rounds, as a whisker across the end of the bar
      const [wl, wh] = [x(b.ratio_low), x(b.ratio_high)];
      if (b.ratio_low > 0 && wh > wl) out.push(`<line x1="${num(wl)}" y1="${num(y + BAR / 2)}" x2="${num(wh)}" y2="${num(y + BAR / 2)}" stroke="#000000" stroke-width="1.5"/>`);
      out.push(`<text x="${num(Math.max(LABEL + w, wh) + 4)}" y="${num(y + BAR - 3)}">${esc(format_ratio(b.ratio))}</text>`);
    });
    const goal = rows.find((row) => row.name === name && row.goal !== null)?.goal;
    if (goal) {
      const gx = num(x(goal));
      out.push(`<line x1="${gx}" y1="${num(y0 - 3)}" x2="${gx}" y2="${num(y0 + group_h + 3)}" stroke="#c00000" stroke-width="2" stroke-dasharray="4 3"><title>goal ${goal}</title></line>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
