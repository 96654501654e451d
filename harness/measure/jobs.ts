// The messages between the CLI and its workers. Each job runs in a worker thread, so a
// variant that throws, hangs or exhausts memory costs only its own job.
import type { DesignCost, InputError, RunResult, SeriesRef, VariantExpect } from './results.ts';
import type { ScenarioDigest } from '../scenario/digest.ts';

export type Job =
  | { type: 'load'; dir: string }
  /** load and check a scenario file (the worker keeps it for the runs that follow) */
  | { type: 'scenario'; file: string; patches: string[] | null }
  /** memory: measure the run's peak memory (a measurement: only when benchmarks run);
   *  patches: the out-of-tree series to run with instead of the scenario's own (null: its own) */
  | { type: 'run'; file: string; dir: string; memory: boolean; patches: string[] | null };

export interface LoadedInfo {
  name: string;
  expect: VariantExpect;
  summary: string;
  series: SeriesRef[];
  cost: DesignCost | null;
}

/**
 * Where a job was when it last said so (published in shared memory, read by the pool when the
 * job outlives its time limit or kills its worker): 0 before the first step (boot), a step's
 * 1-based index while it runs, and these two outside the steps.
 */
export const PROGRESS_TEARDOWN = -1;
export const PROGRESS_DESIGN_COST = -2;

export type JobReply =
  | { type: 'loaded'; info: LoadedInfo | null; error: string | null }
  | { type: 'scenario'; digest: ScenarioDigest }
  | { type: 'bad-scenario'; error: InputError; more: InputError[] }
  | { type: 'result'; result: RunResult }
  /** the worker caught an exception outside the replay (the scenario or variant would not load) */
  | { type: 'failed'; message: string }
  /** made by the pool, not the worker: the job outlived its time limit */
  | { type: 'timeout'; step: number }
  /** made by the pool: the worker died (uncaught error, out of memory) */
  | { type: 'crash'; message: string; step: number; /** its process died: `step` is the last
     *  one its sandbox relayed (sandbox.ts), up to 20 ms old, so the job may have gone further */ step_last_seen?: true }
  /** made by the pool: the run was stopped (Ctrl-C) before this job finished */
  | { type: 'cancelled' };

/** What a worker posts back: the reply, and whether the worker should be replaced before the
 *  next job (the job left timers behind or something threw outside it). */
export interface WorkerMessage { reply: JobReply; recycle: boolean }
