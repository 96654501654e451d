// The benchmark tasks of one variant, as its worker runs them: which fixtures each needs, how
// each is verified before it is timed, and one tinybench pass over all of them. Also the
// messages between the main thread (bench.ts) and the worker (bench-worker.ts).
import { Bench, type Task } from 'tinybench';
import type { Scenario } from '../scenario/types.ts';
import type { Variant } from '../variant.ts';
import {
  FixtureError, batch_context, batch_dma, batch_flat, batch_steps, batch_translate, cold_fixture, context_fixture,
  dma_fixture, fixture_base, hot_fixture, scale_context_op, scale_contexts, scale_dma_fixture, scale_step_fixture, sparse_fixture,
  verify_context, verify_dma, verify_steps, verify_walk, type BatchTime, type LiveContexts,
} from './bench-fixtures.ts';
import { describe_thrown } from '../thrown.ts';

export const BASELINE = 'flat-lookup';

/** The rows of every variant, in report order; the ratio goals of the issue. */
export const ROWS = ['flat-lookup', 'translate-hot', 'translate-cold', 'translate-cold-sparse', 'dma-map-unmap', 'context-create-destroy'] as const;
export type RowName = typeof ROWS[number];
export const RATIO_GOALS: Partial<Record<RowName, number>> = { 'translate-hot': 0.6, 'translate-cold': 0.15 };

/** The scaling rows: one operation with `small` and with `large` live objects (for
 *  replay-step: steps replayed before it), and the most its cost ratio should be.
 *  many-contexts is context-create-destroy again, from 10,000 to 300,000 live contexts. */
export const SCALING = [
  { name: 'context-create-destroy', small: 100, large: 10_000, goal: 1.5 },
  { name: 'dma-map', small: 1_000, large: 100_000, goal: 1.5 },
  { name: 'replay-step', small: 10_000, large: 1_000_000, goal: 1.2 },
  { name: 'many-contexts', small: 10_000, large: 300_000, goal: 1.5 },
] as const;
/** the input id whose context a context scaling row creates and destroys: the first id past
 *  its live ones, the same at both sizes (so that the operation lands on the same SMMU and
 *  stream ID whatever the number of live ones) */
export function scale_op_id(large: number): number {
  return large;
}

export function scaling_task(name: string, live: number): string {
  return `${name}@${live}`;
}

/** How long one pass gives each task. */
export interface PassOptions { time_ms: number; warmup_ms: number }

/** What one task did in one pass. */
export interface TaskPass {
  task: string;
  /** per-operation cost of each batch, milliseconds */
  samples: number[];
  /** per batch, the per-operation cost of its reference batch (run just before it) over its
   *  own: the ops/s ratio of the pair; empty for a task without a reference */
  ratios: number[];
  /** per batch, the per-operation cost of that reference batch, milliseconds */
  refs: number[];
  /** null when the measurement is good; else why it is a failed measurement */
  failed: string | null;
}

export type BenchRequest =
  /** file: the scenario of the rows (null: no rows); scale_file: of the scaling rows */
  | { type: 'setup'; dir: string; file: string | null; scale_file: string | null }
  | { type: 'pass'; options: PassOptions };

export type BenchReply =
  | { type: 'ready' }
  | { type: 'setup'; tasks: string[]; skipped: Array<{ task: string; why: string }> }
  | { type: 'pass'; results: TaskPass[] }
  | { type: 'failed'; message: string };

/** A batch function bound to its fixture, given the bench's clock. */
type Batch = (now: () => number) => BatchTime;

export interface Prepared {
  batches: Map<string, Batch>;
  /** the task whose batch runs just before each batch of a task, for its ratio: the
   *  baseline for the rows, the smaller size for a scaling row's larger one */
  reference: Map<string, string>;
  /** tasks that cannot be measured, and why ("failed verification: ...") */
  skipped: Map<string, string>;
}

function why(e: unknown): string {
  return e instanceof FixtureError ? e.message : describe_thrown(e);
}

/** Build a fixture and verify it; a failure skips the tasks that needed it. */
function add(p: Prepared, tasks: readonly string[], build: () => { batches: Array<[string, Batch]>; problem: string | null }): void {
  try {
    const { batches, problem } = build();
    if (problem) {
      for (const t of tasks) p.skipped.set(t, `failed verification (${problem})`);
      return;
    }
    for (const [t, b] of batches) p.batches.set(t, b);
  } catch (e) {
    for (const t of tasks) p.skipped.set(t, why(e));
  }
}

/**
 * Every fixture of a variant: the rows on `scn` (each on a kernel of its own, so that one
 * task's IOTLB or allocator state is not another's), the scaling rows on `scale` if given.
 */
export function prepare(variant: Variant, scn: Scenario | null, scale: Scenario | null): Prepared {
  const p: Prepared = { batches: new Map(), reference: new Map(), skipped: new Map() };
  if (scn) prepare_rows(p, variant, scn);
  if (scale) prepare_scaling(p, variant, scale);
  for (const t of p.batches.keys()) if (ROWS.includes(t as RowName) && t !== BASELINE && p.batches.has(BASELINE)) p.reference.set(t, BASELINE);
  for (const s of SCALING) {
    const [small, large] = [scaling_task(s.name, s.small), scaling_task(s.name, s.large)];
    if (p.batches.has(small) && p.batches.has(large)) p.reference.set(large, small);
  }
  return p;
}

function prepare_rows(p: Prepared, variant: Variant, scn: Scenario): void {
  add(p, ['flat-lookup', 'translate-hot'], () => {
    const { walk, flat } = hot_fixture(fixture_base(scn, variant));
    return { batches: [['flat-lookup', (now) => batch_flat(flat, now)], ['translate-hot', (now) => batch_translate(walk, now)]], problem: verify_walk(walk) };
  });
  add(p, ['translate-cold'], () => {
    const walk = cold_fixture(fixture_base(scn, variant));
    return { batches: [['translate-cold', (now) => batch_translate(walk, now)]], problem: verify_walk(walk) };
  });
  add(p, ['translate-cold-sparse'], () => {
    const walk = sparse_fixture(fixture_base(scn, variant));
    return { batches: [['translate-cold-sparse', (now) => batch_translate(walk, now)]], problem: verify_walk(walk) };
  });
  add(p, ['dma-map-unmap'], () => {
    const f = dma_fixture(fixture_base(scn, variant));
    return { batches: [['dma-map-unmap', (now) => batch_dma(f, now)]], problem: verify_dma(f) };
  });
  add(p, ['context-create-destroy'], () => {
    const f = context_fixture(fixture_base(scn, variant, true));
    return { batches: [['context-create-destroy', (now) => batch_context(f, now)]], problem: verify_context(f) };
  });
}

function prepare_scaling(p: Prepared, variant: Variant, scale: Scenario): void {
  // the contexts made for one size serve every context row of that size (10,000 for two rows:
  // 300,000 context creations cost seconds, and a worker of each variant makes them at once)
  const made = new Map<number, LiveContexts>();
  const contexts = (live: number): LiveContexts => {
    let c = made.get(live);
    if (!c) made.set(live, c = scale_contexts(scale, variant, live));
    return c;
  };
  for (const s of SCALING) {
    const tasks = [scaling_task(s.name, s.small), scaling_task(s.name, s.large)];
    add(p, tasks, () => {
      if (s.name === 'context-create-destroy' || s.name === 'many-contexts') {
        const small = scale_context_op(contexts(s.small), scale_op_id(s.large));
        const large = scale_context_op(contexts(s.large), scale_op_id(s.large));
        return {
          batches: [[tasks[0]!, (now) => batch_context(small, now)], [tasks[1]!, (now) => batch_context(large, now)]],
          problem: verify_context(small) ?? verify_context(large),
        };
      }
      if (s.name === 'replay-step') {
        const small = scale_step_fixture(scale, variant, s.small);
        const large = scale_step_fixture(scale, variant, s.large);
        return {
          batches: [[tasks[0]!, (now) => batch_steps(small, now)], [tasks[1]!, (now) => batch_steps(large, now)]],
          problem: verify_steps(small) ?? verify_steps(large),
        };
      }
      const small = scale_dma_fixture(scale, variant, s.small);
      const large = scale_dma_fixture(scale, variant, s.large);
      return {
        batches: [[tasks[0]!, (now) => batch_dma(small, now)], [tasks[1]!, (now) => batch_dma(large, now)]],
        problem: verify_dma(small) ?? verify_dma(large),
      };
    });
  }
}

/** The outcome of one task in a pass: its samples, or why the measurement failed. */
function pass_of(task: Task, warned: Map<string, string>, pairs: { ratios: number[]; refs: number[] }): TaskPass {
  const r = task.result;
  const warning = warned.get(task.name);
  const failed = (why: string): TaskPass => ({ task: task.name, samples: [], ratios: [], refs: [], failed: why });
  if (r.state === 'errored') return failed(`errored: ${r.error.message}`);
  if (r.state !== 'completed') return failed(r.state);
  if (warning) return failed(`timer warning: ${warning}`);
  return { task: task.name, samples: [...(r.latency.samples ?? [])], ratios: pairs.ratios, refs: pairs.refs, failed: null };
}

/**
 * One tinybench pass over every task: a warm-up, then batches until the time is up (and at
 * least a few). A task that ends `errored` or raises a warning (timer saturation) is a
 * failed measurement.
 *
 * A task with a reference runs a batch of the reference just before each of its own, and
 * keeps the ratio of the pair: on a shared machine the speed of the host changes from one
 * moment to the next (another process on the sibling hardware thread, frequency), and two
 * batches 50 microseconds apart see the same host where two tasks half a second apart may not.
 */
export function run_pass(p: Prepared, o: PassOptions): TaskPass[] {
  const bench = new Bench({
    time: o.time_ms, warmupTime: o.warmup_ms, iterations: 8, warmupIterations: 2,
    throws: false, retainSamples: true, timestampProvider: 'hrtimeNow',
  });
  const warned = new Map<string, string>();
  bench.addEventListener('warning', (e) => {
    const name = e.task?.name ?? '?';
    warned.set(name, e.reason ?? 'timer saturation');
  });
  // the batches read performance.now() (sub-microsecond, in milliseconds as tinybench counts):
  // a clock that small leaves the inlining budget of a batch's loop to the code measured
  const now = (): number => performance.now();
  const pairs = new Map<string, { ratios: number[]; refs: number[] }>();
  for (const [name, batch] of p.batches) {
    const ref = p.batches.get(p.reference.get(name) ?? '');
    if (!ref) {
      bench.add(name, () => batch(now));
      continue;
    }
    const mine = { ratios: [] as number[], refs: [] as number[] };
    pairs.set(name, mine);
    let running = false;
    bench.add(name, () => {
      const r = ref(now);
      const t = batch(now);
      if (running) {
        mine.ratios.push(r.overriddenDuration / t.overriddenDuration);
        mine.refs.push(r.overriddenDuration);
      }
      return t;
    }, { beforeAll: (mode) => { running = mode === 'run'; } });
  }
  bench.runSync();
  return bench.tasks.map((t) => pass_of(t, warned, pairs.get(t.name) ?? { ratios: [], refs: [] }));
}
