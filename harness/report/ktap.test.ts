import { describe, expect, it } from 'vitest';
import { format_ktap } from './ktap.ts';
import { hostile_results, sample_results } from './sample.test-data.ts';

interface Parsed { depth: number; ok: boolean; n: number; name: string; skip: boolean }

/** A minimal KTAP v1 reader: every line is a version, plan, result or diagnostic line. */
function parse(text: string): { results: Parsed[]; plans: Array<{ depth: number; n: number }> } {
  const results: Parsed[] = [];
  const plans: Array<{ depth: number; n: number }> = [];
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines[0]).toBe('KTAP version 1');
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    expect(indent % 2, line).toBe(0);
    const depth = indent / 2;
    const body = line.trimStart();
    const result = /^(ok|not ok) (\d+) ([^#]*?)( # SKIP .*)?$/.exec(body);
    const plan = /^1\.\.(\d+)$/.exec(body);
    if (result) results.push({ depth, ok: result[1] === 'ok', n: Number(result[2]), name: result[3], skip: result[4] !== undefined });
    else if (plan) plans.push({ depth, n: Number(plan[1]) });
    else expect(body, line).toMatch(/^(KTAP version 1|# .*)$/);
  }
  return { results, plans };
}

describe('format_ktap', () => {
  it('has one test per variant and one subtest per run, with the right ok / not ok counts', () => {
    const { results, plans } = parse(format_ktap(sample_results()));
    const top = results.filter((x) => x.depth === 0);
    const sub = results.filter((x) => x.depth === 1);
    expect(plans.filter((p) => p.depth === 0)).toEqual([{ depth: 0, n: 3 }]);
    expect(top.map((x) => [x.n, x.name, x.ok])).toEqual([
      [1, 'dma-context-bus', true], [2, 'auxiliary-bus', false], [3, 'platform-device', false],
    ]);
    expect(sub.length).toBe(7);
    expect(sub.filter((x) => x.ok && !x.skip).length).toBe(4);
    expect(sub.filter((x) => !x.ok).length).toBe(2);
    expect(sub.filter((x) => x.skip).map((x) => x.name)).toEqual(['fastrpc-sm8650']);
  });

  it('puts failures on diagnostic lines and the unsupported reason after SKIP', () => {
    const out = format_ktap(sample_results());
    expect(out).toContain('  # step 7 (scenarios/iris-sm8550.yaml:21:5): stream-ids: ctx non-pixel');
    expect(out).toContain('  ok 2 fastrpc-sm8650 # SKIP unsupported: fastrpc needs');
    expect(out).toContain('# input error: scenarios/broken.yaml:12:7:');
  });

  it('keeps one record a line when strings carry newlines and #', () => {
    const { results } = parse(format_ktap(hostile_results()));
    expect(results.filter((x) => x.depth === 1).length).toBe(7);
    expect(format_ktap(hostile_results())).toBe(format_ktap(hostile_results()));
  });
});
