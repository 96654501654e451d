// The results of a run as plain data: everything the reports show is formatted from this.
// results.json is read by other tools, so the field names here are a contract.

export type Verdict = 'pass' | 'fail' | 'unsupported' | 'error';
export type VariantExpect = 'works' | 'fails';

export interface Failure {
  /** "step 7 (scenarios/iris-sm8550.yaml:21:5)" or "teardown" */
  step: string;
  /** the check that failed: "stream-ids", "dma-reaches-buffer", "isolation", "teardown-leak", ... */
  check: string;
  message: string;
}

/** Counts of context devices created by the variant in one run. */
export interface Coverage {
  contexts: number;
  add_notified: number;
  removed_notified: number;
  dma_configured: number;
  iommu_probed: number;
  iommu_released: number;
  /** context devices that missed one of the above, with what they missed */
  missed: string[];
}

export interface RunResult {
  scenario: string;
  file: string;
  variant: string;
  verdict: Verdict;
  failures: Failure[];
  /** why the design cannot serve this scenario without a further patch (verdict unsupported) */
  unsupported: string | null;
  coverage: Coverage;
  steps_run: number;
  events: number;
  /** the most memory the run took in the worker running it: V8 heap in use and external
   *  memory (typed arrays) over their level at the start, MiB, sampled between steps; only
   *  when the run measures (--bench quick or full) */
  peak_heap_mb?: number;
}

export interface CoreEdit { file: string; what: string }

export interface DesignCost {
  bus_types: string[];
  core_edits: CoreEdit[];
  exported_symbols: string[];
  /** non-blank, non-comment lines of the variant's TypeScript */
  loc: number;
}

export interface SeriesRef { subject: string; link: string }

export interface VariantInfo {
  name: string;
  expect: VariantExpect;
  /** works: some run passed and every other was unsupported; unsupported: every run was;
   *  fails: some run failed; error: it did not load or threw */
  verdict: 'works' | 'fails' | 'unsupported' | 'error';
  summary: string;
  series: SeriesRef[];
  cost: DesignCost | null;
  load_error: string | null;
}

export interface BenchRow {
  name: string;
  variant: string;
  scenario: string;
  /** operations per second of the median batch over every round */
  ops_per_sec: number;
  /** relative margin of error of that median (its 95% confidence interval), percent */
  rme: number;
  /** ops/s over the baseline's (flat-lookup): each batch of the row is timed right after a
   *  baseline batch of the same worker, and this is the median over those pairs */
  ratio: number;
  /** the spread of that ratio: the lowest and highest of the rounds' medians */
  ratio_min: number;
  ratio_max: number;
  /** batches timed, over all rounds */
  samples: number;
  /** rounds measured (the variants take turns, one pass each per round) */
  rounds: number;
  /** the least ratio the row should reach (a goal, not a test); null when it has none */
  goal: number | null;
  /** variants whose row for the same benchmark is within the combined margin of error */
  ties: string[];
  /** "not measured: failed verification" and the like; null for a measured row */
  note: string | null;
}

/** The cost of one operation with few and with many live objects. */
export interface ScalingRow {
  /** "context-create-destroy" (live context devices) or "dma-map" (live mappings in a domain) */
  name: string;
  variant: string;
  scenario: string;
  small: number;
  large: number;
  /** the cost of one operation at `large` over its cost at `small`: each batch at `large` is
   *  timed right after one at `small`, and this is the median over those pairs */
  cost_ratio: number;
  /** cost of one operation in the median batch, nanoseconds, and its margin of error (percent) */
  small_ns: number;
  large_ns: number;
  rme_small: number;
  rme_large: number;
  /** the most cost_ratio should be */
  goal: number;
  note: string | null;
}

export interface InputError { file: string; line: number; col: number; message: string }

export interface Results {
  kernel: string;
  variants: VariantInfo[];
  scenarios: Array<{ id: string; file: string; summary: string }>;
  results: RunResult[];
  bench: BenchRow[];
  scaling: ScalingRow[];
  /** scenario files that could not be loaded */
  errors: InputError[];
  /** 0, 1 or 2 as the CLI exits */
  exit_code: number;
}
