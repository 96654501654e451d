// The benchmarks of `npm run compare -- --bench quick|full` (and `npm run bench`): translation
// performance against the floor, DMA map/unmap, context create/destroy, and how the last two
// scale with the number of live objects. Method:
// - verify, then measure: a variant is timed on a scenario only if its correctness run of that
//   scenario passed; otherwise its rows say "not measured: failed verification" and why;
// - each variant is measured in workers of its own (bench-worker.ts): its rows in several, the
//   rounds going round-robin over them, the variants taking turns, one tinybench pass each per
//   round, after warm-up rounds that are not counted; then its scaling rows in one worker, one
//   variant at a time (a scaling worker holds 300,000 contexts);
//   within a pass every batch of a row runs right after a batch of the baseline
//   (flat-lookup), so that a ratio compares two batches of the same worker a few microseconds
//   apart; a scaling row pairs its larger size with its smaller the same way;
// - a round's figure is the median of its pairs; a row's ratio is the median of its rounds'
//   figures and its interval their 5th to 95th percentile (bench-stats.ts); a floor that ran
//   at two speeds is reported, and only the rounds at its more common speed count;
// - every task call runs a batch and declares both the per-operation duration and the batch's
//   cost (toolchain.md); a task that ends `errored` or raises a timer warning is a failed
//   measurement, and says so;
// - rows whose intervals overlap are ties, not a ranking; each row also says whether its ratio
//   lies inside the previous run's interval (the run-to-run check).
import type { ScenarioDigest } from '../scenario/digest.ts';
import type { BenchRow, RunResult, ScalingRow } from './results.ts';
import {
  BASELINE, RATIO_GOALS, ROWS, SCALING, scaling_task, type RowName,
  type BenchReply, type BenchRequest, type PassOptions, type TaskPass,
} from './bench-tasks.ts';
import { bench_ties, floor_speeds, inside, median, round_interval, summarize } from './bench-stats.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, type SandboxWorker } from './sandbox.ts';

export type BenchMode = 'off' | 'quick' | 'full';

/**
 * Per mode: the rounds, the workers a variant's rows are measured in (the rounds go round-robin
 * over them), and the time one pass gives each task. Two workers of the same code compile it
 * apart and lay their heaps out apart: each keeps a level of its own (translate-cold-sparse
 * 0.113, 0.127 and 0.140 in three workers of one run, each steady to 1% over its rounds), and
 * that is most of what differs between two runs. An interval over the rounds of six workers
 * holds the median of the next run's six about 9 times in 10 when the workers' levels are all
 * that varies; over three, about 6 in 10 (88% measured: not all of it is the workers).
 */
export const BENCH_MODES: Record<Exclude<BenchMode, 'off'>, { rounds: number; workers: number } & PassOptions> = {
  quick: { rounds: 12, workers: 6, time_ms: 30, warmup_ms: 10 },
  full: { rounds: 18, workers: 6, time_ms: 200, warmup_ms: 50 },
};

/** A warm-up pass: short, as what settles the compiled code is the number of passes, not
 *  their length. */
const WARMUP_PASS: PassOptions = { time_ms: 10, warmup_ms: 5 };

/**
 * The scenario whose device tree the scaling rows are measured on: the one that creates the
 * most context devices by input id, provided it names enough of them for the largest size
 * (chosen from the data, so that no scenario name is special-cased).
 */
export function scale_scenario(scenarios: readonly ScenarioDigest[]): ScenarioDigest | null {
  // as many live contexts as the largest context-scaling size
  const needed = Math.max(...SCALING.filter((sc) => sc.name === 'context-create-destroy').map((sc) => sc.large));
  let best: ScenarioDigest | null = null;
  let most = 0;
  for (const scn of scenarios) {
    if (scn.contexts_by_id > most) { best = scn; most = scn.contexts_by_id; }
  }
  return most >= needed ? best : null;
}

/** The variants to measure: their folders and names. */
export interface BenchVariant { dir: string; name: string }

export interface BenchOutcome { rows: BenchRow[]; scaling: ScalingRow[] }

const SETUP_LIMIT_MS = 180_000;
/** passes of every worker before the counted rounds */
const WARMUP_ROUNDS = 2;
/** the scaling rows are measured in one round of this many */
const SCALING_EVERY = 2;

// ---------------------------------------------------------------------------------------------
// What to measure where
// ---------------------------------------------------------------------------------------------

function run_of(runs: readonly RunResult[], scn: string, variant: string): RunResult | undefined {
  return runs.find((r) => r.scenario === scn && r.variant === variant);
}

function passed(runs: readonly RunResult[], scn: string, variant: string): boolean {
  return run_of(runs, scn, variant)?.verdict === 'pass';
}

/** Why a variant is not timed on a scenario: its verdict there and the first failure. */
export function not_verified(run: RunResult | undefined, scn: string): string {
  if (!run) return `not measured: failed verification (no run on ${scn})`;
  if (run.verdict === 'unsupported') return `not measured: unsupported on ${scn}`;
  const f = run.failures[0];
  const first = f ? `: ${f.check}: ${f.message.length > 120 ? `${f.message.slice(0, 117)}...` : f.message}` : '';
  return `not measured: failed verification (${run.verdict} on ${scn}${first})`;
}

/**
 * The scenario of the rows: the one most variants passed; among those, one whose IOMMUs all
 * have a 48-bit input range (so that a cold translation walks all four levels), then the
 * first. The scale scenario only when nothing else was passed (its fixtures cost more).
 */
export function rows_scenario(scenarios: readonly ScenarioDigest[], variants: readonly BenchVariant[], runs: readonly RunResult[]): ScenarioDigest | null {
  const scale = scale_scenario(scenarios);
  let best: ScenarioDigest | null = null;
  let best_key = [-1, -1, -1];
  const better = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
    return false;
  };
  for (const scn of scenarios) {
    const n = variants.filter((v) => passed(runs, scn.id, v.name)).length;
    if (n === 0) continue;
    const key = [scn === scale ? 0 : 1, n, scn.va_48 ? 1 : 0];
    if (better(key, best_key)) {
      best = scn;
      best_key = key;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The workers
// ---------------------------------------------------------------------------------------------

/** One variant's measurement of the rows, or of the scaling rows: its workers (the rounds go
 *  round-robin over them) and what they measured. */
export interface Measured {
  variant: BenchVariant;
  workers: Array<SandboxWorker<BenchReply> | null>;
  /** the child process its workers run in (sandbox.ts): one per measurement, so that a
   *  variant that ends its process ends only its own measurements */
  box?: Sandbox | null;
  tasks: string[];
  skipped: Map<string, string>;
  /** per task, its passes, in the order of the rounds */
  passes: Map<string, TaskPass[]>;
  /** a worker failed: every task not yet measured says so */
  error: string | null;
}

/** Send one request and wait for its reply, or for the worker to fail or time out. */
function ask(worker: SandboxWorker<BenchReply> | null, req: BenchRequest | null, limit_ms: number): Promise<BenchReply> {
  if (!worker) return Promise.resolve({ type: 'failed', message: 'no worker' });
  return new Promise((resolve) => {
    const done = (reply: BenchReply) => {
      clearTimeout(timer);
      worker.off('message', on_message);
      worker.off('error', on_error);
      worker.off('exit', on_exit);
      resolve(reply);
    };
    const on_message = (reply: BenchReply) => done(reply);
    const on_error = (e: Error) => done({ type: 'failed', message: `the benchmark worker died: ${e.message}` });
    const on_exit = (code: number) => done({ type: 'failed', message: `the benchmark worker exited with code ${code}` });
    const timer = setTimeout(() => done({ type: 'failed', message: `no answer within ${Math.round(limit_ms / 1000)} s` }), limit_ms);
    worker.on('message', on_message);
    worker.once('error', on_error);
    worker.once('exit', on_exit);
    if (req) worker.postMessage(req);
  });
}

/** A worker failed: the measurement stops, every worker of it ends. */
function fail(m: Measured, message: string): void {
  m.error ??= message;
  stop(m);
}

function stop(m: Measured): void {
  for (const w of m.workers) void w?.terminate();
  m.workers = m.workers.map(() => null);
  void m.box?.close();
  m.box = null;
}

/** Start worker `i` of a measurement and build its fixtures; the first to answer says which
 *  tasks there are (every worker of a measurement builds the same). */
async function start(m: Measured, i: number, file: string | null, scale_file: string | null): Promise<void> {
  m.box ??= new Sandbox();
  const worker = m.box.worker<BenchReply>('bench-worker');
  worker.on('error', () => {});
  m.workers[i] = worker;
  const ready = await ask(worker, null, SETUP_LIMIT_MS);
  if (ready.type !== 'ready') return fail(m, ready.type === 'failed' ? ready.message : 'no ready message');
  const setup = await ask(worker, { type: 'setup', dir: m.variant.dir, file, scale_file }, SETUP_LIMIT_MS);
  if (setup.type !== 'setup') return fail(m, setup.type === 'failed' ? setup.message : 'no setup reply');
  if (m.tasks.length === 0) m.tasks = setup.tasks;
  for (const s of setup.skipped) m.skipped.set(s.task, s.why);
}

/** Round `round`'s pass, on the worker whose turn it is; round -1 is the warm-up of every
 *  worker, not counted. */
async function pass(m: Measured, o: PassOptions, round: number): Promise<void> {
  if (m.error || m.tasks.length === 0) return;
  const limit = 60_000 + m.tasks.length * (o.time_ms + o.warmup_ms) * 20;
  const workers = round < 0 ? m.workers : [m.workers[round % m.workers.length]!];
  for (const worker of workers) {
    const reply = await ask(worker, { type: 'pass', options: o }, limit);
    if (reply.type !== 'pass') return fail(m, reply.type === 'failed' ? reply.message : 'no pass reply');
    if (round < 0) continue;
    for (const r of reply.results) {
      const list = m.passes.get(r.task);
      if (list) list.push(r);
      else m.passes.set(r.task, [r]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// From passes to rows
// ---------------------------------------------------------------------------------------------

/** A task's rounds, or why it is not measured. */
interface TaskRounds {
  /** per round, the median of its pair ratios (NaN for a task without a reference) */
  figures: number[];
  /** per round, the median cost of the reference batches beside it, ms per operation */
  refs: number[];
  /** per round, the cost of each of its batches, ms per operation */
  samples: number[][];
}

function task_rounds(m: Measured, task: string): TaskRounds | string {
  const skipped = m.skipped.get(task);
  if (skipped) return `not measured: ${skipped}`;
  const passes = m.passes.get(task) ?? [];
  const failed = passes.find((p) => p.failed !== null);
  if (failed) return `failed measurement: ${failed.failed}`;
  // a worker that failed in some round leaves its rows without the rounds that follow
  if (m.error) return `failed measurement: ${m.error}`;
  if (passes.length === 0) return 'not measured';
  return {
    figures: passes.map((p) => median(p.ratios)),
    refs: passes.map((p) => median(p.refs)),
    samples: passes.map((p) => p.samples),
  };
}

function skipped_row(name: string, variant: string, scenario: string, note: string): BenchRow {
  return {
    name, variant, scenario, ops_per_sec: 0, rme: 0, ratio: 0, ratio_low: 0, ratio_high: 0,
    rounds: [], floor_ns: [], floor_speeds: [], inside_previous: null,
    samples: 0, goal: RATIO_GOALS[name as keyof typeof RATIO_GOALS] ?? null, ties: [], note,
  };
}

/** The floor's cost in every round of every row of a worker (its own batches for the
 *  baseline, those beside the row's for the others), keyed "task#round": the input of
 *  floor_speeds(). */
function floor_costs(rounds: ReadonlyMap<string, TaskRounds>): Map<string, number> {
  const costs = new Map<string, number>();
  for (const [task, r] of rounds) {
    r.samples.forEach((samples, i) => costs.set(`${task}#${i}`, task === BASELINE ? median(samples) : r.refs[i]!));
  }
  return costs;
}

/**
 * The rows of one measured variant. A round's figure is the median ratio of its pairs (a
 * baseline batch, then one of the row's); the row's ratio is the median of the figures of the
 * rounds whose floor ran at the kept speed (floor_speeds()), its interval their 5th to 95th
 * percentile, and its ops/s that of the median batch of those rounds.
 */
export function variant_rows(m: Measured, scenario: string): BenchRow[] {
  const got = new Map<string, TaskRounds | string>(ROWS.map((name) => [name, task_rounds(m, name)]));
  const timed = new Map([...got].filter((e): e is [string, TaskRounds] => typeof e[1] !== 'string'));
  const costs = floor_costs(timed);
  const split = floor_speeds([...costs.values()]);
  const kept = new Map([...costs.keys()].map((key, i) => [key, split.kept[i]!]));
  const speeds = split.speeds.map((ms) => ms * 1e6);
  const base = got.get(BASELINE)!;
  return ROWS.map((name): BenchRow => {
    const r = got.get(name)!;
    if (typeof r === 'string') return skipped_row(name, m.variant.name, scenario, r);
    const is_base = name === BASELINE;
    const use = r.samples.map((_, i) => kept.get(`${name}#${i}`) !== false);
    const figures = is_base ? r.samples.map(() => 1) : r.figures;
    const counted = figures.filter((f, i) => use[i] && Number.isFinite(f));
    const s = summarize(r.samples.filter((_, i) => use[i]).flat());
    const [low, high] = counted.length ? round_interval(counted) : [Number.NaN, Number.NaN];
    return {
      name, variant: m.variant.name, scenario,
      ops_per_sec: 1000 / s.median, rme: s.rme,
      ratio: median(counted), ratio_low: low, ratio_high: high,
      rounds: figures, floor_ns: r.samples.map((_, i) => costs.get(`${name}#${i}`)! * 1e6), floor_speeds: speeds,
      inside_previous: null, samples: s.n, goal: RATIO_GOALS[name as RowName] ?? null, ties: [],
      note: counted.length ? null : `no ratio: ${typeof base === 'string' ? `${BASELINE} ${base}` : 'no pairs'}`,
    };
  });
}

function skipped_scaling(sc: typeof SCALING[number], variant: string, scenario: string, note: string): ScalingRow {
  return {
    name: sc.name, variant, scenario, small: sc.small, large: sc.large, cost_ratio: 0, cost_low: 0, cost_high: 0, rounds: [],
    small_ns: 0, large_ns: 0, rme_small: 0, rme_large: 0, goal: sc.goal, note,
  };
}

/** The scaling rows of one measured variant: each batch of the larger size runs just after a
 *  batch of the smaller; a round's figure is the median cost ratio of its pairs, the row's the
 *  median of the rounds', with their 5th to 95th percentile. Both costs shown come from the
 *  same pairs. */
export function variant_scaling(m: Measured, scenario: string): ScalingRow[] {
  return SCALING.map((sc): ScalingRow => {
    const small = task_rounds(m, scaling_task(sc.name, sc.small));
    const large = task_rounds(m, scaling_task(sc.name, sc.large));
    if (typeof small === 'string' || typeof large === 'string') {
      return skipped_scaling(sc, m.variant.name, scenario, typeof small === 'string' ? small : large as string);
    }
    // a pair's ratio is small cost over large cost: its inverse is the cost ratio
    const rounds = large.figures.map((f) => 1 / f);
    const counted = rounds.filter(Number.isFinite);
    const [low, high] = counted.length ? round_interval(counted) : [Number.NaN, Number.NaN];
    const s = summarize(m.passes.get(scaling_task(sc.name, sc.large))!.flatMap((p) => p.refs));
    const l = summarize(large.samples.flat());
    return {
      name: sc.name, variant: m.variant.name, scenario, small: sc.small, large: sc.large,
      cost_ratio: median(counted), cost_low: low, cost_high: high, rounds,
      small_ns: s.median * 1e6, large_ns: l.median * 1e6, rme_small: s.rme, rme_large: l.rme,
      goal: sc.goal, note: counted.length ? null : 'no ratio: no pairs',
    };
  });
}

/**
 * The rows of the previous run, from the results.json in the reports' directory (none when it
 * is missing or unreadable): each row of this run says whether its ratio lies inside the
 * previous run's interval, the run-to-run check of the notes.
 */
export function previous_rows(dir: string): Array<Pick<BenchRow, 'name' | 'variant' | 'scenario' | 'ratio_low' | 'ratio_high'>> {
  try {
    const json: unknown = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const bench = (json as { bench?: unknown }).bench;
    if (!Array.isArray(bench)) return [];
    return bench.filter((b): b is BenchRow => typeof b === 'object' && b !== null
      && typeof b.name === 'string' && typeof b.variant === 'string' && typeof b.scenario === 'string'
      && typeof b.ratio_low === 'number' && typeof b.ratio_high === 'number');
  } catch {
    return [];
  }
}

function new_measured(variant: BenchVariant, workers: number): Measured {
  return { variant, workers: Array.from({ length: workers }, () => null), tasks: [], skipped: new Map(), passes: new Map(), error: null };
}

/** Warm-up rounds, not counted (the compiler's first choices and the fixtures' first garbage
 *  collections belong to no round: translate-hot settles 1-2% below its first two passes, from
 *  the third on), then the rounds `counted` keeps, a different measurement first in each. */
async function measure_in_turns(all: Measured[], cfg: PassOptions & { rounds: number }, counted: (round: number) => boolean,
  on_round: (round: number) => void = () => {}): Promise<void> {
  for (let w = 0; w < WARMUP_ROUNDS; w++) for (const m of all) await pass(m, WARMUP_PASS, -1);
  for (let r = 0; r < cfg.rounds; r++) {
    if (!counted(r)) continue;
    on_round(r);
    for (let i = 0; i < all.length; i++) await pass(all[(i + r) % all.length]!, cfg, r);
  }
}

/** A variant's measurements: of the rows (several workers) and of the scaling rows (one). */
interface Plan { variant: BenchVariant; rows: Measured | null; scale: Measured | null }

/**
 * Every row and scaling row for every variant. Rows for a variant that did not pass the rows'
 * scenario (or the scale scenario, for its scaling rows) say why it was not measured.
 */
export async function run_benchmarks(mode: BenchMode, scenarios: ScenarioDigest[], variants: BenchVariant[], runs: RunResult[],
  previous: ReturnType<typeof previous_rows> = [], on_stage: (stage: string) => void = () => {}): Promise<BenchOutcome> {
  if (mode === 'off') return { rows: [], scaling: [] };
  const cfg = BENCH_MODES[mode];
  const scn = rows_scenario(scenarios, variants, runs);
  const scale = scale_scenario(scenarios);
  const rows: BenchRow[] = [];
  const scaling: ScalingRow[] = [];
  const plans: Plan[] = [];
  for (const v of variants) {
    const rows_ok = scn !== null && passed(runs, scn.id, v.name);
    const scale_ok = scale !== null && passed(runs, scale.id, v.name);
    if (rows_ok || scale_ok) {
      plans.push({ variant: v, rows: rows_ok ? new_measured(v, cfg.workers) : null, scale: scale_ok ? new_measured(v, 1) : null });
    }
  }
  const row_measures = plans.flatMap((p) => (p.rows ? [p.rows] : []));
  try {
    // start every worker at once (fixtures are built in parallel), then measure one at a time
    on_stage('building the fixtures');
    await Promise.all(row_measures.flatMap((m) => m.workers.map((_, i) => start(m, i, scn!.file, null))));
    await measure_in_turns(row_measures, cfg, () => true, (r) => on_stage(`the rows, round ${r + 1} of ${cfg.rounds}`));
  } finally {
    for (const m of row_measures) stop(m);
  }
  // the scaling rows one design at a time, each worker ended before the next starts: one holds
  // 300,000 contexts (about 1.1 GB), and as a scaling pair is two batches of one worker, taking
  // turns with the other designs would buy nothing; they are measured every other round
  const scaled = plans.flatMap((p) => (p.scale ? [p.scale] : []));
  for (const [i, m] of scaled.entries()) {
    on_stage(`the scaling rows of ${m.variant.name} (${i + 1} of ${scaled.length})`);
    try {
      await start(m, 0, null, scale!.file);
      await measure_in_turns([m], cfg, (r) => r % SCALING_EVERY === 0);
    } finally {
      stop(m);
    }
  }
  for (const v of variants) {
    const plan = plans.find((p) => p.variant === v);
    if (scn) {
      if (plan?.rows) rows.push(...variant_rows(plan.rows, scn.id));
      else rows.push(...ROWS.map((name) => skipped_row(name, v.name, scn.id, not_verified(run_of(runs, scn.id, v.name), scn.id))));
    }
    if (scale) {
      if (plan?.scale) scaling.push(...variant_scaling(plan.scale, scale.id));
      else scaling.push(...SCALING.map((sc) => skipped_scaling(sc, v.name, scale.id, not_verified(run_of(runs, scale.id, v.name), scale.id))));
    }
  }
  // rows of one benchmark next to each other, variants in their order
  rows.sort((a, b) => ROWS.indexOf(a.name as typeof ROWS[number]) - ROWS.indexOf(b.name as typeof ROWS[number]));
  for (const row of rows) {
    row.ties = bench_ties(rows, row, BASELINE);
    if (row.name !== BASELINE && row.note === null) {
      row.inside_previous = inside(row.ratio, previous.find((p) => p.name === row.name && p.variant === row.variant && p.scenario === row.scenario));
    }
  }
  return { rows, scaling };
}
