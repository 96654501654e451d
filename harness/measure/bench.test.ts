// The benchmark method, without timing anything real: which scenario the rows are measured on,
// rows of a variant that failed verification, failed measurements, ratios from paired batches,
// scaling cost ratios, ties, and the statistics.
import { describe, expect, it } from 'vitest';
import type { BenchRow, RunResult } from './results.ts';
import { load_scenario, load_scenario_file } from '../scenario/load.ts';
import { scenario_digest } from '../scenario/digest.ts';
import { not_verified, previous_rows, rows_scenario, run_benchmarks, variant_rows, variant_scaling, type Measured } from './bench.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench_ties, floor_speeds, inside, median, percentile, round_interval, summarize } from './bench-stats.ts';
import { ROWS, run_pass, type Prepared, type TaskPass } from './bench-tasks.ts';

const coverage = { contexts: 1, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] };

function run(scenario: string, variant: string, verdict: RunResult['verdict'], message = ''): RunResult {
  const failures = verdict === 'fail' ? [{ step: 'step 2', check: 'stream-ids', message }] : [];
  return { scenario, file: `scenarios/${scenario}.yaml`, variant, verdict, failures, unsupported: null, coverage, steps_run: 3, events: 10, kernel: { flow: '6.15', patches: [] }, needs: [], findings: [], served: [] };
}

const SCALE = `scenario: scale
summary: tiny stand-in for the scale scenario
devicetree: |
  smmu: iommu@10000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  host1x: host1x@13e00000 {
      compatible = "nvidia,tegra234-host1x";
      iommu-map = <0 &smmu 0x0 10001>;
  };
steps:
  - probe: host1x
  # the scaling rows are measured on the scenario that makes the most contexts by id,
  # provided it makes as many as the largest size (10,000)
  - repeat:
      times: 10000
      steps:
        - create_context: { parent: host1x, name: "ctx.{i}", id: "{i}" }
`;

describe('verify, then measure', () => {
  it('rows and scaling rows of a variant that failed verification say so and why, and nothing is timed', async () => {
    const iris = scenario_digest(load_scenario_file('scenarios/iris-sm8550.yaml'));
    const scale = scenario_digest(load_scenario('scale.yaml', SCALE));
    const why = 'ctx pixel: expected stream IDs /iommu@15000000:0x1947/0x0, but it has no IOMMU group';
    const runs = [run('iris-sm8550', 'auxiliary-bus', 'fail', why), run('scale', 'auxiliary-bus', 'fail', why)];
    const t0 = performance.now();
    const out = await run_benchmarks('quick', [iris, scale], [{ dir: 'variants/auxiliary-bus', name: 'auxiliary-bus' }], runs);
    expect(performance.now() - t0).toBeLessThan(1000);
    // no scenario was passed by anyone: no rows scenario, the scale scenario still has its rows
    expect(out.rows).toEqual([]);
    expect(out.scaling.map((s) => s.name)).toEqual(['context-create-destroy', 'dma-map', 'replay-step', 'many-contexts']);
    for (const s of out.scaling) expect(s.note).toBe(`not measured: failed verification (fail on scale: stream-ids: ${why})`);
  });

  it('a variant that failed the rows scenario while another passed gets every row, not measured', async () => {
    const iris = scenario_digest(load_scenario_file('scenarios/iris-sm8550.yaml'));
    const runs = [run('iris-sm8550', 'auxiliary-bus', 'fail', 'no group'), run('iris-sm8550', 'other', 'unsupported')];
    // "other" passed nothing either: rows_scenario finds no scenario
    expect(rows_scenario([iris], [{ dir: '', name: 'auxiliary-bus' }, { dir: '', name: 'other' }], runs)).toBeNull();
    expect(not_verified(runs[0], 'iris-sm8550')).toBe('not measured: failed verification (fail on iris-sm8550: stream-ids: no group)');
    expect(not_verified(runs[1], 'iris-sm8550')).toBe('not measured: unsupported on iris-sm8550');
    expect(not_verified(undefined, 'iris-sm8550')).toBe('not measured: failed verification (no run on iris-sm8550)');
  });

  it('the rows go on the scenario most variants passed, one with 48-bit IOMMUs first, the scale scenario last', () => {
    const host1x = scenario_digest(load_scenario_file('scenarios/host1x-tegra234.yaml')); // 40-bit SMMUs
    const iris = scenario_digest(load_scenario_file('scenarios/iris-sm8550.yaml'));
    const scale = scenario_digest(load_scenario('scale.yaml', SCALE));
    const v = [{ dir: '', name: 'a' }, { dir: '', name: 'b' }];
    const all = (id: string) => [run(id, 'a', 'pass'), run(id, 'b', 'pass')];
    expect(rows_scenario([host1x, iris, scale], v, [...all('host1x-tegra234'), ...all('iris-sm8550'), ...all('scale')])?.id).toBe('iris-sm8550');
    expect(rows_scenario([host1x, iris], v, [...all('host1x-tegra234'), run('iris-sm8550', 'a', 'pass')])?.id).toBe('host1x-tegra234');
    expect(rows_scenario([scale], v, all('scale'))?.id).toBe('scale');
  });
});

function measured(passes: Record<string, Array<Partial<TaskPass>>>, skipped: Record<string, string> = {}, error: string | null = null): Measured {
  return {
    variant: { dir: '', name: 'v' }, workers: [null], tasks: Object.keys(passes), error,
    skipped: new Map(Object.entries(skipped)),
    passes: new Map(Object.entries(passes).map(([task, ps]) => [task, ps.map((p) => ({ task, samples: [], ratios: [], refs: [], failed: null, ...p }))])),
  };
}

describe('rows from passes', () => {
  const ms = (ns: number) => ns / 1e6;

  it('a round\'s figure is the median of its pairs; the ratio the median of the rounds\', the interval their 5th-95th percentile', () => {
    const m = measured({
      'flat-lookup': [{ samples: [ms(2), ms(2), ms(3)] }, { samples: [ms(2), ms(2)] }, { samples: [ms(2)] }],
      'translate-hot': [
        { samples: [ms(5), ms(6), ms(5)], ratios: [0.4, 0.4, 0.3], refs: [ms(2), ms(2), ms(2)] },
        { samples: [ms(5)], ratios: [0.5], refs: [ms(2)] },
        { samples: [ms(5)], ratios: [0.45], refs: [ms(2)] },
      ],
    }, { 'translate-cold': 'failed verification (DMA with SID 0x1 at 0x1000 reached fault -4, not 0x80000000)' });
    const rows = variant_rows(m, 'iris-sm8550');
    expect(rows.map((r) => r.name)).toEqual([...ROWS]);
    const [flat, hot, cold] = rows as [BenchRow, BenchRow, BenchRow];
    expect(flat).toMatchObject({ ratio: 1, ratio_low: 1, ratio_high: 1, rounds: [1, 1, 1], samples: 6, note: null, goal: null });
    expect(flat.ops_per_sec).toBeCloseTo(500e6);
    // rounds 0.4, 0.5, 0.45: median 0.45; 5th percentile 0.4 + 0.05 * 0.1, 95th 0.5 - 0.05 * 0.1
    expect(hot).toMatchObject({ ratio: 0.45, rounds: [0.4, 0.5, 0.45], samples: 5, goal: 0.6, note: null, floor_speeds: [2] });
    expect(hot.ratio_low).toBeCloseTo(0.405);
    expect(hot.ratio_high).toBeCloseTo(0.495);
    expect(hot.floor_ns).toEqual([2, 2, 2]);
    expect(hot.ops_per_sec).toBeCloseTo(200e6);
    expect(cold).toMatchObject({ ops_per_sec: 0, note: 'not measured: failed verification (DMA with SID 0x1 at 0x1000 reached fault -4, not 0x80000000)', goal: 0.15 });
  });

  it('a floor at two speeds is reported, and only the rounds at its more common speed count', () => {
    // round 1 of translate-hot ran beside a floor at 3.6 ns instead of 2.2: its ratio is inflated
    const m = measured({
      'flat-lookup': [{ samples: [ms(2.2)] }, { samples: [ms(2.2)] }, { samples: [ms(2.3)] }],
      'translate-hot': [
        { samples: [ms(3.1)], ratios: [0.71], refs: [ms(2.2)] },
        { samples: [ms(3.1)], ratios: [1.15], refs: [ms(3.6)] },
        { samples: [ms(3.1)], ratios: [0.72], refs: [ms(2.25)] },
      ],
    });
    const hot = variant_rows(m, 's')[1]!;
    expect(hot.rounds).toEqual([0.71, 1.15, 0.72]);
    expect(hot.ratio).toBeCloseTo(0.715);
    expect(hot.ratio_high).toBeLessThan(0.73);
    expect(hot.floor_speeds.map((x) => Math.round(x * 100) / 100)).toEqual([2.2, 3.6]);
    // one speed: nothing is left out
    expect(floor_speeds([2.2, 2.3, 2.25, 2.4]).kept.every(Boolean)).toBe(true);
    // the more common speed is kept, even when it is the slower
    expect(floor_speeds([1.36, 2.25, 2.27, 2.3])).toEqual({ speeds: [2.27, 1.36], kept: [false, true, true, true] });
  });

  it('a task that errored or raised a timer warning in any round is a failed measurement', () => {
    const m = measured({
      'flat-lookup': [{ samples: [1e-6] }],
      'translate-hot': [{ samples: [2e-6], ratios: [0.5] }, { failed: 'errored: boom' }],
      'translate-cold': [{ failed: 'timer warning: zero-mad' }],
    });
    const rows = variant_rows(m, 's');
    expect(rows[1]!.note).toBe('failed measurement: errored: boom');
    expect(rows[2]!.note).toBe('failed measurement: timer warning: zero-mad');
    // a worker that died before measuring anything
    expect(variant_rows(measured({}, {}, 'the benchmark worker exited with code 1'), 's')[0]!.note).toBe('failed measurement: the benchmark worker exited with code 1');
  });

  it('a scaling cost ratio is the median of the rounds\' medians of the pairs, large over small', () => {
    const m = measured({
      // milliseconds per operation, as tinybench keeps them: 10 us at 100 live contexts
      'context-create-destroy@100': [{ samples: [0.01, 0.01] }, { samples: [0.01] }],
      'context-create-destroy@10000': [
        { samples: [0.011, 0.012], ratios: [1 / 1.1, 1 / 1.2, 1 / 1.15], refs: [0.01, 0.01, 0.01] },
        { samples: [0.013], ratios: [1 / 1.3], refs: [0.01] },
      ],
      'dma-map@1000': [{ samples: [0.002] }],
    }, { 'dma-map@100000': 'failed verification (dma_map 3 of 100000 failed)' });
    const [ccd, dma] = variant_scaling(m, 'scale');
    expect(ccd!.rounds.map((x) => Math.round(x * 100) / 100)).toEqual([1.15, 1.3]);
    expect(ccd!.cost_ratio).toBeCloseTo(1.225);
    expect(ccd!.cost_low).toBeGreaterThan(1.15);
    expect(ccd!.cost_high).toBeLessThan(1.3);
    expect(ccd).toMatchObject({ small: 100, large: 10_000, goal: 1.5, note: null });
    expect(ccd!.small_ns).toBeCloseTo(10_000);
    expect(dma).toMatchObject({ cost_ratio: 0, note: 'not measured: failed verification (dma_map 3 of 100000 failed)' });
  });
});

describe('ties and statistics', () => {
  const row = (variant: string, low: number, high: number, name = 'translate-hot'): BenchRow => ({
    name, variant, scenario: 's', ops_per_sec: 1e8, rme: 0.1, ratio: (low + high) / 2, ratio_low: low, ratio_high: high,
    rounds: [low, high], floor_ns: [2, 2], floor_speeds: [2], inside_previous: null,
    samples: 10, goal: 0.3, ties: [], note: null,
  });

  it('two rows whose intervals over the rounds overlap tie; apart, or the baseline, not', () => {
    const a = row('a', 0.60, 0.66);
    const b = row('b', 0.65, 0.70);
    const c = row('c', 0.71, 0.75);
    const rows = [a, b, c, row('a', 1, 1, 'flat-lookup'), row('b', 1, 1, 'flat-lookup')];
    expect(bench_ties(rows, a)).toEqual(['b']);
    expect(bench_ties(rows, b)).toEqual(['a']);
    expect(bench_ties(rows, c)).toEqual([]);
    expect(bench_ties(rows, rows[3]!)).toEqual([]);
    expect(bench_ties(rows, { ...a, note: 'not measured' })).toEqual([]);
  });

  it('a ratio is inside the previous run\'s interval or not; without a previous row, no answer', () => {
    expect(inside(0.7, { ratio_low: 0.68, ratio_high: 0.72 })).toBe(true);
    expect(inside(0.75, { ratio_low: 0.68, ratio_high: 0.72 })).toBe(false);
    expect(inside(0.7, undefined)).toBeNull();
  });

  it('the previous run\'s rows come from the results.json of the output directory, or none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-prev-'));
    try {
      expect(previous_rows(dir)).toEqual([]);
      const hot = { name: 'translate-hot', variant: 'a', scenario: 's', ratio_low: 0.7, ratio_high: 0.75 };
      writeFileSync(join(dir, 'results.json'), JSON.stringify({ bench: [hot, { name: 'old-format', variant: 'a', scenario: 's', ratio_min: 1 }] }));
      expect(previous_rows(dir)).toEqual([hot]);
      writeFileSync(join(dir, 'results.json'), '{ not json');
      expect(previous_rows(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('percentiles interpolate between ranks; the interval is the central 90%', () => {
    expect(percentile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5], 0.1)).toBeCloseTo(1.4);
    expect(round_interval([5, 1, 3, 2, 4])).toEqual([1.2, 4.8]);
    expect(round_interval([0.7])).toEqual([0.7, 0.7]);
  });

  it('summarize gives the median and the half-width of its 95% interval, relative', () => {
    const xs = Array.from({ length: 101 }, (_, i) => 100 + i); // 100..200, median 150
    const s = summarize(xs);
    expect(s.median).toBe(150);
    expect(s.n).toBe(101);
    // ranks 50.5 -+ 9.85: [40, 61] -> (161 - 140) / 2 / 150
    expect(s.rme).toBeCloseTo((161 - 140) / 2 / 150 * 100);
    // one wild batch moves neither
    expect(summarize([...xs, 1e9]).median).toBeCloseTo(150.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(summarize([]).n).toBe(0);
  });
});

describe('a tinybench pass', () => {
  it('times each batch, pairs a task with its reference, and reports a throwing task as errored', () => {
    let n = 0;
    const p: Prepared = {
      batches: new Map([
        ['flat-lookup', () => ({ overriddenDuration: 1e-6, overriddenIterationCost: 1e-3 })],
        ['translate-hot', () => ({ overriddenDuration: 4e-6, overriddenIterationCost: 4e-3 })],
        ['dma-map-unmap', () => { if (++n > 1) throw new Error('boom'); return { overriddenDuration: 1e-3, overriddenIterationCost: 1e-3 }; }],
      ]),
      reference: new Map([['translate-hot', 'flat-lookup']]),
      skipped: new Map(),
    };
    const [flat, hot, dma] = run_pass(p, { time_ms: 1, warmup_ms: 1 }) as [TaskPass, TaskPass, TaskPass];
    expect(flat.failed).toBeNull();
    expect(flat.samples.every((x) => x === 1e-6)).toBe(true);
    expect(hot.ratios.length).toBe(hot.samples.length);
    expect(hot.refs.every((x) => x === 1e-6)).toBe(true);
    expect(hot.ratios.every((x) => x === 0.25)).toBe(true);
    expect(dma.failed).toMatch(/^errored: boom/);
  });
});
