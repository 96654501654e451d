// One scenario x one variant: replay, then the checks that hold for every scenario, then the
// verdict. A variant that throws gets `error`; any failed check gets `fail`; one that says it
// cannot serve a parent gets `unsupported`, and what it did before that answer is still torn
// down and checked (a leak or a WARNING made earlier is a `fail`).
import type { Scenario } from '../scenario/types.ts';
import type { Variant } from '../variant.ts';
import type { device } from '../kernel/base/device.ts';
import type { RunResult } from './results.ts';
import { VariantCrash, fail, where, replay_boot, replay_step, replay_teardown, step_label, type ReplayState } from '../scenario/replay.ts';
import { check_dma_configure_order, kernel_warnings } from './checks.ts';
import { PROGRESS_TEARDOWN } from './jobs.ts';
import { teardown_leaks } from './teardown.ts';
import { coverage_of } from './coverage.ts';
import { describe_thrown } from '../thrown.ts';
import { heap_sampler } from './memory.ts';
import { review_findings, served_drivers } from './findings.ts';

/** Where the log stood when each step began (log length, and the step's index in scn.steps,
 *  BOOT or TEARDOWN): a kernel WARN is reported at its step. Numbers only, for long scenarios. */
interface Marks { at: number[]; step: number[] }
const BOOT = -1;
const TEARDOWN = -2;

function final_checks(st: ReplayState, marks: Marks): void {
  st.at = 'teardown';
  for (const leak of teardown_leaks(st.k, st.created, harness_devices(st))) fail(st, 'teardown-leak', leak);
  for (const p of check_dma_configure_order(st.k)) fail(st, 'dma-configure-order', p);
  kernel_warnings_at_steps(st, marks);
}

/** The devices the harness keeps past teardown: the SMMUs' platform devices. */
function harness_devices(st: ReplayState): Set<device> {
  const kept = new Set<device>();
  for (const np of st.scn.iommus) {
    const dev = st.k.of_platform_devices.get(np);
    if (dev) kept.add(dev);
  }
  return kept;
}

/** Kernel WARNs (misuse the C kernel would print a backtrace for) are findings, each at the
 *  step during which the kernel printed it, quoting the kernel's message. */
function kernel_warnings_at_steps(st: ReplayState, marks: Marks): void {
  let m = 0;
  for (const w of kernel_warnings(st.k)) {
    while (m + 1 < marks.at.length && marks.at[m + 1]! <= w.at) m++;
    const i = marks.step[m]!;
    const label = i === BOOT ? 'boot' : i === TEARDOWN ? 'teardown' : step_label(st.scn.steps[i]!);
    st.failures.push({ step: label, check: 'kernel-warning', message: w.message });
  }
}

/** An exception out of the replay: the variant's own throw, or one raised in kernel code
 *  while it ran the variant's callbacks (a C kernel would have oopsed). */
function crash_of(e: unknown, st: ReplayState | null): VariantCrash {
  if (e instanceof VariantCrash) return e;
  return new VariantCrash(st ? where(st) : 'boot', `uncaught ${describe_thrown(e)}`);
}

export interface RunOptions {
  /** told the index of each step as it starts (a worker publishes it for time-outs) */
  on_step?: (index: number) => void;
  /** measure the run's peak memory (each run then starts with two full garbage collections) */
  memory?: boolean;
}

export function run_scenario(scn: Scenario, variant: Variant, opts: RunOptions = {}): RunResult {
  const base = { scenario: scn.id, file: scn.file, variant: variant.name, kernel: { flow: scn.kernel.flow, patches: [...scn.kernel.patches] }, needs: [] };
  const on_step = opts.on_step ?? (() => {});
  let st: ReplayState | null = null;
  const marks: Marks = { at: [0], step: [BOOT] };
  // every 1024 steps, and where a run holds the most: before teardown and after the checks
  const mem = opts.memory === false ? null : heap_sampler();
  const peak = () => (mem ? { peak_heap_mb: mem.peak_mb() } : {});
  try {
    st = replay_boot(scn, variant);
    for (const step of scn.steps) {
      on_step(step.index);
      marks.at.push(st.k.log.length);
      marks.step.push(step.index - 1);
      replay_step(st, step);
      if ((step.index & 1023) === 0) mem?.sample();
      if (st.unsupported) break;
    }
    mem?.sample();
    on_step(PROGRESS_TEARDOWN);
    marks.at.push(st.k.log.length);
    marks.step.push(TEARDOWN);
    replay_teardown(st);
    final_checks(st, marks);
    mem?.sample();
  } catch (thrown) {
    const e = crash_of(thrown, st);
    return {
      ...base, verdict: 'error', unsupported: null,
      failures: [{ step: e.where, check: 'variant-error', message: e.detail }],
      coverage: st ? coverage_of(st.k, st.created) : { contexts: 0, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] },
      steps_run: st?.steps_run ?? 0, events: st?.k?.log.length ?? 0, ...review(st), ...peak(),
    };
  }
  const verdict = st.failures.length ? 'fail' : st.unsupported ? 'unsupported' : 'pass';
  return {
    ...base, verdict, failures: st.failures, unsupported: st.unsupported,
    coverage: coverage_of(st.k, st.created), steps_run: st.steps_run, events: st.k.log.length,
    ...review(st), ...peak(),
  };
}

/** The review findings and the client drivers served, from the kernel the run left. */
function review(st: ReplayState | null): Pick<RunResult, 'findings' | 'served'> {
  if (!st?.k) return { findings: [], served: [] };
  const parents = new Map<device, string>();
  for (const p of st.parents.values()) if (p.dev) parents.set(p.dev, p.driver_name);
  return { findings: review_findings(st.k, new Set(parents.keys())), served: served_drivers(st.k, parents) };
}
