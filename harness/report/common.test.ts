import { describe, expect, it } from 'vitest';
import type { Failure, RunResult } from '../measure/results.ts';
import {
  MAX_CHECKS, any_marked, bench_ties, failure_context, failure_groups, findings, format_ops,
  format_ratio, missed_lines, more_line, run_unexpected, sanitise, to_ascii, verdict_cell, wrap,
} from './common.ts';
import { many_failures_results, sample_results } from './sample.test-data.ts';

describe('sanitise', () => {
  it('turns tabs and line breaks into spaces and other control characters into ?', () => {
    expect(sanitise('a\tb\nc\r\nd\u0007e\u001b[0m\u007f')).toBe('a b c d?e?[0m?');
  });
});

describe('to_ascii', () => {
  it('spells common symbols in ASCII and replaces the rest by code point', () => {
    expect(to_ascii('SID \u2192 fault \u00b1 1 \u00d7 2 \u{1f600} \u00fc')).toBe('SID -> fault +/- 1 x 2 ? ?');
  });
});

describe('wrap', () => {
  it('keeps every line within the width, with a hanging indent', () => {
    const text = 'word '.repeat(40) + 'x'.repeat(150);
    const lines = wrap(text, 40, '  - ', '      ');
    expect(lines[0].startsWith('  - word')).toBe(true);
    for (const l of lines.slice(1)) expect(l.startsWith('      ')).toBe(true);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.join('').replace(/[ -]/g, '')).toBe(text.replace(/ /g, ''));
  });

  it('starts a new line at a line break in the text', () => {
    expect(wrap('one\ntwo', 80, '> ', '  ')).toEqual(['> one', '  two']);
  });
});

describe('verdict cells', () => {
  const r = sample_results();
  const [works, fails, broken] = r.variants;

  it('marks a failed run of a "works" variant and not of a "fails" variant', () => {
    expect(run_unexpected('fail', works)).toBe(true);
    expect(run_unexpected('fail', fails)).toBe(false);
    expect(run_unexpected('unsupported', works)).toBe(false);
    expect(verdict_cell(r, 'iris-sm8550', fails)).toBe('FAIL');
    expect(verdict_cell(r, 'iris-sm8550', broken)).toBe('ERROR *');
    expect(verdict_cell(r, 'fastrpc-sm8650', fails)).toBe('unsupported');
  });

  it('marks the passes of a "fails" variant only when no run of it failed', () => {
    expect(run_unexpected('pass', fails)).toBe(false);
    expect(run_unexpected('pass', { ...fails, verdict: 'works' })).toBe(true);
  });
});

describe('benchmark cells', () => {
  it('finds ties within the combined margin of error, and none for unmeasured rows', () => {
    const { bench } = sample_results();
    const hot = bench.filter((b) => b.name === 'translate-hot');
    expect(bench_ties(bench, hot[0])).toEqual(['auxiliary-bus']);
    const cold = bench.filter((b) => b.name === 'translate-cold');
    expect(bench_ties(bench, cold[0])).toEqual([]);
    expect(bench_ties(bench, bench[bench.length - 1])).toEqual([]);
    // the baseline is never ranked
    expect(bench_ties(bench, bench[0])).toEqual([]);
  });

  it('formats ops/s and ratios', () => {
    expect(format_ops(812_000_000)).toBe('812M');
    expect(format_ops(999_950)).toBe('1M');
    expect(format_ops(12_345)).toBe('12.3k');
    expect(format_ratio(0.371)).toBe('0.37x');
    expect(format_ratio(0.0123)).toBe('0.012x');
    expect(format_ratio(0.0000151)).toBe('1.5e-5x');
  });
});

describe('failure groups', () => {
  const fail = (check: string, message: string): Failure => ({ step: 'step 1 (s.yaml:1:1)', check, message });

  it('collapses 100 similar failures into the first one and one line', () => {
    const run = many_failures_results(100).results[1];
    const { groups, rest } = failure_groups(run);
    expect(rest).toBeNull();
    expect(groups.map((g) => [g.check, g.count])).toEqual([['stream-ids', 100], ['dma-reaches-buffer', 100]]);
    expect(groups[0].first).toBe(run.failures[0]);
    expect(groups[0].more).toBe('(+99 more stream-ids failures: 99 contexts, ctx host1x-ctx.1 .. host1x-ctx.99)');
    expect(groups[1].more).toBe('(+99 more dma-reaches-buffer failures: 74 contexts, ctx host1x-ctx.1 .. host1x-ctx.98; SID 0xc21)');
  });

  it('names up to three contexts, counts the rest, and says nothing of a single failure', () => {
    expect(more_line('isolation', [])).toBeNull();
    expect(more_line('isolation', [fail('isolation', 'ctx a: x')])).toBe('(+1 more isolation failure: ctx a)');
    expect(more_line('isolation', ['ctx a: x', 'ctx b: y', 'ctx a: z', 'no subject'].map((m) => fail('isolation', m))))
      .toBe('(+4 more isolation failures: ctx a, b; 1 on neither)');
    expect(more_line('teardown-leak', [fail('teardown-leak', 'leak'), fail('teardown-leak', 'leak')]))
      .toBe('(+2 more teardown-leak failures)');
  });

  it('reads the context only from a "ctx <name>: " prefix', () => {
    expect(failure_context('ctx non-pixel: DMA with SID 0x1947')).toBe('non-pixel');
    expect(failure_context('iommu_probe_device never ran for ctx pixel: x')).toBeNull();
  });

  it('shows at most MAX_CHECKS checks and one line for the others', () => {
    const base = sample_results().results[3];
    const failures = Array.from({ length: MAX_CHECKS + 4 }, (_, i) => fail(`check-${i}`, `ctx c${i}: broken`));
    const run: RunResult = { ...base, failures: [...failures, ...failures] };
    const { groups, rest } = failure_groups(run);
    expect(groups.length).toBe(MAX_CHECKS);
    expect(rest).toBe(`(+8 more failures of 4 other checks: check-${MAX_CHECKS}, check-${MAX_CHECKS + 1}, check-${MAX_CHECKS + 2} and 1 more)`);
  });
});

describe('missed lines', () => {
  it('collapses contexts that missed the same steps into one line per variant and scenario', () => {
    expect(missed_lines(many_failures_results(89))).toEqual([
      'auxiliary-bus on iris-sm8550: 89/89 contexts missed ADD_DEVICE, REMOVED_DEVICE, '
        + 'dma_configure, iommu_probe_device, iommu_release_device',
    ]);
  });

  it('names up to three contexts when only some of them missed a set', () => {
    expect(missed_lines(sample_results())).toEqual([
      'auxiliary-bus on iris-sm8550: 1/2 contexts missed ADD_DEVICE, REMOVED_DEVICE, dma_configure (ctx non-pixel)',
      'auxiliary-bus on iris-sm8550: 1/2 contexts missed ADD_DEVICE (ctx pixel)',
    ]);
    const r = many_failures_results(10);
    r.results[1].coverage.contexts = 12;
    r.results[1].coverage.missed.push('something else entirely', 'something else entirely');
    expect(missed_lines(r)).toEqual([
      'auxiliary-bus on iris-sm8550: 10/12 contexts missed ADD_DEVICE, REMOVED_DEVICE, dma_configure, '
        + 'iommu_probe_device, iommu_release_device (ctx host1x-ctx.0, host1x-ctx.1, host1x-ctx.2 and 7 more)',
      'auxiliary-bus on iris-sm8550: something else entirely (x2)',
    ]);
  });
});

describe('findings', () => {
  it('gives each variant its verdict against its expect and its failed checks with counts', () => {
    expect(findings(sample_results())).toEqual([
      'dma-context-bus: works as expected (scenarios: 3 pass)',
      'auxiliary-bus: fails as expected: stream-ids x1, teardown-leak x1 (scenarios: 1 fail, 1 pass, 1 unsupported)',
      'platform-device: error, but expected works: did not load; variant-load x1 (scenarios: 1 error)',
      '1 scenario file did not load (see Input errors)',
    ]);
    expect(findings(many_failures_results(100))).toEqual([
      'dma-context-bus: works as expected (scenarios: 1 pass)',
      'auxiliary-bus: fails as expected: stream-ids x100, dma-reaches-buffer x100 (scenarios: 1 fail)',
    ]);
  });

  it('knows whether any verdict cell carries the marker', () => {
    expect(any_marked(sample_results())).toBe(true);
    expect(any_marked(many_failures_results(3))).toBe(false);
  });
});
