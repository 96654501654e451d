import { describe, expect, it } from 'vitest';
import type { Results } from '../measure/results.ts';
import { format_details } from './details.ts';
import { UNEXPECTED_LEGEND } from './common.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

function check_mail_lines(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    expect(line, line).toMatch(/^[\x20-\x7e]*$/);
    if (!/^\s*https?:\/\/\S+$/.test(line)) expect(line.length, line).toBeLessThanOrEqual(80);
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

describe('format_details (details.txt)', () => {
  it('is plain ASCII with lines of at most 80 columns', () => {
    check_mail_lines(format_details(sample_results()));
  });

  it('stays within 80 columns with many long-named variants (abbreviated headers)', () => {
    const text = format_details(wide_results());
    check_mail_lines(text);
    expect(text).toContain('  A = dma-context-bus');
    expect(text).toContain('a-rather-long-variant-name-number-7');
  });

  it('stays ASCII and within 80 columns when every string carries control characters', () => {
    check_mail_lines(format_details(hostile_results()));
  });

  it('gives byte-identical output for the same Results', () => {
    expect(format_details(sample_results())).toBe(format_details(sample_results()));
  });

  it('shows the kernel, the verdicts, coverage, cost, ratios and wrapped failures', () => {
    const text = format_details(sample_results());
    expect(text).toContain('Kernel: Linux v6.12 (modelled)');
    expect(text).toMatch(/\| iris-sm8550 +\| pass +\| FAIL +\| ERROR \* +\|/);
    expect(text).toMatch(/\| auxiliary-bus +\| 3 +\| 0\/3 /);
    expect(text).toMatch(/\| dma-context-bus +\| 1 +\| 1 +\| 2 +\| 212 \|/);
    expect(text).toContain('translate-hot: dma-context-bus and auxiliary-bus tie');
    expect(text).toContain('  - step 7 (scenarios/iris-sm8550.yaml:21:5): stream-ids: ctx non-pixel');
    expect(text).toContain('\n      dma_configure was never called');
    expect(text).toContain('scenarios/broken.yaml:12:7: unknown key');
  });

  it('starts with the findings, one line per variant', () => {
    const text = format_details(sample_results());
    expect(text.indexOf('\nFindings\n')).toBeGreaterThan(0);
    expect(text.indexOf('\nFindings\n')).toBeLessThan(text.indexOf('\nVerdicts\n'));
    expect(text).toContain('\n  dma-context-bus: works as expected (scenarios: 3 pass)\n');
    expect(text).toContain('\n  auxiliary-bus: fails as expected: stream-ids x1, teardown-leak x1 (scenarios:\n');
  });

  it('shows the legend only when some cell carries the marker', () => {
    expect(format_details(sample_results())).toContain(UNEXPECTED_LEGEND);
    expect(format_details(many_failures_results(3))).not.toContain(UNEXPECTED_LEGEND);
    expect(format_details(many_failures_results(3))).not.toMatch(/ \* /);
  });

  it('collapses 100 similar failures and missed contexts to a bounded number of lines', () => {
    const text = format_details(many_failures_results(100));
    check_mail_lines(text);
    const section = text.slice(text.indexOf('\nFailures\n'), text.indexOf('\nVariants\n')).trim().split('\n');
    // heading, run line, and per check: the first failure (3 lines) and the "+99 more" line (2)
    expect(section.length).toBeLessThanOrEqual(12);
    expect(section).toContain('    (+99 more stream-ids failures: 99 contexts, ctx host1x-ctx.1 ..');
    expect(text).toContain('  auxiliary-bus on iris-sm8550: 100/100 contexts missed ADD_DEVICE,');
    expect(text).not.toContain('host1x-ctx.50');
    // the report does not grow with the number of failures
    const n = (s: string): number => s.split('\n').length;
    // ten times the failures: at most a few more lines, from wider numbers in tables and wraps
    expect(n(format_details(many_failures_results(1000)))).toBeLessThanOrEqual(n(text) + 4);
  });
});

describe('links in details.txt', () => {
  it('keeps a URL longer than a line whole, on a line of its own', () => {
    const r = sample_results();
    const link = 'https://lore.kernel.org/all/1e039dd5-da3f-19b2-ef98-29e64fdd925d@oss.qualcomm.com/';
    r.claims = [{ id: 'x', claim: 'a claim', who: 'someone', link, status: 'upheld', evidence: 'e' }];
    expect(format_details(r).split('\n')).toContain(link);
  });
});
