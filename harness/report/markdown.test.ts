import { describe, expect, it } from 'vitest';
import { format_markdown, md } from './markdown.ts';
import { UNEXPECTED_LEGEND } from './common.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

/** Cells in a table row: pipes not escaped by a backslash, minus the outer two. */
function cell_count(row: string): number {
  return row.replace(/\\./g, '').split('|').length - 2;
}

function tables(text: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) current.push(line);
    else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  }
  return out;
}

describe('format_markdown', () => {
  it('has the title, the kernel, every section and the series links', () => {
    const out = format_markdown(sample_results());
    expect(out.startsWith('# ')).toBe(true);
    expect(out).toContain('Kernel: Linux v6.12 (modelled)');
    for (const h of ['Designs', 'Findings', 'Verdicts', 'Notifier coverage', 'Design cost', 'Performance', 'Failures', 'Variants', 'Input errors']) {
      expect(out).toContain(`\n## ${h}\n`);
    }
    expect(out).toContain('### iris-sm8550 \u00d7 auxiliary-bus (fail)');
    expect(out).toContain('](https://lore.kernel.org/all/20241201-iris-aux-v1-1-fedcba987654@example.org/)');
  });

  it('escapes | so every row of a table has as many cells as its header', () => {
    expect(md('a|b')).toBe('a\\|b');
    for (const r of [sample_results(), hostile_results()]) {
      const found = tables(format_markdown(r));
      // verdicts, coverage, design cost, performance, scaling, peak memory
      expect(found.length).toBe(6);
      for (const t of found) {
        for (const row of t) expect(cell_count(row), row).toBe(cell_count(t[0]));
      }
    }
  });

  it('keeps each table row on one line and is deterministic', () => {
    const out = format_markdown(hostile_results());
    expect(out).not.toMatch(/[\t\r\u2028\u0007]/);
    expect(out).toBe(format_markdown(hostile_results()));
  });

  it('opens with the designs and their kernel reasons, then the verdicts with the designs as rows', () => {
    const out = format_markdown(sample_results());
    expect(out.indexOf('\n## Designs\n')).toBeLessThan(out.indexOf('\n## Verdicts\n'));
    expect(out).toContain('\n- **auxiliary-bus**: fails as expected (unsupported on 1 of 3). Why: stream-ids: dma_configure was never called');
    expect(out).toContain('\n| design | iris-sm8550 | fastrpc-sm8650 | gpu-no-iommu-map | overall | expect |\n');
    expect(out).toContain('\n| platform-device | ERROR \\* | ERROR \\* | ERROR \\* | error \\* | works |\n');
  });

  it('lists the claims with status, evidence and a link to the mail', () => {
    const r = sample_results();
    r.claims = [{ id: 'x', claim: 'the auxiliary bus has no .dma_configure', who: 'Someone', link: 'https://lore.kernel.org/all/abc@x/', status: 'upheld', evidence: 'auxiliary-bus: dma_configured 0 of 3' }];
    expect(format_markdown(r)).toContain('| upheld | [the auxiliary bus has no .dma_configure](https://lore.kernel.org/all/abc@x/) | Someone | auxiliary-bus: dma_configured 0 of 3 |');
  });

  it('keeps the findings and shows the legend only when a cell is marked', () => {
    const out = format_markdown(sample_results());
    expect(out.indexOf('\n## Findings\n')).toBeGreaterThan(out.indexOf('\n## Verdicts\n'));
    expect(out).toContain('\n- auxiliary-bus: fails as expected: stream-ids x1, teardown-leak x1 (scenarios: 1 fail, 1 pass, 1 unsupported)\n');
    expect(out).toContain(md(UNEXPECTED_LEGEND));
    expect(format_markdown(many_failures_results(3))).not.toContain(md(UNEXPECTED_LEGEND));
  });

  it('collapses 100 similar failures and missed contexts to a bounded number of lines', () => {
    const out = format_markdown(many_failures_results(100));
    const section = out.slice(out.indexOf('\n## Failures\n'), out.indexOf('\n## Variants\n')).trim().split('\n');
    expect(section.length).toBeLessThanOrEqual(8);
    expect(section).toContain('  - (+99 more stream-ids failures: 99 contexts, ctx host1x-ctx.1 .. host1x-ctx.99)');
    expect(out).toContain('\n- auxiliary-bus on iris-sm8550: 100/100 contexts missed ADD_DEVICE, REMOVED_DEVICE, '
      + 'dma_configure, iommu_probe_device, iommu_release_device\n');
    expect(out).not.toContain('host1x-ctx.50');
    const n = (s: string): number => s.split('\n').length;
    // ten times the failures: at most a few more lines, from wider numbers in tables and wraps
    expect(n(format_markdown(many_failures_results(1000)))).toBeLessThanOrEqual(n(out) + 4);
  });
});
