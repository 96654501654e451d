// One record per case, the same shape whether a real kernel or the model ran the case, and the
// comparison of two records field by field.
import type { CaseOp, ConformanceCase } from './cases.ts';

/** What a fresh device asking for the case's stream ID got. */
export type Reuse = 'own-group' | 'no-group' | 'leaked-group';

/** What one step left on the context device. Fields a step does not touch are null. */
export interface StepObservation {
  op: CaseOp;
  /** the step's return value (device_add, of_dma_configure_id, driver_register, ...) */
  ret: number | null;
  /** dev->iommu_group != NULL after the step */
  group: boolean | null;
  /** dev->iommu != NULL after the step (fwspec and IOMMU private data still attached) */
  dev_iommu: boolean | null;
  /** add with a driver registered: dev->iommu_group != NULL when the driver's probe() ran */
  probe_group: boolean | null;
  /** sid_reuse, sid_reuse_listed: what the fresh device got */
  reuse: Reuse | null;
}

export interface CaseRecord {
  case: string;
  steps: StepObservation[];
  /** at delete: the device had IOMMU state and lost it (iommu_release_device or an
   *  equivalent ran), kept it (a leak), or had none to begin with */
  teardown_at_delete: 'released' | 'leaked' | 'none' | null;
  /** a fresh device could take the stream ID afterwards with a group of its own */
  stream_id_free: boolean | null;
  /** WARN()s and warning-level messages the case caused, by their text, sorted */
  warnings: string[];
}

/** The messages a case may cause that both sides name the same way; other kernel WARNs are
 *  kept by their location, so an unexpected one still fails the comparison. */
export const NOTABLE_MESSAGES: readonly string[] = [
  'late IOMMU probe at driver bind, something fishy here!',
  'DMA mask not set',
];

export function empty_step(op: CaseOp): StepObservation {
  return { op, ret: null, group: null, dev_iommu: null, probe_group: null, reuse: null };
}

/** The derived fields, from the steps: the same function for both sides. */
export function case_record(name: string, steps: StepObservation[], warnings: string[]): CaseRecord {
  const at = steps.findIndex((s) => s.op === 'delete');
  let teardown: CaseRecord['teardown_at_delete'] = null;
  if (at >= 0) {
    const before = steps.slice(0, at).reverse().find((s) => s.group !== null);
    const had = !!before && (before.group === true || before.dev_iommu === true);
    const after = steps[at]!;
    const kept = after.group === true || after.dev_iommu === true;
    teardown = !had ? 'none' : kept ? 'leaked' : 'released';
  }
  const reuse = steps.find((s) => s.reuse !== null);
  return {
    case: name, steps, teardown_at_delete: teardown,
    stream_id_free: reuse ? reuse.reuse === 'own-group' : null,
    warnings: [...warnings].sort(),
  };
}

/** One field on which the model and the kernel differ. */
export interface Difference {
  case: string;
  /** "add.group", "teardown_at_delete", "warnings", ... */
  field: string;
  kernel: unknown;
  model: unknown;
  /** set when the case data names this field as an SMMUv3/SMMUv2 difference */
  known: string | null;
}

const STEP_FIELDS = ['ret', 'group', 'dev_iommu', 'probe_group', 'reuse'] as const;

/** Every field where `model` differs from `kernel`, for one case. */
export function compare_records(c: ConformanceCase, kernel: CaseRecord, model: CaseRecord): Difference[] {
  const out: Difference[] = [];
  const known = (field: string) => c.smmu_differences?.[field] ?? null;
  const diff = (field: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ case: c.name, field, kernel: a, model: b, known: known(field) });
  };
  diff('steps', kernel.steps.map((s) => s.op), model.steps.map((s) => s.op));
  if (out.length) return out;
  kernel.steps.forEach((ks, i) => {
    const ms = model.steps[i]!;
    for (const f of STEP_FIELDS) diff(`${ks.op}.${f}`, ks[f], ms[f]);
  });
  diff('teardown_at_delete', kernel.teardown_at_delete, model.teardown_at_delete);
  diff('stream_id_free', kernel.stream_id_free, model.stream_id_free);
  diff('warnings', kernel.warnings, model.warnings);
  return out;
}

export function describe_difference(d: Difference): string {
  const what = `${d.case}: ${d.field}: kernel ${JSON.stringify(d.kernel)}, model ${JSON.stringify(d.model)}`;
  return d.known ? `${what} (known: ${d.known})` : what;
}
