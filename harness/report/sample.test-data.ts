// A hand-built Results for the report tests: three variants (one expected to
// fail, with long failure messages; one that did not load), three scenarios,
// an unsupported run, benchmark rows with a tie and an unmeasured row, and an
// input error. Some strings carry tabs, newlines and non-ASCII on purpose.
// hostile_results() poisons every free-text string of it; many_failures_results()
// is a run with many contexts failing the same way.


const KERNEL_615 = { flow: '6.15', patches: [] };
import type { BenchRow, Coverage, Results } from '../measure/results.ts';

function cov(contexts: number, reached: number, missed: string[] = []): Coverage {
  return {
    contexts, add_notified: reached, removed_notified: reached,
    dma_configured: reached, iommu_probed: reached, iommu_released: reached, missed,
  };
}

const none: Coverage = cov(0, 0);
const BASE = 'flat-lookup';

function row(name: string, variant: string, ops: number, rme: number, ratio: number, goal: number | null): BenchRow {
  const ties = name === 'translate-hot' ? [variant === 'auxiliary-bus' ? 'dma-context-bus' : 'auxiliary-bus'] : [];
  return {
    name, variant, scenario: 'iris-sm8550', ops_per_sec: ops, rme, ratio, ratio_low: ratio * 0.95, ratio_high: ratio * 1.05,
    rounds: [ratio * 0.95, ratio, ratio * 1.05], floor_ns: [2.2, 2.2, 2.3], floor_speeds: [2.2], inside_previous: null,
    samples: 120, goal, ties, note: null,
  };
}

export function sample_results(): Results {
  return {
    kernel: 'Linux v6.12 (modelled)',
    variants: [
      {
        name: 'dma-context-bus',
        expect: 'works',
        verdict: 'works',
        summary: 'One generic bus in drivers/base whose .dma_configure maps a context device through iommu-map',
        series: [{
          subject: '[PATCH v2 02/13] drivers: base: Add generic dma context bus',
          link: 'https://lore.kernel.org/all/20250101-dma-ctx-bus-v2-2-0123abcd@example.org/',
        }],
        cost: {
          bus_types: ['dma_context'],
          core_edits: [{ file: 'drivers/iommu/iommu.c', what: 'iommu_buses += &dma_context_bus_type', bus: 'dma_context' }],
          exported_symbols: ['dma_context_device_add', 'dma_context_device_del'],
          loc: 212,
          per_driver: null,
        },
        load_error: null,
        findings: [],
      },
      {
        name: 'auxiliary-bus',
        expect: 'fails',
        verdict: 'fails',
        summary: 'Context devices on the auxiliary bus, which has no .dma_configure | and is not in iommu_buses',
        series: [{
          subject: '[RFC PATCH 1/4] media: iris: Use auxiliary devices for context banks',
          link: 'https://lore.kernel.org/all/20241201-iris-aux-v1-1-fedcba987654@example.org/',
        }],
        cost: { bus_types: [], core_edits: [], exported_symbols: [], loc: 96, per_driver: null },
        load_error: null,
        findings: [],
      },
      {
        name: 'platform-device',
        expect: 'works',
        verdict: 'error',
        summary: 'Context devices as platform devices created from child nodes',
        series: [],
        cost: null,
        load_error: 'SyntaxError: Unexpected token \u2192 in variants/platform-device/index.ts:\n  at line 14',
        findings: [],
      },
    ],
    scenarios: [
      { id: 'iris-sm8550', file: 'scenarios/iris-sm8550.yaml', summary: 'Iris video codec with non-pixel and pixel contexts' },
      { id: 'fastrpc-sm8650', file: 'scenarios/fastrpc-sm8650.yaml', summary: 'FastRPC compute contexts' },
      { id: 'gpu-no-iommu-map', file: 'scenarios/gpu-no-iommu-map.yaml', summary: 'A context wired to no IOMMU' },
    ],
    results: [
      {
        scenario: 'iris-sm8550', file: 'scenarios/iris-sm8550.yaml', variant: 'dma-context-bus',
        verdict: 'pass', failures: [], unsupported: null, coverage: cov(2, 2), steps_run: 9, events: 140, kernel: KERNEL_615, needs: [], findings: [], served: [], peak_heap_mb: 41.5,
      },
      {
        scenario: 'fastrpc-sm8650', file: 'scenarios/fastrpc-sm8650.yaml', variant: 'dma-context-bus',
        verdict: 'pass', failures: [], unsupported: null, coverage: cov(4, 4), steps_run: 12, events: 301, kernel: KERNEL_615, needs: [], findings: [], served: [], peak_heap_mb: 388.2,
      },
      {
        scenario: 'gpu-no-iommu-map', file: 'scenarios/gpu-no-iommu-map.yaml', variant: 'dma-context-bus',
        verdict: 'pass', failures: [], unsupported: null, coverage: cov(1, 1), steps_run: 4, events: 31, kernel: KERNEL_615, needs: [], findings: [], served: [],
      },
      {
        scenario: 'iris-sm8550', file: 'scenarios/iris-sm8550.yaml', variant: 'auxiliary-bus',
        verdict: 'fail',
        failures: [
          {
            step: 'step 7 (scenarios/iris-sm8550.yaml:21:5)',
            check: 'stream-ids',
            message: 'ctx non-pixel: DMA with SID 0x1947 \u2192 unidentified stream fault (no stream mapping); '
              + 'dma_configure was never called: auxiliary_bus has none, so of_dma_configure_id never read '
              + 'the parent\'s iommu-map and the fwspec stayed empty',
          },
          {
            step: 'teardown',
            check: 'teardown-leak',
            message: 'iommu_probe_device\tnever ran for\nctx pixel; nothing to release. Left over: '
              + 'drivers/media/platform/qcom/iris/iris_probe.c:iris_context_bank_alloc/iova_domain@0xffff800081234000 '
              + '(3 IOVA ranges, 12 page-table pages)',
          },
        ],
        unsupported: null,
        coverage: cov(2, 0, [
          'ctx non-pixel (qcom,sm8550-iris.non-pixel.0): ADD_DEVICE, REMOVED_DEVICE, dma_configure',
          'ctx pixel (qcom,sm8550-iris.pixel.1): ADD_DEVICE',
        ]),
        steps_run: 9, events: 88, kernel: KERNEL_615, needs: [], findings: [], served: [],
      },
      {
        scenario: 'fastrpc-sm8650', file: 'scenarios/fastrpc-sm8650.yaml', variant: 'auxiliary-bus',
        verdict: 'unsupported', failures: [],
        unsupported: 'fastrpc needs a per-session device with its own reg: needs "auxiliary: add .dma_configure"',
        coverage: none, steps_run: 0, events: 0, kernel: KERNEL_615, needs: [], findings: [], served: [],
      },
      {
        scenario: 'gpu-no-iommu-map', file: 'scenarios/gpu-no-iommu-map.yaml', variant: 'auxiliary-bus',
        verdict: 'pass', failures: [], unsupported: null, coverage: cov(1, 0), steps_run: 4, events: 20, kernel: KERNEL_615, needs: [], findings: [], served: [],
      },
      {
        scenario: 'iris-sm8550', file: 'scenarios/iris-sm8550.yaml', variant: 'platform-device',
        verdict: 'error',
        failures: [{ step: 'load', check: 'variant-load', message: 'the variant did not load' }],
        unsupported: null, coverage: none, steps_run: 0, events: 0, kernel: KERNEL_615, needs: [], findings: [], served: [],
      },
    ],
    bench: [
      row(BASE, 'dma-context-bus', 812_000_000, 1.2, 1, null),
      row(BASE, 'auxiliary-bus', 790_000_000, 1.5, 1, null),
      row('translate-hot', 'dma-context-bus', 301_500_000, 2.1, 0.371, 0.3),
      row('translate-hot', 'auxiliary-bus', 305_200_000, 1.8, 0.376, 0.3),
      row('translate-cold', 'dma-context-bus', 160_400_000, 0.9, 0.1975, 0.1),
      row('translate-cold', 'auxiliary-bus', 12_300, 3.4, 0.0000151, 0.1),
      { ...row('dma-map-unmap', 'platform-device', 0, 0, 0, null), note: 'not measured: the variant did not load' },
    ],
    scaling: [
      { name: 'context-create-destroy', variant: 'dma-context-bus', scenario: 'scale', small: 100, large: 10_000, cost_ratio: 1.04, cost_low: 1.01, cost_high: 1.07, rounds: [1.01, 1.04, 1.07], small_ns: 31_200, large_ns: 32_450, rme_small: 2.2, rme_large: 3.1, goal: 1.5, note: null },
      { name: 'dma-map', variant: 'dma-context-bus', scenario: 'scale', small: 1000, large: 100_000, cost_ratio: 1.71, cost_low: 1.6, cost_high: 1.8, rounds: [1.6, 1.71, 1.8], small_ns: 2100, large_ns: 3590, rme_small: 1.1, rme_large: 1.3, goal: 1.5, note: null },
      { name: 'context-create-destroy', variant: 'auxiliary-bus', scenario: 'scale', small: 100, large: 10_000, cost_ratio: 0, cost_low: 0, cost_high: 0, rounds: [], small_ns: 0, large_ns: 0, rme_small: 0, rme_large: 0, goal: 1.5, note: 'not measured: failed verification (fail on scale: stream-ids: ctx ctx.0: no group)' },
    ],
    errors: [
      { file: 'scenarios/broken.yaml', line: 12, col: 7, message: 'unknown key "iommu-mapp"\tdid you mean "iommu-map"?' },
    ],
    exit_code: 2,
  };
}

const ALL_MISSED = 'ADD_DEVICE, REMOVED_DEVICE, dma_configure, iommu_probe_device, iommu_release_device';

/**
 * A run as the real harness produces it for a design that never reaches the
 * IOMMU core: `n` contexts, each with a stream-ids failure, a dma-reaches-buffer
 * failure (every fourth on a bare SID instead of a context) and the same
 * missed line. Two variants on one scenario; every verdict as expected, so no
 * cell carries the marker.
 */
export function many_failures_results(n: number): Results {
  const r = sample_results();
  const [works, fails] = r.variants;
  const scenario = r.scenarios[0];
  const ctx = (i: number): string => `host1x-ctx.${i}`;
  const stream = Array.from({ length: n }, (_, i) => ({
    step: `step ${i + 2} round ${i} (scenarios/host1x-tegra234.yaml:103:11)`,
    check: 'stream-ids',
    message: `ctx ${ctx(i)}: expected stream IDs /iommu@12000000:0x${(0x35 + i).toString(16)}/0x0, `
      + 'but it has no IOMMU group; auxiliary has no .dma_configure',
  }));
  const dma = Array.from({ length: n }, (_, i) => ({
    step: `step ${n + i + 2} (scenarios/host1x-tegra234.yaml:114:5)`,
    check: 'dma-reaches-buffer',
    message: `${i % 4 === 3 ? 'SID 0xc21' : `ctx ${ctx(i)}`}: DMA at 0x80000000 -> unidentified stream fault`,
  }));
  return {
    ...r,
    variants: [works, fails],
    scenarios: [scenario],
    results: [
      { ...r.results[0], coverage: cov(n, n) },
      {
        ...r.results[3],
        failures: [...stream, ...dma],
        coverage: cov(n, 0, Array.from({ length: n }, (_, i) => `ctx ${ctx(i)} (nvidia,tegra234-host1x.${ctx(i)}.${i}): ${ALL_MISSED}`)),
      },
    ],
    bench: [],
    scaling: [],
    errors: [],
    exit_code: 0,
  };
}

// Every string gets tabs, line breaks, control characters, non-ASCII, pipes
// and hashes: what a careless variant or scenario could put into a message.
const NASTY = '\tx|y#z\n\r\u0007\u001b[31m\u2192\u00e9\u{1f600}\u2028';

function poison(value: unknown, skip: string | null): unknown {
  if (typeof value === 'string') return skip === 'expect' || skip === 'verdict' ? value : `${value}${NASTY}`;
  if (Array.isArray(value)) return value.map((v) => poison(v, null));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, k)]));
  }
  return value;
}

/** sample_results() with NASTY appended to every free-text string (not to enums). */
export function hostile_results(): Results {
  return poison(sample_results(), null) as Results;
}
