import { describe, expect, it } from 'vitest';
import type { ClaimOutcome, Results } from '../measure/results.ts';
import { MAIL_LINES, MAIL_WIDTH, format_summary, format_text } from './text.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

/** What a mail client keeps as it is: printable ASCII, MAIL_WIDTH columns (a line holding only
 *  a URL may be longer), at most MAIL_LINES lines. */
function check_mail(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines.length).toBeLessThanOrEqual(MAIL_LINES);
  for (const line of lines) {
    expect(line, line).toMatch(/^[\x20-\x7e]*$/);
    if (!/^\s*https?:\/\/\S+$/.test(line)) expect(line.length, line).toBeLessThanOrEqual(MAIL_WIDTH);
  }
}

function claim(i: number, status: ClaimOutcome['status']): ClaimOutcome {
  return {
    id: `c${i}`, claim: `claim number ${i}: a bus outside iommu_buses[] gets no iommu_probe_device() from the notifier`,
    who: 'A Reviewer', link: `https://lore.kernel.org/all/2026042346-trustable-register-095a-${i}@gregkh/`, status, evidence: 'x',
  };
}

function with_claims(r: Results, n: number): Results {
  const statuses: ClaimOutcome['status'][] = ['upheld', 'refuted', 'qualified', 'untested'];
  return { ...r, claims: Array.from({ length: n }, (_v, i) => claim(i, statuses[i % 4]!)) };
}

/** The sample with `n` more designs of long names and more scenarios. */
function wide_results(n: number, scenarios = 9): Results {
  const r = sample_results();
  const base = r.variants[1]!;
  for (let i = 0; i < n; i++) {
    const name = `a-rather-long-variant-name-number-${i}`;
    r.variants.push({ ...base, name });
    r.results.push({ ...r.results[3]!, variant: name });
  }
  for (let i = 0; i < scenarios; i++) r.scenarios.push({ id: `extra-scenario-${i}`, file: `scenarios/x${i}.yaml`, summary: '' });
  return r;
}

const section = (text: string, title: string): string[] => {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(title));
  const end = lines.findIndex((l, i) => i > at && l === '');
  return lines.slice(at, end < 0 ? undefined : end);
};

describe('format_text (summary.txt, the mail)', () => {
  it('pastes into a mail: ASCII, 72 columns, 80 lines, whatever the strings hold', () => {
    check_mail(format_text(sample_results()));
    check_mail(format_text(hostile_results()));
    check_mail(format_text(with_claims(wide_results(12), 30)));
    check_mail(format_text(many_failures_results(10_000)));
  });

  it('gives the designs, the matrix, the claims and the coverage, in that order', () => {
    const text = format_text(with_claims(sample_results(), 3));
    const at = (s: string): number => text.indexOf(`\n${s}`);
    expect(at('Designs')).toBeGreaterThan(0);
    expect(at('Designs')).toBeLessThan(at('Verdicts'));
    expect(at('Verdicts')).toBeLessThan(at('Claims'));
    expect(at('Claims')).toBeLessThan(at('Coverage'));
  });

  it('says for each design its verdict and, when it fails, the kernel\'s reason in the model\'s words', () => {
    const designs = section(format_text(sample_results()), 'Designs');
    expect(designs).toContain('  dma-context-bus: works as expected');
    expect(designs.join('\n')).toContain('  auxiliary-bus: fails as expected (unsupported on 1 of 3). Why:\n    stream-ids: dma_configure was never called: auxiliary_bus has none,');
    expect(designs.join('\n')).toContain('  platform-device did not load: SyntaxError');
  });

  it('draws the matrix with the designs as rows and the scenarios keyed by letter', () => {
    const matrix = section(format_text(sample_results()), 'Verdicts');
    expect(matrix[1]).toMatch(/^ {2}design +a +b +c +overall$/);
    expect(matrix).toContain('  auxiliary-bus    FAIL   unsup  pass   fails');
    expect(matrix).toContain('  platform-device  ERROR* ERROR* ERROR* error*');
    expect(matrix.join('\n')).toContain('a = iris-sm8550, b = fastrpc-sm8650, c = gpu-no-iommu-map');
  });

  it('splits the scenario columns into groups when they do not fit', () => {
    const matrix = section(format_text(wide_results(1)), 'Verdicts');
    expect(matrix.filter((l) => /^ {2}design /.test(l)).length).toBeGreaterThan(1);
    expect(matrix.every((l) => l.length <= MAIL_WIDTH)).toBe(true);
  });

  it('keeps ten scenarios on one line with two-character cells', () => {
    const matrix = section(format_text(wide_results(0, 7)), 'Verdicts');
    expect(matrix.filter((l) => /^ {2}design /.test(l)).length).toBe(1);
    expect(matrix).toContain('  auxiliary-bus    F  u  ok -  -  -  -  -  -  -  fails');
    expect(matrix.join(' ')).toContain('ok: pass; F: fail; E: error; u: unsupported');
  });

  it('gives each claim one line with its status, and the tally', () => {
    const claims = section(format_text(with_claims(sample_results(), 4)), 'Claims');
    expect(claims[0]).toBe('Claims of the threads (1 upheld, 1 refuted, 1 qualified, 1 untested;');
    expect(claims.filter((l) => /^ {2}(upheld|refuted|qualified|untested) +claim number/.test(l)).length).toBe(4);
  });

  it('gives the coverage one row per design, aligned', () => {
    const cov = section(format_text(many_failures_results(10_000)), 'Coverage');
    expect(cov.slice(1)).toEqual([
      '  design           contexts  ADD_DEVICE  probed  released',
      '  dma-context-bus    10,000      10,000  10,000    10,000',
      '  auxiliary-bus      10,000           0       0         0',
    ]);
  });

  it('shortens the kernel reasons before anything else when there are many designs', () => {
    const r = with_claims(wide_results(12, 0), 20);
    const long = format_text(r);
    expect(long.split('\n').length - 1).toBeLessThanOrEqual(MAIL_LINES);
    expect(long).toContain('\nCoverage');
    // a failing design's reason takes one line, not the three it has room for in a short mail
    expect(section(long, 'Designs')).toContain('  auxiliary-bus: fails as expected (unsupported on 1 of 3). Why: ...');
  });

  it('is the same summary the terminal prints at its own width', () => {
    const wide = format_summary(sample_results(), 100);
    expect(wide.some((l) => l.length > MAIL_WIDTH)).toBe(true);
    expect(wide.every((l) => l.length <= 100)).toBe(true);
  });

  it('gives byte-identical output for the same Results', () => {
    expect(format_text(sample_results())).toBe(format_text(sample_results()));
  });
});
