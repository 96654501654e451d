import { describe, expect, it } from 'vitest';
import type { Results } from '../measure/results.ts';
import { format_json } from './json.ts';
import { sample_results } from './sample.test-data.ts';

/** The same object with the keys of every nested object in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  }
  return value;
}

describe('format_json', () => {
  it('round-trips, with a 2-space indent and a trailing newline', () => {
    const out = format_json(sample_results());
    expect(JSON.parse(out)).toEqual(sample_results());
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.split('\n')[1]).toBe('  "kernel": "Linux v6.12 (modelled)",');
  });

  it('writes keys in the order of the types whatever order the input has', () => {
    const out = format_json(reversed(sample_results()) as Results);
    expect(out).toBe(format_json(sample_results()));
    expect(Object.keys(JSON.parse(out))).toEqual(['kernel', 'variants', 'scenarios', 'results', 'bench', 'scaling', 'errors', 'exit_code']);
  });
});
