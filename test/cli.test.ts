// End-to-end tests of `npm run compare` (harness/cli.ts) run as a child process, as a user
// runs it: the shipped scenarios, determinism, the mail text, malformed scenario files (one
// per error kind of scenario-format.md), the options, the verdict `unsupported` and an IOMMU
// registered late. Each CLI run costs a tsx start-up, so the runs are made once, in
// beforeAll, a few at a time, and the tests only read what they left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results, RunResult } from '../harness/measure/results.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURES = join(ROOT, 'test', 'fixtures');
/** the good scenario that goes first in every malformed-file run */
const GOOD = 'scenarios/iris-sm8550.yaml';
const SHIPPED = ['host1x-tegra234', 'iris-kaanapali', 'iris-sm8550', 'qda-cdsp'];
const VARIANTS = ['auxiliary-bus', 'dma-context-bus', 'iris-vpu-bus'];
const WORKING = ['dma-context-bus', 'iris-vpu-bus'];
/** how many CLI processes run at once */
const PARALLEL = 2;
const HOOK_TIMEOUT = 60_000;

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(TSX, ['harness/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Runs the jobs, at most `n` at a time, keeping their order. */
async function pool<T>(jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return out;
}

const tmp_dirs: string[] = [];
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `cli-test-${prefix}-`));
  tmp_dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmp_dirs) rmSync(d, { recursive: true, force: true });
});

function read_json(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function results_of(out: string): Results {
  return read_json(join(out, 'results.json')) as Results;
}

function run_of(r: Results, scenario: string, variant: string): RunResult {
  const run = r.results.find((x) => x.scenario === scenario && x.variant === variant);
  if (!run) throw new Error(`no run of ${scenario} x ${variant} in results.json`);
  return run;
}

/** A Node stack trace line ("    at f (file:1:2)"). */
const STACK_LINE = /^\s+at /m;

// ------------------------------------------------------------------ 1-3: shipped scenarios

describe('the shipped scenarios (--bench off)', () => {
  let out1 = '';
  let out2 = '';
  let first: Run;
  let second: Run;
  let r: Results;

  beforeAll(async () => {
    out1 = tmp('shipped1');
    out2 = tmp('shipped2');
    [first, second] = await Promise.all([
      cli(['--bench', 'off', '--out', out1]),
      cli(['--bench', 'off', '--out', out2]),
    ]);
    r = results_of(out1);
  }, HOOK_TIMEOUT);

  it('exits 0 and writes summary.md, summary.txt and results.json', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    for (const f of ['summary.md', 'summary.txt', 'results.json']) expect(existsSync(join(out1, f)), f).toBe(true);
    expect(r.exit_code).toBe(0);
  });

  it('results.json has the fixed field names', () => {
    const raw = read_json(join(out1, 'results.json')) as Record<string, unknown>;
    expect(typeof raw['kernel']).toBe('string');
    expect(raw['kernel']).toMatch(/6\.15/);
    expect(Array.isArray(raw['bench'])).toBe(true);
    expect(raw['bench']).toEqual([]);
    expect(r.variants.map((v) => v.name)).toEqual(VARIANTS);
    for (const v of r.variants) {
      expect(Object.keys(v)).toEqual(expect.arrayContaining(['name', 'expect', 'verdict']));
      expect(['works', 'fails']).toContain(v.expect);
      expect(['works', 'fails', 'error']).toContain(v.verdict);
    }
    expect(r.results).toHaveLength(SHIPPED.length * VARIANTS.length);
    for (const run of r.results) {
      expect(Object.keys(run)).toEqual(expect.arrayContaining(['scenario', 'variant', 'verdict', 'failures', 'coverage']));
      expect(['pass', 'fail', 'unsupported', 'error']).toContain(run.verdict);
      for (const f of run.failures) {
        expect(typeof f.step).toBe('string');
        expect(typeof f.check).toBe('string');
        expect(typeof f.message).toBe('string');
      }
      for (const k of ['contexts', 'add_notified', 'removed_notified', 'dma_configured', 'iommu_probed', 'iommu_released'] as const) {
        expect(Number.isInteger(run.coverage[k]), `${run.scenario} x ${run.variant}: coverage.${k}`).toBe(true);
      }
    }
    expect([...new Set(r.results.map((x) => x.scenario))].sort()).toEqual(SHIPPED);
    expect(r.errors).toEqual([]);
  });

  it('dma-context-bus and iris-vpu-bus pass every scenario with every context probed and released', () => {
    for (const name of WORKING) {
      const v = r.variants.find((x) => x.name === name)!;
      expect(v.expect).toBe('works');
      expect(v.verdict).toBe('works');
      for (const scn of SHIPPED) {
        const run = run_of(r, scn, name);
        expect(run.verdict, `${scn} x ${name}: ${JSON.stringify(run.failures[0])}`).toBe('pass');
        expect(run.failures).toEqual([]);
        expect(run.coverage.contexts).toBeGreaterThan(0);
        expect(run.coverage.iommu_probed).toBe(run.coverage.contexts);
        expect(run.coverage.iommu_released).toBe(run.coverage.contexts);
      }
    }
  });

  it('auxiliary-bus fails every scenario, never reaches the IOMMU core, and says why', () => {
    const v = r.variants.find((x) => x.name === 'auxiliary-bus')!;
    expect(v.expect).toBe('fails');
    expect(v.verdict).toBe('fails');
    for (const scn of SHIPPED) {
      const run = run_of(r, scn, 'auxiliary-bus');
      expect(run.verdict, scn).toBe('fail');
      expect(run.coverage.contexts).toBeGreaterThan(0);
      expect(run.coverage.iommu_probed).toBe(0);
      const messages = run.failures.map((f) => f.message);
      expect(messages.some((m) => m.includes('no .dma_configure')), scn).toBe(true);
      expect(messages.some((m) => m.includes('not in iommu_buses')), scn).toBe(true);
      // the SMMU blocks the context's stream: the same hex SID on both sides of the fault
      expect(messages.some((m) => /SID (0x[0-9a-f]+)\b.*unidentified stream fault.*Stream ID \1\b/.test(m)), scn).toBe(true);
    }
  });

  it('two runs give byte-identical summary.txt, summary.md and results.json', () => {
    for (const f of ['summary.txt', 'summary.md', 'results.json']) {
      expect(readFileSync(join(out2, f)).equals(readFileSync(join(out1, f))), f).toBe(true);
    }
    expect(second.stdout).toBe(first.stdout);
  });

  it('summary.txt is pure ASCII with lines of at most 80 columns', () => {
    const text = readFileSync(join(out1, 'summary.txt'), 'utf8');
    expect(text.length).toBeGreaterThan(0);
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      expect(/^[\x20-\x7e]*$/.test(line), `line ${i + 1} is not printable ASCII: ${JSON.stringify(line)}`).toBe(true);
      expect(line.length, `line ${i + 1} is ${line.length} columns: ${line}`).toBeLessThanOrEqual(80);
    });
  });
});

// ------------------------------------------------------------------ the default quick bench

describe('the default run (quick benchmark)', () => {
  let run: Run;
  let r: Results;

  beforeAll(async () => {
    const out = tmp('bench');
    run = await cli(['--out', out]);
    r = results_of(out);
  }, HOOK_TIMEOUT);

  it('exits 0 and has bench rows with a flat-lookup baseline and translate-hot ratios', () => {
    expect(run.code).toBe(0);
    expect(r.bench.length).toBeGreaterThan(0);
    const base = r.bench.filter((b) => b.name === 'flat-lookup');
    expect(base.length).toBeGreaterThan(0);
    for (const b of base) {
      expect(b.ops_per_sec).toBeGreaterThan(0);
      expect(b.ratio).toBe(1);
    }
    const hot = r.bench.filter((b) => b.name === 'translate-hot');
    for (const name of WORKING) {
      const mine = hot.filter((b) => b.variant === name);
      expect(mine.length, name).toBeGreaterThan(0);
      for (const b of mine) {
        expect(b.note).toBeNull();
        expect(b.ops_per_sec).toBeGreaterThan(0);
        expect(b.ratio).toBeGreaterThan(0);
      }
    }
    // a design that failed verification is not timed, and says so
    for (const b of hot.filter((x) => x.variant === 'auxiliary-bus')) expect(b.note).toMatch(/not measured/);
  });
});

// ------------------------------------------------------------------ 4: malformed scenarios

/**
 * A valid scenario; each case below replaces some of its lines (1-based). The expected column
 * of each case is counted on its replacement line.
 */
const BASE = [
  /*  1 */ 'scenario: bad-input',
  /*  2 */ 'summary: a scenario with one mistake in it',
  /*  3 */ 'devicetree: |',
  /*  4 */ '  apps_smmu: iommu@15000000 {',
  /*  5 */ '      compatible = "qcom,sm8550-smmu-500", "qcom,smmu-500", "arm,mmu-500";',
  /*  6 */ '      #iommu-cells = <2>;',
  /*  7 */ '  };',
  /*  8 */ '  iris: video-codec@aa00000 {',
  /*  9 */ '      compatible = "qcom,sm8550-iris";',
  /* 10 */ '      iommu-map = <0 &apps_smmu 0x1940 0x0 1>,',
  /* 11 */ '                  <1 &apps_smmu 0x1947 0x0 1>;',
  /* 12 */ '  };',
  /* 13 */ 'steps:',
  /* 14 */ '  - probe: iris',
  /* 15 */ '  - create_context: { parent: iris, name: non-pixel, id: 0 }',
  /* 16 */ '  - dma_map: { context: non-pixel, buffer: q, size: 0x10000 }',
  /* 17 */ '  - dma: { context: non-pixel, buffer: q }',
  /* 18 */ '  - remove: iris',
];

interface BadCase {
  name: string;
  /** line number -> new text (an array inserts several lines in its place) */
  edit: Record<number, string | string[]>;
  line: number;
  col: number;
  message: RegExp;
}

const BAD: BadCase[] = [
  { name: 'YAML syntax (a stray })', edit: { 16: '  - dma_map: { context: non-pixel, buffer: q, size: 0x10000 }}' }, line: 16, col: 62, message: /flow-map-end|\}/ },
  { name: 'an unknown top-level key', edit: { 2: 'sumary: a scenario with one mistake in it' }, line: 2, col: 1, message: /unknown key 'sumary'/ },
  { name: 'an unknown key in a step', edit: { 16: '  - dma_map: { context: non-pixel, bufer: q, size: 0x10000 }' }, line: 16, col: 36, message: /unknown key 'bufer'/ },
  { name: 'an unknown step', edit: { 14: '  - probee: iris' }, line: 14, col: 5, message: /unknown step 'probee'/ },
  { name: 'a missing required key', edit: { 15: '  - create_context: { parent: iris, id: 0 }' }, line: 15, col: 21, message: /missing required key 'name'/ },
  { name: 'a wrong type', edit: { 17: '  - dma: { context: non-pixel, buffer: q, write: "yes" }' }, line: 17, col: 50, message: /write must be true or false/ },
  { name: 'a DTS syntax error, positioned in the file', edit: { 11: '                  <1 &apps_smmu 0x1947 0x0 1;' }, line: 11, col: 45, message: /';'/ },
  { name: 'an unknown label in the DTS', edit: { 11: '                  <1 &smmu 0x1947 0x0 1>;' }, line: 11, col: 22, message: /unknown label 'smmu'/ },
  { name: 'an unknown label in a step', edit: { 14: '  - probe: iriss' }, line: 14, col: 12, message: /unknown node 'iriss'/ },
  { name: 'an unknown node path', edit: { 14: '  - probe: /soc/video-codec@aa00000' }, line: 14, col: 12, message: /unknown node path '\/soc\/video-codec@aa00000'/ },
  { name: 'an unknown context', edit: { 17: '  - dma: { context: pixel, buffer: q }' }, line: 17, col: 21, message: /unknown context 'pixel'/ },
  { name: 'an unknown buffer', edit: { 17: '  - dma: { context: non-pixel, buffer: r }' }, line: 17, col: 40, message: /unknown buffer 'r'/ },
  { name: 'an iommu-map length not a multiple of the entry size', edit: { 11: '                  <1 &apps_smmu 0x1947 0x0>;' }, line: 11, col: 20, message: /not a multiple of the entry size 5/ },
  { name: 'an iommu-map entry of length 0', edit: { 11: '                  <1 &apps_smmu 0x1947 0x0 0>;' }, line: 11, col: 44, message: /length must be > 0/ },
  { name: 'a negative number', edit: { 17: '  - dma: { context: non-pixel, buffer: q, offset: -4 }' }, line: 17, col: 51, message: /negative/ },
  { name: 'a non-integer number', edit: { 16: '  - dma_map: { context: non-pixel, buffer: q, size: 1.5 }' }, line: 16, col: 53, message: /must be an integer/ },
  { name: 'a cell above 2^32-1 in a step', edit: { 15: '  - create_context: { parent: iris, name: non-pixel, id: 0x100000000 }' }, line: 15, col: 58, message: /2\^32-1/ },
  { name: 'a cell above 2^32-1 in the DTS', edit: { 11: '                  <1 &apps_smmu 0x100000000 0x0 1>;' }, line: 11, col: 33, message: /0xffffffff/ },
  { name: 'an address above 2^64-1', edit: { 16: '  - dma_map: { context: non-pixel, buffer: q, size: 0x10000000000000000 }' }, line: 16, col: 53, message: /2\^64-1/ },
  {
    name: 'a repeat beyond 1,000,000 steps (1000 x 1001)',
    edit: {
      17: [
        '  - dma: { context: non-pixel, buffer: q }',
        '  - repeat:',
        '      times: 1000',
        '      steps:',
        '        - repeat:',
        '            times: 1001',
        '            steps:',
        '              - dma: { context: non-pixel, buffer: q }',
      ],
    },
    line: 18, col: 5, message: /1,000,000/,
  },
  // the good file, loaded first, already has this identifier
  { name: 'a duplicate scenario identifier', edit: { 1: 'scenario: iris-sm8550' }, line: 1, col: 11, message: /duplicate scenario identifier 'iris-sm8550'/ },
];

function bad_text(c: BadCase): string {
  return BASE.flatMap((text, i) => c.edit[i + 1] ?? text).join('\n') + '\n';
}

describe('malformed scenario files', () => {
  const runs = new Map<string, { file: string; out: string; run: Run }>();

  beforeAll(async () => {
    const dir = tmp('bad');
    // the base itself must load, or every case below would test the wrong mistake
    const base_file = join(dir, 'base.yaml');
    writeFileSync(base_file, BASE.join('\n') + '\n');
    const jobs = [{ name: 'base', file: base_file }, ...BAD.map((c, i) => {
      const file = join(dir, `bad-${i}.yaml`);
      writeFileSync(file, bad_text(c));
      return { name: c.name, file };
    })].map(({ name, file }, i) => async () => {
      const out = join(dir, `out-${i}`);
      const run = await cli(['--bench', 'off', '--out', out, '--scenarios', GOOD, file]);
      runs.set(name, { file, out, run });
    });
    await pool(jobs, PARALLEL);
  }, HOOK_TIMEOUT * 2);

  it('the base scenario they are made from is valid', () => {
    const { run, out } = runs.get('base')!;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(results_of(out).scenarios.map((s) => s.id)).toEqual(['iris-sm8550', 'bad-input']);
  });

  for (const c of BAD) {
    it(`rejects ${c.name} at ${c.line}:${c.col} and still runs the good file`, () => {
      const { file, out, run } = runs.get(c.name)!;
      expect(run.code).toBe(2);
      expect(run.stderr).not.toMatch(STACK_LINE);
      const mine = run.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
      expect(mine, run.stderr).toHaveLength(1);
      expect(mine[0]!.startsWith(`${file}:${c.line}:${c.col}: `), mine[0]).toBe(true);
      expect(mine[0]!.slice(`${file}:${c.line}:${c.col}: `.length)).toMatch(c.message);
      const r = results_of(out);
      expect(r.exit_code).toBe(2);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ file, line: c.line, col: c.col });
      expect(r.scenarios.map((s) => s.id)).toEqual(['iris-sm8550']);
      expect(r.results.filter((x) => x.scenario === 'iris-sm8550').map((x) => x.variant)).toEqual(VARIANTS);
      for (const name of WORKING) expect(run_of(r, 'iris-sm8550', name).verdict).toBe('pass');
    });
  }
});

// ------------------------------------------------------------------ 5: options

describe('options', () => {
  const one = ['--bench', 'off', '--scenarios', GOOD];
  let only: Run;
  let only_out = '';
  let json: Run;
  let json_out = '';
  let markdown: Run;
  let markdown_out = '';
  let unknown_variant: Run;
  let unknown_option: Run;
  let bad_bench: Run;

  beforeAll(async () => {
    only_out = tmp('only');
    json_out = tmp('json');
    markdown_out = tmp('md');
    [only, json, markdown, unknown_variant, unknown_option, bad_bench] = await pool([
      () => cli([...one, '--out', only_out, '--variants', 'dma-context-bus', '--format', 'ktap']),
      () => cli([...one, '--out', json_out, '--format', 'json']),
      () => cli([...one, '--out', markdown_out, '--format', 'markdown']),
      () => cli([...one, '--out', tmp('nope'), '--variants', 'dma-context-bus,no-such-bus']),
      () => cli([...one, '--out', tmp('frob'), '--frobnicate']),
      () => cli([...one, '--out', tmp('bench'), '--bench', 'sometimes']),
    ], PARALLEL);
  }, HOOK_TIMEOUT);

  it('--variants dma-context-bus runs only that variant', () => {
    expect(only.code).toBe(0);
    const r = results_of(only_out);
    expect(r.variants.map((v) => v.name)).toEqual(['dma-context-bus']);
    expect(r.results.map((x) => `${x.scenario} x ${x.variant}`)).toEqual(['iris-sm8550 x dma-context-bus']);
  });

  it('--format ktap prints KTAP', () => {
    expect(only.stdout.startsWith('KTAP version 1\n')).toBe(true);
    expect(only.stdout).toMatch(/^ok \d+ dma-context-bus$/m);
    expect(only.stdout).not.toMatch(/auxiliary-bus|iris-vpu-bus/);
  });

  it('--format json prints results.json', () => {
    expect(json.code).toBe(0);
    const printed = JSON.parse(json.stdout) as unknown;
    expect(printed).toEqual(read_json(join(json_out, 'results.json')));
  });

  it('--format markdown prints summary.md', () => {
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toMatch(/^# /);
    expect(markdown.stdout).toMatch(/^\| scenario \| auxiliary-bus \| dma-context-bus \| iris-vpu-bus \|$/m);
    expect(markdown.stdout).toBe(readFileSync(join(markdown_out, 'summary.md'), 'utf8'));
  });

  it('an unknown variant is a usage error (exit 2)', () => {
    expect(unknown_variant.code).toBe(2);
    expect(unknown_variant.stderr).toMatch(/unknown variant no-such-bus/);
    expect(unknown_variant.stderr).toMatch(/^usage: /m);
    expect(unknown_variant.stderr).not.toMatch(STACK_LINE);
  });

  it('an unknown option or option value is a usage error (exit 2)', () => {
    expect(unknown_option.code).toBe(2);
    expect(unknown_option.stderr).toMatch(/unknown option --frobnicate/);
    expect(unknown_option.stderr).toMatch(/^usage: /m);
    expect(unknown_option.stderr).not.toMatch(STACK_LINE);
    expect(bad_bench.code).toBe(2);
    expect(bad_bench.stderr).toMatch(/--bench must be one of off, quick, full/);
    expect(bad_bench.stderr).not.toMatch(STACK_LINE);
  });
});

// ------------------------------------------------------------------ 6-7: fixtures

describe('the verdict unsupported and a late IOMMU (test/fixtures)', () => {
  let unsupported: Run;
  let late: Run;
  let ru: Results;
  let rl: Results;

  beforeAll(async () => {
    const out_u = tmp('unsupported');
    const out_l = tmp('late');
    [unsupported, late] = await Promise.all([
      cli(['--bench', 'off', '--out', out_u, '--scenarios', join(FIXTURES, 'unknown-accel.yaml')]),
      cli(['--bench', 'off', '--out', out_l, '--scenarios', join(FIXTURES, 'late-iommu.yaml')]),
    ]);
    ru = results_of(out_u);
    rl = results_of(out_l);
  }, HOOK_TIMEOUT);

  it('iris-vpu-bus is unsupported for a parent none of its buses serves, naming the patch it needs', () => {
    const run = run_of(ru, 'unknown-accel', 'iris-vpu-bus');
    expect(run.verdict).toBe('unsupported');
    expect(run.failures).toEqual([]);
    expect(run.unsupported).toMatch(/new bus/);
    expect(run.unsupported).toMatch(/iommu_buses/);
    expect(run.unsupported).toMatch(/vendor,unknown-accel/);
  });

  it('dma-context-bus serves that parent as it is', () => {
    const run = run_of(ru, 'unknown-accel', 'dma-context-bus');
    expect(run.verdict, JSON.stringify(run.failures[0])).toBe('pass');
    expect(run.coverage.contexts).toBe(2);
    expect(run.coverage.iommu_probed).toBe(2);
    expect(run_of(ru, 'unknown-accel', 'auxiliary-bus').verdict).toBe('fail');
  });

  it('unsupported counts neither way: iris-vpu-bus still works and the exit code is 0', () => {
    expect(ru.variants.find((v) => v.name === 'iris-vpu-bus')!.verdict).toBe('works');
    expect(ru.exit_code).toBe(0);
    expect(unsupported.code).toBe(0);
    expect(unsupported.stderr).toBe('');
  });

  it('a probe before iommu_register defers, and contexts work after it', () => {
    expect(late.stderr).toBe('');
    expect(late.code).toBe(0);
    for (const name of WORKING) {
      const run = run_of(rl, 'late-iommu', name);
      expect(run.verdict, `${name}: ${JSON.stringify(run.failures[0])}`).toBe('pass');
      expect(run.coverage.contexts).toBe(2);
      expect(run.coverage.iommu_probed).toBe(2);
      expect(run.coverage.iommu_released).toBe(2);
    }
    expect(run_of(rl, 'late-iommu', 'auxiliary-bus').verdict).toBe('fail');
  });
});
