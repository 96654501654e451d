import { describe, expect, it } from 'vitest';
import { format_terminal } from './terminal.ts';
import { UNEXPECTED_LEGEND } from './common.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

describe('format_terminal', () => {
  it('draws every section of the sample', () => {
    const out = format_terminal(sample_results());
    for (const title of ['Findings', 'Verdicts', 'Notifier coverage', 'Design cost', 'Performance', 'Failures', 'Unsupported', 'Input errors']) {
      expect(out).toContain(`\n${title}`);
    }
    expect(out).toContain('ERROR *');
    expect(out).toContain('translate-hot: dma-context-bus and auxiliary-bus tie');
    expect(out).toContain('not measured: the variant did not load');
    expect(out).toContain('scenarios/broken.yaml:12:7: unknown key "iommu-mapp" did you mean "iommu-map"?');
  });

  it('does not throw on tabs, newlines and control characters in any string', () => {
    const out = format_terminal(hostile_results());
    expect(out).not.toMatch(/[\t\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('is deterministic', () => {
    expect(format_terminal(sample_results())).toBe(format_terminal(sample_results()));
  });

  it('shows the legend only when a cell is marked', () => {
    expect(format_terminal(sample_results())).toContain(UNEXPECTED_LEGEND);
    expect(format_terminal(many_failures_results(3))).not.toContain(UNEXPECTED_LEGEND);
  });

  it('collapses 100 similar failures and missed contexts to a bounded number of lines', () => {
    const out = format_terminal(many_failures_results(100));
    const failures = out.slice(out.indexOf('\nFailures\n'), out.indexOf('\nExit code')).trim().split('\n');
    expect(failures.length).toBeLessThanOrEqual(12);
    expect(out).toContain('    (+99 more stream-ids failures: 99 contexts, ctx host1x-ctx.1 .. host1x-ctx.99)');
    expect(out).toContain('\nMissed:\n  auxiliary-bus on iris-sm8550: 100/100 contexts missed ADD_DEVICE, REMOVED_DEVICE, '
      + 'dma_configure,\n    iommu_probe_device, iommu_release_device\n');
    expect(out).not.toContain('host1x-ctx.50');
    const n = (s: string): number => s.split('\n').length;
    // ten times the failures: at most a few more lines, from wider numbers in tables and wraps
    expect(n(format_terminal(many_failures_results(1000)))).toBeLessThanOrEqual(n(out) + 4);
  });
});
