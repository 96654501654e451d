// A loaded, validated scenario (scenario-format.md), with `repeat` already expanded.
// Node references are resolved to device_node objects of `dt`; every step keeps the position
// of the YAML it came from so that reports can point at it.
import type { device_node, device_tree } from '../kernel/of/node.ts';
import type { KernelFlow, smmu_hw_config } from '../kernel/kernel.ts';

export interface SourcePos { file: string; line: number; col: number }

/** A positioned input error: printed as `file:line:col: message`. */
export class ScenarioError extends Error {
  /** further errors of the same file found in the same pass (a device tree's, say) */
  readonly more: Array<{ line: number; col: number; detail: string }>;
  constructor(readonly file: string, readonly line: number, readonly col: number, readonly detail: string,
    more: Array<{ line: number; col: number; detail: string }> = []) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.more = more;
  }
}

/** Something accepted but ignored (an `#include` line), said once at its position. */
export interface ScenarioNote extends SourcePos { message: string }

export type StepExpect = 'ok' | 'deferred' | 'error' | 'fault' | 'isolated';
export type DmaDirection = 'bidirectional' | 'to_device' | 'from_device';

interface StepBase {
  /** 1-based index in the expanded step list */
  index: number;
  /** the `repeat` round numbers this step was expanded in, outermost first; [] outside any
   *  repeat (one array shared by the steps of a round) */
  readonly rounds: readonly number[];
  /** shared by the steps expanded from one YAML map */
  readonly pos: SourcePos;
  expect: StepExpect;
}

export type Step = StepBase & (
  | { kind: 'iommu_register'; iommu: device_node }
  | { kind: 'probe'; node: device_node }
  | { kind: 'create_context'; parent: device_node; name: string; id: number | null; node: device_node | null; dma_mask_bits: number }
  | { kind: 'destroy_context'; context: string }
  | { kind: 'dma_map'; context: string; buffer: string; size: number; direction: DmaDirection }
  | { kind: 'dma_unmap'; context: string; buffer: string }
  | { kind: 'dma'; context: string | null; sid: number | null; iommu: device_node | null; buffer: string; offset: number; write: boolean }
  | { kind: 'remove'; node: device_node }
);

export interface Scenario {
  /** the path as given on the command line or found under scenarios/ */
  file: string;
  id: string;
  /** where the `scenario` value is, for errors about the identifier (duplicates) */
  id_pos: SourcePos;
  summary: string;
  dt: device_tree;
  defines: Map<string, number>;
  /** per IOMMU node, what its ID registers report (defaults filled in for every IOMMU node) */
  hardware: Map<device_node, smmu_hw_config>;
  memory: { base: number; size: number };
  /** `patches`: out-of-tree series (harness/kernel/patches.ts) the scenario runs with */
  kernel: { flow: KernelFlow; bypass_unmatched_streams: boolean; patches: string[] };
  /** every node that is an IOMMU (compatible matched by arm-smmu), in tree order */
  iommus: device_node[];
  steps: Step[];
  notes: ScenarioNote[];
}

/** One stream the device tree wires to a context: the ground truth of what the hardware emits. */
export interface WiredStream {
  iommu: device_node;
  sid: number;
  mask: number;
}
