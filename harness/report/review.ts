// What a reviewer would say of each design, and which verdicts rest on out-of-tree series:
// the review findings (harness/measure/findings.ts), the cost of each further client driver,
// and the kernel each verdict depended on. Plain lines; each report wraps and styles them.
import type { Results, VariantInfo } from '../measure/results.ts';
import { KERNEL_PATCHES } from '../kernel/patches.ts';

/** Appended to a verdict that would differ without an out-of-tree series (RunResult.needs). */
export const NEEDS_MARK = '+';

/** "+ needs an out-of-tree series: ..." for the legend, or null when no verdict needs one. */
export function needs_legend(r: Results): string | null {
  const ids = [...new Set(r.results.flatMap((x) => x.needs))].sort();
  if (!ids.length) return null;
  const named = ids.map((id) => {
    const p = KERNEL_PATCHES.find((x) => x.id === id);
    return p ? `${id} ("${p.subject}", ${p.authors}, ${p.status})` : id;
  });
  return `${NEEDS_MARK}: the verdict needs the out-of-tree series ${named.join(', ')}; without it the run's verdict differs (npm run compare -- --patches none)`;
}

/** One line per verdict that depends on a series: "scenario x design: pass needs X". */
export function needs_lines(r: Results): string[] {
  return r.results.filter((x) => x.needs.length).map((x) => `${x.scenario} x ${x.variant}: ${x.verdict} needs ${x.needs.join(', ')}`);
}

/** "design: kind xN: message" for every review finding, designs in report order. */
export function finding_lines(v: VariantInfo): string[] {
  return v.findings.map((f) => `${f.kind}${f.count > 1 ? ` x${f.count}` : ''}: ${f.message}`);
}

/** What a second and a third client driver would add to the design, from the runs. */
export function per_driver_line(v: VariantInfo): string | null {
  const pd = v.cost?.per_driver;
  if (!pd || pd.drivers.length === 0) return null;
  const adds = pd.buses || pd.core_edits
    ? `${pd.buses} bus type${pd.buses === 1 ? '' : 's'} and ${pd.core_edits} core edit${pd.core_edits === 1 ? '' : 's'} each`
    : 'nothing (its drivers share what it has)';
  return `a second and a third client driver add ${adds}; served here: ${pd.drivers.join(', ')}`;
}

/** The review section as plain lines: per design, its findings and its per-driver cost. */
export function review_lines(r: Results): string[] {
  const out: string[] = [];
  for (const v of r.variants) {
    if (v.load_error !== null) continue;
    const lines = [...finding_lines(v)];
    const pd = per_driver_line(v);
    if (pd) lines.push(`cost: ${pd}`);
    out.push(`${v.name}:`, ...(lines.length ? lines.map((l) => `  ${l}`) : ['  nothing a reviewer would flag']));
  }
  return out;
}

/** "The model agrees with Linux 7.3.4 on 13/13 cases (recorded DATE)", or null. */
export function conformance_line(r: Results): string | null {
  const c = r.conformance;
  if (!c) return null;
  const off = c.disagreeing.length ? `; it disagrees on ${c.disagreeing.join(', ')}` : '';
  return `Conformance: the model agrees with ${c.kernel} on ${c.agree}/${c.total} cases (recorded ${c.recorded}; npm run conformance re-checks it)${off}`;
}
