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
  /** works: every run passed or was unsupported; fails: some run failed; error: it did not load or threw */
  verdict: 'works' | 'fails' | 'error';
  summary: string;
  series: SeriesRef[];
  cost: DesignCost | null;
  load_error: string | null;
}

export interface BenchRow {
  name: string;
  variant: string;
  scenario: string;
  ops_per_sec: number;
  /** relative margin of error, percent */
  rme: number;
  /** ops_per_sec over the baseline's (flat-lookup) in the same run */
  ratio: number;
  samples: number;
  /** "not measured: failed verification" and the like; null for a measured row */
  note: string | null;
}

export interface InputError { file: string; line: number; col: number; message: string }

export interface Results {
  kernel: string;
  variants: VariantInfo[];
  scenarios: Array<{ id: string; file: string; summary: string }>;
  results: RunResult[];
  bench: BenchRow[];
  /** scenario files that could not be loaded */
  errors: InputError[];
  /** 0, 1 or 2 as the CLI exits */
  exit_code: number;
}
