// What the CLI keeps of a scenario. The workers load the scenarios (each keeps the one it read
// last, for the runs that follow) and replay them; the main thread only checks the files,
// schedules the runs and reports, for which these few figures are enough.
import type { Scenario, ScenarioNote, SourcePos } from './types.ts';

export interface ScenarioDigest {
  file: string;
  id: string;
  id_pos: SourcePos;
  summary: string;
  /** steps after `repeat` is expanded */
  steps: number;
  /** create_context steps that name the context by its iommu-map input id */
  contexts_by_id: number;
  /** every IOMMU takes 48-bit input addresses (a cold translation walks all four levels) */
  va_48: boolean;
  /** what the loader accepted but ignored (`#include` lines) */
  notes: ScenarioNote[];
  /** the kernel the scenario runs on: probe flow and out-of-tree series */
  kernel: { flow: string; patches: string[] };
}

export function scenario_digest(scn: Scenario): ScenarioDigest {
  let contexts_by_id = 0;
  for (const st of scn.steps) if (st.kind === 'create_context' && st.id !== null) contexts_by_id++;
  return {
    file: scn.file, id: scn.id, id_pos: scn.id_pos, summary: scn.summary, steps: scn.steps.length,
    contexts_by_id, va_48: [...scn.hardware.values()].every((h) => h.va_bits === 48), notes: scn.notes,
    kernel: { flow: scn.kernel.flow, patches: [...scn.kernel.patches] },
  };
}
