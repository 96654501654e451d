import { describe, expect, it } from 'vitest';
import {
  bench_ties, format_ops, format_ratio, run_unexpected, sanitise, to_ascii, verdict_cell, wrap,
} from './common.ts';
import { sample_results } from './sample.test-data.ts';

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
    const warm = bench.filter((b) => b.name === 'translate-warm');
    expect(bench_ties(bench, warm[0])).toEqual(['auxiliary-bus']);
    const miss = bench.filter((b) => b.name === 'translate-miss');
    expect(bench_ties(bench, miss[0])).toEqual([]);
    expect(bench_ties(bench, bench[bench.length - 1])).toEqual([]);
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
