import { describe, expect, it } from 'vitest';
import { format_markdown, md } from './markdown.ts';
import { hostile_results, sample_results } from './sample.test-data.ts';

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
    for (const h of ['Verdicts', 'Notifier coverage', 'Design cost', 'Benchmarks', 'Failures', 'Variants', 'Input errors']) {
      expect(out).toContain(`\n## ${h}\n`);
    }
    expect(out).toContain('### iris-sm8550 \u00d7 auxiliary-bus (fail)');
    expect(out).toContain('](https://lore.kernel.org/all/20241201-iris-aux-v1-1-fedcba987654@example.org/)');
  });

  it('escapes | so every row of a table has as many cells as its header', () => {
    expect(md('a|b')).toBe('a\\|b');
    for (const r of [sample_results(), hostile_results()]) {
      const found = tables(format_markdown(r));
      expect(found.length).toBe(4);
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
});
