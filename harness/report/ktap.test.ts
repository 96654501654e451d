import { describe, expect, it } from 'vitest';
import { MAX_DIAG_LINES, format_ktap } from './ktap.ts';
import { hostile_results, many_failures_results, sample_results } from './sample.test-data.ts';
import type { Results } from '../measure/results.ts';

// A reader of KTAP version 1 as Documentation/dev-tools/ktap.rst defines it, strict where the
// kernel's reader (tools/testing/kunit/kunit_parser.py) is: the plan on the line after the
// version line (after "# Subtest:" in a nested test), results numbered 1..N as planned, a
// nested test's result line named as its "# Subtest:" line, every other line a "# "
// diagnostic. Leaves are counted as kunit_parser counts them: "ok" is passed (an XFAIL
// directive does not change that), "# SKIP" skipped, "not ok" failed.

interface Counts { passed: number; failed: number; skipped: number; xfail: number }
interface Leaf { path: string; status: 'passed' | 'failed' | 'skipped'; directive: string | null }

const RESULT = /^(ok|not ok) ([0-9]+) (?:- )?([^#]*?)(?: # (.*))?$/;
const DIRECTIVES = ['SKIP', 'TODO', 'XFAIL', 'TIMEOUT', 'ERROR'];

class Reader {
  i = 0;
  leaves: Leaf[] = [];
  constructor(readonly lines: string[]) {}

  at(indent: number): string | null {
    const line = this.lines[this.i];
    if (line === undefined) return null;
    const pad = ' '.repeat(indent);
    return line.startsWith(pad) && line[indent] !== ' ' ? line.slice(indent) : null;
  }

  take(indent: number, what: RegExp, expected: string): RegExpExecArray {
    const body = this.at(indent);
    const m = body === null ? null : what.exec(body);
    if (!m) throw new Error(`line ${this.i + 1}: expected ${expected} at indent ${indent}, got ${JSON.stringify(this.lines[this.i])}`);
    this.i++;
    return m;
  }

  /** A test with subtests: version, optional "# Subtest:", plan, then the subtests. */
  block(indent: number, path: string): string | null {
    this.take(indent, /^KTAP version 1$/, 'the version line');
    const header = this.at(indent)?.startsWith('# Subtest: ') ? this.take(indent, /^# Subtest: (.+)$/, 'a subtest header')[1] : null;
    const planned = Number(this.take(indent, /^1\.\.([0-9]+)$/, 'the plan')[1]);
    const here = header === null ? path : `${path}.${header}`;
    for (let n = 1; n <= planned; n++) {
      let diags = 0;
      while (this.at(indent)?.startsWith('#')) {
        this.take(indent, /^# \S.*$|^#$/, 'a diagnostic line');
        diags++;
      }
      expect(diags, `diagnostics before test ${n} of ${here}`).toBeLessThanOrEqual(MAX_DIAG_LINES + 1);
      const nested = this.at(indent + 2) === 'KTAP version 1';
      const sub = nested ? this.block(indent + 2, here) : null;
      const m = this.take(indent, RESULT, `result ${n}`);
      expect(Number(m[2]), `test number in ${here}`).toBe(n);
      const name = m[3]!;
      expect(name, 'a test has a name').not.toBe('');
      if (sub !== null) expect(name, 'the result line names its subtest').toBe(sub);
      const directive = m[4] !== undefined && DIRECTIVES.includes(m[4].split(' ')[0]!) ? m[4].split(' ')[0]! : null;
      if (!nested) {
        const status = directive === 'SKIP' ? 'skipped' : m[1] === 'ok' ? 'passed' : 'failed';
        this.leaves.push({ path: `${here}.${name}`, status, directive });
      }
    }
    return header;
  }
}

function read(text: string): { leaves: Leaf[]; counts: Counts; status: 'SUCCESS' | 'FAILURE' | 'SKIPPED' | 'NO_TESTS' } {
  const lines = text.split('\n');
  expect(lines.pop(), 'the output ends with a newline').toBe('');
  const reader = new Reader(lines);
  reader.block(0, 'main');
  expect(reader.i, 'no line after the last result').toBe(lines.length);
  const leaves = reader.leaves;
  const counts: Counts = {
    passed: leaves.filter((l) => l.status === 'passed').length,
    failed: leaves.filter((l) => l.status === 'failed').length,
    skipped: leaves.filter((l) => l.status === 'skipped').length,
    xfail: leaves.filter((l) => l.directive === 'XFAIL').length,
  };
  const status = counts.failed ? 'FAILURE' : counts.passed ? 'SUCCESS' : counts.skipped ? 'SKIPPED' : 'NO_TESTS';
  return { leaves, counts, status };
}

/** sample_results() with every verdict as expected and no input error: exit code 0. */
function clean_results(): Results {
  const r = sample_results();
  return {
    ...r,
    variants: r.variants.slice(0, 2),
    results: r.results.filter((x) => x.variant !== 'platform-device'),
    errors: [],
    exit_code: 0,
  };
}

describe('format_ktap', () => {
  it('is read as success with the right counts when every verdict is as expected (exit 0)', () => {
    const r = clean_results();
    expect(r.exit_code).toBe(0);
    const { counts, status, leaves } = read(format_ktap(r));
    expect(status).toBe('SUCCESS');
    // dma-context-bus: 3 passes; auxiliary-bus: one expected failure, one skip, one pass
    expect(counts).toEqual({ passed: 5, failed: 0, skipped: 1, xfail: 1 });
    expect(leaves.map((l) => l.path)).toContain('main.auxiliary-bus.iris-sm8550');
  });

  it('is read as failure when a design expected to fail passes everything (exit 1)', () => {
    const r = clean_results();
    r.results = r.results.filter((x) => !(x.variant === 'auxiliary-bus' && x.verdict === 'fail'));
    r.variants[1] = { ...r.variants[1]!, verdict: 'works' };
    r.exit_code = 1;
    const { status, leaves } = read(format_ktap(r));
    expect(status).toBe('FAILURE');
    expect(leaves.filter((l) => l.status === 'failed').map((l) => l.path)).toEqual(['main.auxiliary-bus.gpu-no-iommu-map']);
  });

  it('is read as failure for a design that did not load and for a scenario file that did not (exit 2)', () => {
    const { status, leaves } = read(format_ktap(sample_results()));
    expect(status).toBe('FAILURE');
    expect(leaves.filter((l) => l.status === 'failed').map((l) => l.path))
      .toEqual(['main.platform-device', 'main.scenarios/broken.yaml']);
  });

  it('puts the plan right after the version line and the diagnostics before their result', () => {
    const out = format_ktap(sample_results()).split('\n');
    expect(out.slice(0, 2)).toEqual(['KTAP version 1', '1..4']);
    const fail = out.findIndex((l) => l.startsWith('  ok 1 iris-sm8550 # XFAIL stream-ids'));
    expect(out[fail - 2]).toContain('# step 7 (scenarios/iris-sm8550.yaml:21:5): stream-ids: ctx non-pixel');
    expect(out).toContain('  ok 2 fastrpc-sm8650 # SKIP fastrpc needs a per-session device with its own reg: needs "auxiliary: add .dma_configure"');
  });

  it('caps the diagnostics of a run with thousands of failures', () => {
    const out = format_ktap(many_failures_results(5000));
    expect(out.split('\n').length).toBeLessThan(30);
    expect(read(out).status).toBe('SUCCESS');
  });

  it('keeps one record a line when strings carry newlines and #', () => {
    const { leaves } = read(format_ktap(hostile_results()));
    expect(leaves.length).toBe(8);
    expect(format_ktap(hostile_results())).toBe(format_ktap(hostile_results()));
  });
});
