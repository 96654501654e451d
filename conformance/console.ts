// The serial console of a conformance boot -> one record per case. The C test prints one
// `CONFORMANCE: {json}` line per step and frames each case with phase markers; the kernel's own
// messages between the markers are the case's warnings.
import { CASES } from './cases.ts';
import { NOTABLE_MESSAGES, case_record, empty_step, type CaseRecord, type StepObservation } from './record.ts';

export interface ConsoleRun {
  records: CaseRecord[];
  /** the test printed {"done":true} */
  done: boolean;
  /** {"abort": ...} lines: the test could not run */
  aborts: string[];
  /** the kernel's "Linux version ..." banner */
  banner: string | null;
  /** per case, the IOMMU messages the kernel printed (for the reader; not compared) */
  messages: Record<string, string[]>;
}

/** Messages kept for the reader: they explain a record without being part of it. */
const INFORMATIVE = ['Aliasing StreamID', 'Adding to iommu group', 'Removing from iommu group', 'late IOMMU probe', 'DMA mask not set'];

const MARK = 'CONFORMANCE: ';

/** The text of a console line without its "[    0.123456] " timestamp. */
function strip(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s?/, '').replace(/\r$/, '');
}

type Line = { case?: string; phase?: string; done?: boolean; abort?: string } & Partial<StepObservation>;

export function parse_console(text: string): ConsoleRun {
  const steps = new Map<string, StepObservation[]>();
  const warnings = new Map<string, string[]>();
  const messages: Record<string, string[]> = {};
  const aborts: string[] = [];
  let done = false;
  let banner: string | null = null;
  let current: string | null = null;
  let in_warn = false;
  let explained = false;

  for (const raw of text.split('\n')) {
    const line = strip(raw);
    if (!banner && line.startsWith('Linux version ')) banner = line;
    const at = line.indexOf(MARK);
    if (at >= 0) {
      let j: Line;
      try { j = JSON.parse(line.slice(at + MARK.length)) as Line; } catch { continue; }
      if (j.done) done = true;
      if (j.abort) aborts.push(j.case ? `${j.case}: ${j.abort}` : j.abort);
      if (j.case && j.phase) current = j.phase === 'begin' ? j.case : null;
      if (j.case && j.op) {
        const list = steps.get(j.case) ?? [];
        list.push({ ...empty_step(j.op), ret: j.ret ?? null, group: j.group ?? null, dev_iommu: j.dev_iommu ?? null, probe_group: j.probe_group ?? null, reuse: j.reuse ?? null });
        steps.set(j.case, list);
      }
      continue;
    }
    if (!current) continue;
    const warn = (w: string) => { const l = warnings.get(current!) ?? []; l.push(w); warnings.set(current!, l); };
    if (line.includes('[ cut here ]')) { in_warn = true; explained = false; continue; }
    const notable = NOTABLE_MESSAGES.find((m) => line.includes(m));
    if (notable) {
      warn(notable);
      if (in_warn) explained = true;
    }
    if (line.startsWith('WARNING: ')) {
      // 7.3: "WARNING: drivers/iommu/iommu.c:662 at __iommu_probe_device+0x224/0x474, CPU#0: ..."
      if (!explained) warn(`WARN in ${/(\w+)\+0x/.exec(line)?.[1] ?? '?'} (${/(\S+\.[ch]):\d+/.exec(line)?.[1] ?? '?'})`);
      in_warn = false;
    }
    if (INFORMATIVE.some((m) => line.includes(m))) (messages[current] ??= []).push(line);
  }

  const records = CASES.filter((c) => steps.has(c.name))
    .map((c) => case_record(c.name, steps.get(c.name)!, warnings.get(c.name) ?? []));
  return { records, done, aborts, banner, messages };
}
