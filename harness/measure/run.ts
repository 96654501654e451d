// One scenario x one variant: replay, then the checks that hold for every scenario, then the
// verdict. A variant that throws gets `error`; one that says it cannot serve the parent gets
// `unsupported`; any failed check gets `fail`.
import type { Scenario } from '../scenario/types.ts';
import type { Variant } from '../variant.ts';
import type { RunResult } from './results.ts';
import { VariantCrash, fail, replay_boot, replay_step, replay_teardown, type ReplayState } from '../scenario/replay.ts';
import { check_dma_configure_order, kernel_warnings } from './checks.ts';
import { teardown_leaks } from './teardown.ts';
import { coverage_of } from './coverage.ts';

function final_checks(st: ReplayState): void {
  st.where = 'teardown';
  for (const leak of teardown_leaks(st.k, st.created)) fail(st, 'teardown-leak', leak);
  for (const p of check_dma_configure_order(st.k)) fail(st, 'dma-configure-order', p);
  for (const w of kernel_warnings(st.k)) fail(st, 'kernel-warning', w);
}

/** An exception out of the replay: the variant's own throw, or one raised in kernel code
 *  while it ran the variant's callbacks (a C kernel would have oopsed). */
function crash_of(e: unknown, st: ReplayState | null): VariantCrash {
  if (e instanceof VariantCrash) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const frame = /\((?:file:\/\/)?([^()]*variants\/[^():]+:\d+:\d+)\)/.exec(err.stack ?? '')?.[1];
  return new VariantCrash(st?.where ?? 'boot', `uncaught ${err.name}: ${err.message}${frame ? ` (at ${frame.replace(/^.*?(variants\/)/, '$1')})` : ''}`);
}

export function run_scenario(scn: Scenario, variant: Variant, on_step: (index: number) => void = () => {}): RunResult {
  const base = { scenario: scn.id, file: scn.file, variant: variant.name };
  let st: ReplayState | null = null;
  try {
    st = replay_boot(scn, variant);
    for (const step of scn.steps) {
      on_step(step.index);
      replay_step(st, step);
      if (st.unsupported) break;
    }
    replay_teardown(st);
    if (!st.unsupported) final_checks(st);
  } catch (thrown) {
    const e = crash_of(thrown, st);
    return {
      ...base, verdict: 'error', unsupported: null,
      failures: [{ step: e.where, check: 'variant-error', message: e.detail }],
      coverage: st ? coverage_of(st.k, st.created) : { contexts: 0, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] },
      steps_run: st?.steps_run ?? 0, events: st?.k?.log.events.length ?? 0,
    };
  }
  const verdict = st.failures.length ? 'fail' : st.unsupported ? 'unsupported' : 'pass';
  return {
    ...base, verdict, failures: st.failures, unsupported: st.unsupported,
    coverage: coverage_of(st.k, st.created), steps_run: st.steps_run, events: st.k.log.events.length,
  };
}
