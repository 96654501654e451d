import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Results } from '../measure/results.ts';
import { step_label } from '../scenario/replay.ts';
import type { Step } from '../scenario/types.ts';
import { FAILURE_INSTANCES, failure_place, format_json } from './json.ts';
import { schema_errors, type Schema } from './json-schema.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';

const SCHEMA = JSON.parse(readFileSync(new URL('../../docs/results.schema.json', import.meta.url), 'utf8')) as Schema;

/** The same object with the keys of every nested object in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  }
  return value;
}

type Json = Record<string, unknown> & { results: Array<Record<string, unknown> & { failures: Array<Record<string, unknown>> }> };
const parsed = (r: Results): Json => JSON.parse(format_json(r)) as Json;

describe('format_json', () => {
  it.each([
    ['sample', sample_results()],
    ['hostile', hostile_results()],
    ['many failures', many_failures_results(2000)],
  ])('writes %s results that docs/results.schema.json accepts', (_name, r) => {
    expect(schema_errors(SCHEMA, parsed(r))).toEqual([]);
  });

  it('the schema check can fail: a missing field, a wrong type and an extra field are each found', () => {
    const out = parsed(sample_results());
    delete out.kernel;
    out.exit_code = 7;
    out.results[0]!.failures.push({ check: 1 });
    (out.results[1] as Record<string, unknown>).colour = 'red';
    expect(schema_errors(SCHEMA, out)).toEqual([
      '$: missing kernel',
      '$.results[0].failures[0]: missing message',
      '$.results[0].failures[0]: missing where',
      '$.results[0].failures[0]: missing step',
      '$.results[0].failures[0]: missing round',
      '$.results[0].failures[0]: missing file',
      '$.results[0].failures[0]: missing line',
      '$.results[0].failures[0]: missing col',
      '$.results[0].failures[0].check: 1 is not string',
      '$.results[1]: unexpected field colour',
      '$.exit_code: 7 is not one of [0,1,2]',
    ]);
  });

  it('starts with schema_version, writes keys in one order whatever the input, ends with a newline', () => {
    const out = format_json(reversed(sample_results()) as Results);
    expect(out).toBe(format_json(sample_results()));
    expect(out.split('\n')[1]).toBe('  "schema_version": 1,');
    expect(out.endsWith('}\n')).toBe(true);
  });

  it('splits a failure\'s place into step, round, file, line and column', () => {
    const run = parsed(sample_results()).results[3]!;
    expect(run.failures[0]).toEqual({
      check: 'stream-ids', message: expect.stringContaining('ctx non-pixel'),
      where: 'step', step: 7, round: null, file: 'scenarios/iris-sm8550.yaml', line: 21, col: 5,
    });
    expect(run.failures[1]).toMatchObject({ where: 'teardown', step: null, file: null, line: null, col: null });
  });

  it('reads back every label replay.ts step_label writes', () => {
    const step = { index: 12, rounds: [3, 0], pos: { file: 'scenarios/a b:c.yaml', line: 4, col: 9 } } as unknown as Step;
    expect(failure_place(step_label(step))).toEqual({ where: 'step', step: 12, round: '3.0', file: 'scenarios/a b:c.yaml', line: 4, col: 9 });
  });

  it('keeps the first few failures of each check with every count, and groups the missed lists', () => {
    const r = many_failures_results(10_000);
    const out = format_json(r);
    const run = (JSON.parse(out) as Json).results[1]!;
    expect(run.failures.length).toBe(2 * FAILURE_INSTANCES);
    expect(run.failure_counts).toEqual([{ check: 'stream-ids', count: 10_000 }, { check: 'dma-reaches-buffer', count: 10_000 }]);
    expect((run.coverage as { missed: unknown[] }).missed).toEqual([{
      what: 'ADD_DEVICE, REMOVED_DEVICE, dma_configure, iommu_probe_device, iommu_release_device',
      count: 10_000, contexts: ['host1x-ctx.0', 'host1x-ctx.1', 'host1x-ctx.2', 'host1x-ctx.3', 'host1x-ctx.4'],
    }]);
    expect(out.length).toBeLessThan(20_000);
  });

  it('writes null, not 0, for what was not measured', () => {
    const out = parsed(sample_results()) as Json & { bench: Array<Record<string, unknown>>; scaling: Array<Record<string, unknown>> };
    const unmeasured = out.bench.find((b) => b.note !== null)!;
    expect([unmeasured.ops_per_sec, unmeasured.ratio, unmeasured.rme]).toEqual([null, null, null]);
    expect(out.scaling.find((s) => s.note !== null)!.cost_ratio).toBe(null);
    expect(out.results.find((x) => x.variant === 'dma-context-bus' && x.scenario === 'gpu-no-iommu-map')!.peak_heap_mb).toBe(null);
  });
});
