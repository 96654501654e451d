// The model's records against a kernel's, case by case: the comparison `npm test` makes with
// the committed observations and `npm run conformance` makes with a fresh boot.
import { CASES, type ConformanceCase } from './cases.ts';
import { compare_records, type CaseRecord, type Difference } from './record.ts';
import { run_case_on_model, type ModelHooks } from './model.ts';

export interface CaseVerdict {
  case: ConformanceCase;
  /** null: the kernel run has no record for this case */
  kernel: CaseRecord | null;
  model: CaseRecord;
  /** every differing field, the known SMMUv3/SMMUv2 ones included */
  differences: Difference[];
  /** a kernel record exists and every difference is a known one */
  agrees: boolean;
}

export function judge(kernel_records: readonly CaseRecord[], hooks: ModelHooks = {}): CaseVerdict[] {
  return CASES.map((c) => {
    const kernel = kernel_records.find((r) => r.case === c.name) ?? null;
    const model = run_case_on_model(c, hooks);
    const differences = kernel
      ? compare_records(c, kernel, model)
      : [{ case: c.name, field: 'record', kernel: null, model: 'present', known: null }];
    return { case: c, kernel, model, differences, agrees: differences.every((d) => d.known !== null) };
  });
}
