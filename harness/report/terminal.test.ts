import { describe, expect, it } from 'vitest';
import { DEFAULT_WIDTH, format_terminal } from './terminal.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

const widest = (s: string): number => Math.max(...s.split('\n').map((l) => [...l].length));

describe('format_terminal', () => {
  it('draws the failures, design cost and performance, then the summary, the verdicts last', () => {
    const out = format_terminal(sample_results());
    const at = (title: string): number => out.indexOf(`\n${title}`);
    for (const title of ['Design cost', 'Performance', 'Designs', 'Verdicts', 'Coverage', 'Input errors']) expect(at(title), title).toBeGreaterThan(0);
    expect(out.startsWith('Failures (one line per run')).toBe(true);
    expect(at('Performance')).toBeLessThan(at('Designs'));
    expect(at('Designs')).toBeLessThan(at('Verdicts'));
    expect(out).toContain('  platform-device  ERROR* ERROR* ERROR* error*');
    expect(out).toContain('translate-hot: dma-context-bus and auxiliary-bus tie');
    expect(out).toContain('scenarios/broken.yaml:12:7: unknown key "iommu-mapp" did you mean "iommu-map"?');
  });

  it('fits 100 columns by default and any narrower width it is given, tables included', () => {
    expect(widest(format_terminal(sample_results()))).toBeLessThanOrEqual(DEFAULT_WIDTH);
    for (const width of [80, 60]) expect(widest(format_terminal(sample_results(), width)), `${width}`).toBeLessThanOrEqual(width);
  });

  it('does not throw on tabs, newlines and control characters in any string', () => {
    const out = format_terminal(hostile_results());
    expect(out).not.toMatch(/[\t\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('is deterministic', () => {
    expect(format_terminal(sample_results())).toBe(format_terminal(sample_results()));
  });

  it('gives one line per failed run, however many failures it has', () => {
    const out = format_terminal(many_failures_results(1000));
    const failures = out.slice(0, out.indexOf('\nDesign cost')).trim().split('\n');
    expect(failures).toEqual([
      'Failures (one line per run; each failure in full in details.txt)',
      '  iris-sm8550 x auxiliary-bus (fail): stream-ids x1000, dma-reaches-buffer x1000',
    ]);
    expect(format_terminal(sample_results())).toContain('  iris-sm8550 x platform-device (error): variant-load -- the variant did not load');
  });
});

describe('a table with a column per design', () => {
  it('is drawn with a row per design', () => {
    const r = sample_results();
    const extra = Array.from({ length: 12 }, (_v, i) => `design-number-${i}`);
    r.variants.push(...extra.map((name) => ({ ...r.variants[0]!, name })));
    r.scaling = extra.map((variant) => ({ ...r.scaling[0]!, variant }));
    const out = format_terminal(r);
    expect(widest(out)).toBeLessThanOrEqual(DEFAULT_WIDTH);
    const scaling = out.slice(out.indexOf('\nScaling'), out.indexOf('\n\n', out.indexOf('\nScaling') + 1));
    for (const name of extra) expect(scaling).toMatch(new RegExp(`║ ${name} +│`));
    // the benchmark table of the sample, too: a row per design
    const sample = format_terminal(sample_results());
    const perf = sample.slice(sample.indexOf('\nPerformance'), sample.indexOf('\nScaling'));
    expect(perf).toMatch(/║ benchmark +│ flat-lookup +│/);
    expect(perf).toMatch(/║ dma-context-bus +│ /);
  });
});

describe('a table too wide either way round', () => {
  it('is drawn as several tables, each with the first column', () => {
    const r = sample_results();
    const designs = Array.from({ length: 14 }, (_v, i) => `design-${i}`);
    r.variants.push(...designs.map((name) => ({ ...r.variants[0]!, name })));
    r.scenarios.push(...designs.map((d, i) => ({ id: `scenario-${i}`, file: `scenarios/s${i}.yaml`, summary: d })));
    r.results.push(...designs.flatMap((variant) => r.scenarios.map((s) => ({ ...r.results[0]!, variant, scenario: s.id, peak_heap_mb: 12 }))));
    const out = format_terminal(r);
    expect(widest(out)).toBeLessThanOrEqual(DEFAULT_WIDTH);
    const memory = out.slice(out.indexOf('\nPeak memory'), out.indexOf('\n\n', out.indexOf('\nPeak memory') + 1));
    expect(memory.split('\n').filter((l) => l.startsWith('╔')).length).toBeGreaterThan(1);
  });
});
