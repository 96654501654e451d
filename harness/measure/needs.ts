// Which out-of-tree series a verdict depends on: the run is made again without each series the
// scenario applies, and a series whose absence changes the verdict is one the result needs.
// `--patches none` runs every scenario on mainline instead.
import type { Scenario } from '../scenario/types.ts';
import type { Variant } from '../variant.ts';
import type { RunResult } from './results.ts';
import { run_scenario, type RunOptions } from './run.ts';

/** The scenario on a kernel with these series instead of its own (null: its own). */
export function with_patches(scn: Scenario, patches: string[] | null): Scenario {
  return patches === null ? scn : { ...scn, kernel: { ...scn.kernel, patches } };
}

export function run_with_needs(scn: Scenario, variant: Variant, opts: RunOptions): RunResult {
  const result = run_scenario(scn, variant, opts);
  for (const patch of scn.kernel.patches) {
    const without = with_patches(scn, scn.kernel.patches.filter((p) => p !== patch));
    const other = run_scenario(without, variant, { memory: false });
    if (other.verdict !== result.verdict) result.needs.push(patch);
  }
  return result;
}
