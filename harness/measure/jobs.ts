// The messages between the CLI and its workers. Each job runs in a worker thread, so a
// variant that throws, hangs or exhausts memory costs only its own job.
import type { DesignCost, RunResult, SeriesRef, VariantExpect } from './results.ts';

export type Job =
  | { type: 'load'; dir: string }
  | { type: 'run'; file: string; dir: string };

export interface LoadedInfo {
  name: string;
  expect: VariantExpect;
  summary: string;
  series: SeriesRef[];
  cost: DesignCost | null;
}

export type JobReply =
  | { type: 'loaded'; info: LoadedInfo | null; error: string | null }
  | { type: 'result'; result: RunResult }
  /** made by the pool, not the worker: the job outlived its time limit */
  | { type: 'timeout'; step: number }
  /** made by the pool: the worker died (uncaught error, out of memory) */
  | { type: 'crash'; message: string };
