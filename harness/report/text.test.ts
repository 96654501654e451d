import { describe, expect, it } from 'vitest';
import type { Results } from '../measure/results.ts';
import { format_text } from './text.ts';
import { hostile_results, sample_results } from './sample.test-data.ts';

function check_mail_lines(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    expect(line, line).toMatch(/^[\x20-\x7e]*$/);
    expect(line.length, line).toBeLessThanOrEqual(80);
  }
}

/** The sample with eight variants of long names and a long scenario id. */
function wide_results(): Results {
  const r = sample_results();
  const base = r.variants[0];
  for (let i = 0; i < 8; i++) {
    const name = `a-rather-long-variant-name-number-${i}`;
    r.variants.push({ ...base, name });
    r.results.push({ ...r.results[0], variant: name, verdict: i % 2 === 0 ? 'unsupported' : 'fail' });
    r.bench.push({ ...r.bench[1], variant: name, name: 'context-create-and-destroy-with-a-long-name', note: 'x '.repeat(60) });
  }
  r.scenarios.push({ id: 'a-scenario-id-that-is-much-longer-than-usual-for-sure', file: 'scenarios/long.yaml', summary: '' });
  return r;
}

describe('format_text', () => {
  it('is plain ASCII with lines of at most 80 columns', () => {
    check_mail_lines(format_text(sample_results()));
  });

  it('stays within 80 columns with many long-named variants (abbreviated headers)', () => {
    const text = format_text(wide_results());
    check_mail_lines(text);
    expect(text).toContain('  A = dma-context-bus');
    expect(text).toContain('a-rather-long-variant-name-number-7');
  });

  it('stays ASCII and within 80 columns when every string carries control characters', () => {
    check_mail_lines(format_text(hostile_results()));
  });

  it('gives byte-identical output for the same Results', () => {
    expect(format_text(sample_results())).toBe(format_text(sample_results()));
  });

  it('shows the kernel, the verdicts, coverage, cost, ratios and wrapped failures', () => {
    const text = format_text(sample_results());
    expect(text).toContain('Kernel: Linux v6.12 (modelled)');
    expect(text).toMatch(/\| iris-sm8550 +\| pass +\| FAIL +\| ERROR \* +\|/);
    expect(text).toMatch(/\| auxiliary-bus +\| 3 +\| 0\/3 /);
    expect(text).toMatch(/\| dma-context-bus +\| 1 +\| 1 +\| 2 +\| 212 \|/);
    expect(text).toContain('tie with');
    expect(text).toContain('  - step 7 (scenarios/iris-sm8550.yaml:21:5): stream-ids: ctx non-pixel');
    expect(text).toContain('\n      dma_configure was never called');
    expect(text).toContain('scenarios/broken.yaml:12:7: unknown key');
  });
});
