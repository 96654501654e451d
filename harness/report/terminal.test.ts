import { describe, expect, it } from 'vitest';
import { format_terminal } from './terminal.ts';
import { hostile_results, sample_results } from './sample.test-data.ts';

describe('format_terminal', () => {
  it('draws every section of the sample', () => {
    const out = format_terminal(sample_results());
    for (const title of ['Verdicts', 'Notifier coverage', 'Design cost', 'Benchmarks', 'Failures', 'Unsupported', 'Input errors']) {
      expect(out).toContain(`\n${title}`);
    }
    expect(out).toContain('ERROR *');
    expect(out).toContain('tie with auxiliary-bus');
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
});
