// Nothing a variant does can break a run or lose a report (end-to-end, `npm run compare` as a
// child process). The tests copy variants/ into a temporary directory, add broken folders
// beside the shipped ones and run the CLI on that copy (--variants-root):
//
//   - a folder whose index.ts does not parse, one that throws at import, one that never finishes
//     importing, one importing a missing file, one without the contract's shape, one that reuses
//     a taken name: load errors naming the file and line, listed in results.json under
//     `variants` with verdict `error` and in the reports;
//   - a variant that throws in create_context, one that throws inside a kernel callback (its
//     bus's .dma_configure), one that loops forever in create_context (--timeout 2): verdict
//     `error` with the message and the step;
//   - variants that misuse the kernel (register a device twice, put_device once too often, use
//     a device after releasing it): verdict `fail`, with a 'kernel-warning' failure quoting the
//     kernel's WARNING;
//   - a variant that leaves a busy timer and an unhandled rejection behind (its worker must be
//     replaced, or the next job would hang): it passes, and so does everything else;
//   - the shipped variants' verdicts are those of a run without the broken folders, exit code 1.
//
// Then Ctrl-C (SIGINT) in the middle of a run: exit 130, the scenario x variant pairs not run
// are named, the previous reports are untouched; and a run killed with SIGKILL while it renames
// the report files into place: every report is the old or the new one, whole, and the next run
// removes the temporary file the dead run left.
//
// Every CLI run costs a start-up and the variant loads (1-2 s): they are made in beforeAll,
// the big one beside a chain of the three short ones, and the tests read what they left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Results, RunResult, VariantInfo } from '../harness/measure/results.ts';
import { load_scenario_file } from '../harness/scenario/load.ts';
import { step_label } from '../harness/scenario/replay.ts';
import { write_reports } from '../harness/report/write.ts';
import { sample_results } from '../harness/report/sample.test-data.ts';
import { compare_command } from './compare-command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPARE = compare_command(ROOT);
const SCENARIOS = ['host1x-tegra234', 'iris-kaanapali', 'iris-sm8550', 'qda-cdsp'];
const SCENARIO_FILES = SCENARIOS.map((s) => `scenarios/${s}.yaml`);
const SHIPPED = ['auxiliary-bus', 'dma-context-bus', 'iris-vpu-bus'];
const REPORTS = ['summary.md', 'summary.txt', 'details.txt', 'results.json'];
/** --timeout of the run with the broken folders: short, yet far above any sound job on a busy
 *  2-core machine (the runs beside it compete for the cores) */
const TIMEOUT = 5;
/** a Node stack trace line */
const STACK_LINE = /^\s+at /m;

const work = mkdtempSync(join(tmpdir(), 'isolation-test-'));
const variants_root = join(work, 'variants');
const sigint_root = join(work, 'variants-sigint');
const out_main = join(work, 'out-main');
const out_sigint = join(work, 'out-sigint');
const out_killed = join(work, 'out-killed');
const started_marker = join(work, 'hang-started');
const rename_marker = join(work, 'rename-blocked');
const preload = join(work, 'block-rename.mjs');

// ------------------------------------------------------------------ the broken folders

/** index.ts of each broken folder; `{{...}}` is filled in below */
const BROKEN: Record<string, string> = {
  'syntax-error': `// a variant whose code does not parse
const variant = {
  name: 'syntax-error', summary: 's', series: [], expect: 'works',
  boot() {},
  destroy_context() {},
  create_context() {
    return -22 +;
  },
};
export default variant;
`,
  'throws-at-import': `// a variant whose module throws while it is imported
function init(): never { throw new Error('module init failed'); }
init();
export default {};
`,
  'hangs-at-import': `// a variant whose module never finishes loading
for (;;) { /* spin */ }
`,
  'missing-import': `// a variant importing a file that is not there
import { helper } from './helper.ts';
export default { name: 'missing-import', summary: 's', series: [], expect: 'works', boot() { helper(); }, create_context() { return -19; }, destroy_context() {} };
`,
  'wrong-shape': `// a variant without create_context()
export default { name: 'wrong-shape', summary: 's', series: [], expect: 'works', boot() {}, destroy_context() {} };
`,
  'dup-name': `// a second folder claiming dma-context-bus's name
export default { name: 'dma-context-bus', summary: 's', series: [], expect: 'works', boot() {}, create_context() { return -19; }, destroy_context() {} };
`,
  'throws-create': `// a variant that throws in create_context
export default {
  name: 'throws-create', summary: 's', series: [], expect: 'works',
  boot() {},
  create_context() { throw new TypeError('cannot read properties of null'); },
  destroy_context() {},
};
`,
  'throws-callback': `// a variant whose bus's .dma_configure throws while the kernel calls it
import type { KernelSymbols, Variant, device } from '../../harness/variant.ts';
const bus = { name: 'throwing-bus', dma_configure: (_dev: device): number => { throw new RangeError('dma_configure exploded'); } };
const variant: Variant = {
  name: 'throws-callback', summary: 's', series: [], expect: 'works',
  boot(k: KernelSymbols) { k.bus_register(bus); k.iommu_buses_add(bus, 'test'); },
  create_context(k, parent) {
    const dev = k.kzalloc_device();
    dev.release = () => {};
    dev.bus = bus;
    dev.parent = parent;
    k.dev_set_name(dev, 'ctx');
    const ret = k.device_register(dev);
    return ret ? ret : dev;
  },
  destroy_context(k, dev) { k.device_unregister(dev); },
};
export default variant;
`,
  'kernel-oops': `// a variant that hands the kernel a NULL device: the throw happens inside device_add
import type { Variant, device } from '../../harness/variant.ts';
const variant: Variant = {
  name: 'kernel-oops', summary: 's', series: [], expect: 'works',
  boot() {},
  create_context(k) {
    return k.device_add(null as unknown as device);
  },
  destroy_context() {},
};
export default variant;
`,
  hangs: `// a variant that never returns from create_context on SM8550's Iris (and refuses elsewhere)
import type { Variant } from '../../harness/variant.ts';
const variant: Variant = {
  name: 'hangs', summary: 's', series: [], expect: 'works',
  boot() {},
  create_context(k, parent) {
    if (parent.of_node?.full_name === 'video-codec@aa00000') for (;;) { /* spin */ }
    return -k.errno.ENODEV;
  },
  destroy_context() {},
};
export default variant;
`,
};

/** A variant like dma-context-bus with `extra` run after device_register and `destroy` as its
 *  destroy_context body: the kernel-misuse variants. */
function misuse(name: string, extra: string, destroy: string, boot_extra = ''): string {
  return `// kernel misuse: ${name}
import type { KernelSymbols, Variant, device } from '../../harness/variant.ts';
interface S { bus: { name: string; dma_configure: (dev: device) => number }; n: number }
const st = (k: KernelSymbols) => k.module_static<S>(() => ({
  bus: { name: '${name}', dma_configure: (dev: device) => k.of_dma_configure_id(dev, dev.of_node ?? dev.parent!.of_node!, true, k.dev_get_drvdata(dev) as number | null) },
  n: 0,
}));
const variant: Variant = {
  name: '${name}', summary: 'kernel misuse', series: [], expect: 'works',
  boot(k) {
    ${boot_extra}
    k.bus_register(st(k).bus);
    k.iommu_buses_add(st(k).bus, 'test');
  },
  create_context(k, parent, request) {
    const s = st(k);
    const dev = k.kzalloc_device();
    dev.release = () => {};
    dev.bus = s.bus;
    dev.parent = parent;
    dev.of_node = request.node;
    dev.dma_mask = request.dma_mask;
    dev.coherent_dma_mask = request.dma_mask;
    k.dev_set_name(dev, '${name}-' + s.n++);
    k.dev_set_drvdata(dev, request.id);
    const ret = k.device_register(dev);
    if (ret) { k.put_device(dev); return ret; }
    ${extra}
    return dev;
  },
  destroy_context(k, dev) {
    ${destroy}
  },
};
export default variant;
`;
}

const MISUSE: Record<string, { source: string; warning: RegExp }> = {
  'register-twice': {
    source: misuse('register-twice', 'k.device_add(dev);', 'k.device_unregister(dev);'),
    warning: /^WARNING: register-twice-\d+: kobject_add_internal failed for register-twice-\d+ \(error: -17 parent: .*\): already registered$/,
  },
  'put-too-often': {
    source: misuse('put-too-often', '', 'k.device_unregister(dev);\n    k.put_device(dev);'),
    warning: /^WARNING: put-too-often-\d+: refcount_t: underflow; use-after-free \(put_device on 'put-too-often-\d+'\)$/,
  },
  'use-after-release': {
    source: misuse('use-after-release', '', 'k.device_unregister(dev);\n    k.get_device(dev);'),
    warning: /^WARNING: use-after-release-\d+: refcount_t: addition on 0; use-after-free \(get_device on 'use-after-release-\d+'\)$/,
  },
};

/** leaves a timer that spins forever and a rejection nobody handles, then works like dma-context-bus */
const LEAVES_TIMERS = misuse('leaves-timers', '', 'k.device_unregister(dev);',
  "setInterval(() => { for (;;) { /* spin */ } }, 1);\n    void Promise.reject(new Error('nobody catches this'));");

/** spins in create_context (the Ctrl-C run); a variant cannot write a file (variant-check.ts),
 *  so MARK_RUNS tells the test when the runs are handed to the workers */
const HANGS = `export default {
  name: 'hangs', summary: 's', series: [], expect: 'works',
  boot() {},
  create_context() { for (;;) { /* spin */ } },
  destroy_context() {},
};
`;

/** NODE_OPTIONS preload for the Ctrl-C run: writes the marker when the CLI sends the first
 *  scenario x variant run to a sandbox (a child process, harness/measure/sandbox.ts; the
 *  sandboxes load this file too, but may write nothing: it does nothing there). */
const MARK_RUNS = `import fs from 'node:fs';
import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
if (!process.permission) {
  const fork = cp.fork;
  cp.fork = (...args) => {
    const child = fork(...args);
    const send = child.send.bind(child);
    child.send = (msg, ...rest) => {
      if (msg && msg.type === 'post' && msg.message && msg.message.type === 'run') fs.writeFileSync(${JSON.stringify(started_marker)}, 'started');
      return send(msg, ...rest);
    };
    return child;
  };
  syncBuiltinESMExports();
}
`;
const mark_runs = join(work, 'mark-runs.mjs');

/** NODE_OPTIONS preload for the SIGKILL run: blocks renameSync onto summary.txt (after summary.md
 *  was renamed and summary.txt's temporary file written), after writing its pid to a marker. */
const BLOCK_RENAME = `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { isMainThread } from 'node:worker_threads';
const target = ${JSON.stringify(join(out_killed, 'summary.txt'))};
if (isMainThread) {
  const real = fs.renameSync;
  fs.renameSync = (from, to) => {
    if (String(to) === target) {
      fs.writeFileSync(${JSON.stringify(rename_marker)}, String(process.pid));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
    return real(from, to);
  };
  syncBuiltinESMExports();
}
`;

function folder(root: string, name: string, source: string): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'index.ts'), source);
}

// ------------------------------------------------------------------ running the CLI

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(COMPARE.cmd, [...COMPARE.args, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const done = new Promise<Run>((resolve_, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve_({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Resolves once `path` exists (and is not empty), or rejects when `done` settles first. */
async function appears(path: string, done: Promise<Run>, what: string): Promise<void> {
  let finished: Run | null = null;
  void done.then((r) => { finished = r; });
  for (;;) {
    if (existsSync(path) && readFileSync(path, 'utf8') !== '') return;
    if (finished) throw new Error(`the run ended before ${what}: ${JSON.stringify(finished)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

let main: Run | null = null;
let sigint: Run | null = null;
let killed: Run | null = null;
let after_kill: Run | null = null;
let before_sigint = new Map<string, Buffer>();
let before_kill = new Map<string, Buffer>();
let killed_dir = new Map<string, Buffer>();

async function ctrl_c_run(): Promise<void> {
  const options = `${process.env['NODE_OPTIONS'] ?? ''} --import=${pathToFileURL(mark_runs).href}`.trim();
  const { child, done } = start(['--bench', 'off', '--variants-root', sigint_root, '--timeout', '60', '--out', out_sigint,
    '--scenarios', 'scenarios/iris-sm8550.yaml', 'scenarios/qda-cdsp.yaml'], { NODE_OPTIONS: options });
  await appears(started_marker, done, 'the runs started');
  // the hanging variant's turn comes within a moment of the first run's
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  sigint = await done;
}

async function killed_run(): Promise<void> {
  const options = `${process.env['NODE_OPTIONS'] ?? ''} --import=${pathToFileURL(preload).href}`.trim();
  const { done } = start(['--bench', 'off', '--variants', 'dma-context-bus', '--out', out_killed, '--scenarios', 'scenarios/iris-sm8550.yaml'],
    { NODE_OPTIONS: options });
  await appears(rename_marker, done, 'the rename of summary.txt');
  process.kill(Number(readFileSync(rename_marker, 'utf8')), 'SIGKILL');
  killed = await done;
  killed_dir = snapshot(out_killed);
  // the next run into the same directory
  after_kill = await start(['--bench', 'off', '--variants', 'dma-context-bus', '--out', out_killed, '--scenarios', 'scenarios/iris-sm8550.yaml']).done;
}

beforeAll(async () => {
  writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
  cpSync(join(ROOT, 'variants'), variants_root, { recursive: true });
  for (const [name, source] of Object.entries(BROKEN)) folder(variants_root, name, source);
  for (const [name, m] of Object.entries(MISUSE)) folder(variants_root, name, m.source);
  folder(variants_root, 'leaves-timers', LEAVES_TIMERS);
  cpSync(join(ROOT, 'variants', 'dma-context-bus'), join(sigint_root, 'dma-context-bus'), { recursive: true });
  folder(sigint_root, 'hangs', HANGS);
  writeFileSync(mark_runs, MARK_RUNS);
  writeFileSync(preload, BLOCK_RENAME);
  // "previous reports" in the directories the interrupted and the killed runs write to
  write_reports(out_sigint, sample_results());
  write_reports(out_killed, sample_results());
  before_sigint = snapshot(out_sigint);
  before_kill = snapshot(out_killed);
  await Promise.all([
    start(['--bench', 'off', '--variants-root', variants_root, '--timeout', String(TIMEOUT), '--out', out_main, '--format', 'json',
      '--scenarios', ...SCENARIO_FILES]).done.then((r) => { main = r; }),
    (async () => { await ctrl_c_run(); await killed_run(); })(),
  ]);
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function ran(r: Run | null): Run {
  if (!r) throw new Error('the CLI did not run');
  return r;
}

/** results.json, each failure's place (where, step, round, file, line, col) written back as
 *  the step label the harness prints, so that runs compare with step_label() */
function results(): Results {
  const r = JSON.parse(readFileSync(join(out_main, 'results.json'), 'utf8')) as Results;
  for (const run of r.results) run.failures = run.failures.map((f) => ({ step: place_label(f as unknown as JsonPlace), check: f.check, message: f.message }));
  return r;
}

interface JsonPlace { where: string; step: number | null; round: string | null; file: string | null; line: number | null; col: number | null }

function place_label(p: JsonPlace): string {
  if (p.where !== 'step') return p.where;
  return `step ${p.step}${p.round === null ? '' : ` round ${p.round}`}${p.file === null ? '' : ` (${p.file}:${p.line}:${p.col})`}`;
}

function variant(name: string): VariantInfo {
  const v = results().variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name} in results.json`);
  return v;
}

function runs_of(name: string): RunResult[] {
  return results().results.filter((r) => r.variant === name);
}

/** line:col of the first `needle` in a broken folder's source */
function at(source: string, needle: string): string {
  const i = source.indexOf(needle);
  const before = source.slice(0, i);
  return `${before.split('\n').length}:${i - before.lastIndexOf('\n')}`;
}

// ------------------------------------------------------------------ 1: isolation

describe('broken variant folders beside the shipped ones', () => {
  it('the run exits 1 (verdicts differ from expect) without a stack trace, and results.json is whole', () => {
    const r = ran(main);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(out_main, 'results.json'), 'utf8')));
    expect(results().exit_code).toBe(1);
    expect(results().errors).toEqual([]);
  });

  it('the shipped variants keep their verdicts: dma-context-bus and iris-vpu-bus pass, auxiliary-bus fails', () => {
    for (const name of ['dma-context-bus', 'iris-vpu-bus']) {
      expect(variant(name)).toMatchObject({ expect: 'works', verdict: 'works', load_error: null });
      const runs = runs_of(name);
      expect(runs.map((r) => r.scenario)).toEqual(SCENARIOS);
      for (const r of runs) expect(r.verdict, `${r.scenario} x ${name}: ${JSON.stringify(r.failures[0])}`).toBe('pass');
    }
    expect(variant('auxiliary-bus')).toMatchObject({ expect: 'fails', verdict: 'fails', load_error: null });
    for (const r of runs_of('auxiliary-bus')) {
      expect(r.verdict, r.scenario).toBe('fail');
      expect(r.failures.some((f) => f.check === 'variant-error' || f.check === 'kernel-warning')).toBe(false);
    }
    expect(results().variants.map((v) => v.name).filter((n) => SHIPPED.includes(n))).toEqual(SHIPPED);
  });

  it('a folder whose index.ts does not parse: a load error naming the file, line and column of the syntax error', () => {
    const v = variant('syntax-error');
    expect(v.verdict).toBe('error');
    expect(v.load_error).toBe(`${join(variants_root, 'syntax-error', 'index.ts')}:${at(BROKEN['syntax-error']!, ';\n  },')}: Unexpected ";"`);
    expect(runs_of('syntax-error')).toEqual([]);
  });

  it('a folder that throws at import: a load error at the throw, with the message', () => {
    const v = variant('throws-at-import');
    expect(v.verdict).toBe('error');
    expect(v.load_error).toBe(`${join(variants_root, 'throws-at-import', 'index.ts')}:${at(BROKEN['throws-at-import']!, 'new Error')}: Error: module init failed`);
  });

  it('a folder that never finishes importing: a load error after the time limit', () => {
    expect(variant('hangs-at-import')).toMatchObject({ verdict: 'error', load_error: `${join(variants_root, 'hangs-at-import', 'index.ts')}: loading did not finish within ${TIMEOUT} s` });
  });

  it('a folder importing a missing file: a load error at the import', () => {
    const index = join(variants_root, 'missing-import', 'index.ts');
    expect(variant('missing-import')).toMatchObject({
      verdict: 'error',
      // found by the type check of a --variants-root folder (variant-check.ts), before any import
      load_error: `${index}:${at(BROKEN['missing-import']!, "'./helper.ts'")}: Cannot find module './helper.ts' or its corresponding type declarations. (TS2307)`,
    });
  });

  it('a folder without the contract\'s shape: a load error at its default export saying what is missing', () => {
    expect(variant('wrong-shape')).toMatchObject({
      verdict: 'error',
      load_error: `${join(variants_root, 'wrong-shape', 'index.ts')}:2:1: the default export has no create_context() function`,
    });
  });

  it('a folder claiming another folder\'s variant name is not run, and says whose name it is', () => {
    const dup = variant('dup-name');
    expect(dup.verdict).toBe('error');
    expect(dup.load_error).toBe(`${join(variants_root, 'dup-name', 'index.ts')}: the variant name 'dma-context-bus' belongs to the folder ${join(variants_root, 'dma-context-bus')}`);
    expect(runs_of('dma-context-bus')).toHaveLength(SCENARIOS.length);
  });

  it('a variant that throws in create_context: verdict error, with the error, where it was thrown, and the step', () => {
    expect(variant('throws-create').verdict).toBe('error');
    const runs = runs_of('throws-create');
    expect(runs.map((r) => r.scenario)).toEqual(SCENARIOS);
    const file = join(variants_root, 'throws-create', 'index.ts');
    for (const r of runs) {
      expect(r.verdict).toBe('error');
      const scn = load_scenario_file(`scenarios/${r.scenario}.yaml`);
      const first = scn.steps.find((s) => s.kind === 'create_context')!;
      expect(r.failures).toEqual([{
        step: step_label(first), check: 'variant-error',
        message: `throws-create.create_context threw TypeError: cannot read properties of null (at ${file}:${at(BROKEN['throws-create']!, 'new TypeError')})`,
      }]);
    }
  });

  it('a variant whose bus callback throws inside the kernel: verdict error, at the callback', () => {
    const file = join(variants_root, 'throws-callback', 'index.ts');
    for (const r of runs_of('throws-callback')) {
      expect(r.verdict).toBe('error');
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0]!.check).toBe('variant-error');
      expect(r.failures[0]!.step).toMatch(/^step \d+/);
      expect(r.failures[0]!.message).toBe(`throws-callback.create_context threw RangeError: dma_configure exploded (at ${file}:${at(BROKEN['throws-callback']!, 'new RangeError')})`);
    }
  });

  it('a throw inside kernel code names the kernel function at its TypeScript line (source maps), then the variant\'s call', () => {
    const file = join(variants_root, 'kernel-oops', 'index.ts');
    for (const r of runs_of('kernel-oops')) {
      expect(r.verdict).toBe('error');
      expect(r.failures[0]!.message).toMatch(new RegExp(`^kernel-oops\\.create_context threw TypeError: .* in device_add \\(harness/kernel/base/core\\.ts:\\d+:\\d+\\), called from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${at(BROKEN['kernel-oops']!, 'k.device_add').replace(/:\d+$/, '')}:\\d+$`));
    }
  });

  it('a variant that never returns: verdict error, "timed out after N s at step K"; its other scenarios run', () => {
    const runs = runs_of('hangs');
    expect(runs.map((r) => r.scenario)).toEqual(SCENARIOS);
    for (const r of runs) {
      if (r.scenario !== 'iris-sm8550') {
        expect(r.verdict, r.scenario).toBe('fail');
        expect(r.failures.some((f) => f.check === 'create_context-outcome' && f.message.includes('ENODEV'))).toBe(true);
        continue;
      }
      const scn = load_scenario_file(`scenarios/${r.scenario}.yaml`);
      const first = scn.steps.find((s) => s.kind === 'create_context')!;
      expect(r.verdict).toBe('error');
      expect(r.failures).toEqual([{ step: step_label(first), check: 'variant-error', message: `timed out after ${TIMEOUT} s at ${step_label(first)}` }]);
    }
    expect(variant('hangs').verdict).toBe('error');
  });

  it('a variant that leaves a spinning timer and an unhandled rejection behind passes, and harms no other job', () => {
    for (const r of runs_of('leaves-timers')) expect(r.verdict, `${r.scenario}: ${JSON.stringify(r.failures[0])}`).toBe('pass');
    // no job but the hanging one timed out
    const timeouts = results().results.filter((r) => r.failures.some((f) => f.message.startsWith('timed out')));
    expect([...new Set(timeouts.map((r) => r.variant))]).toEqual(['hangs']);
  });

  it('every load error is in the reports too', () => {
    const md = readFileSync(join(out_main, 'summary.md'), 'utf8');
    const txt = readFileSync(join(out_main, 'summary.txt'), 'utf8');
    for (const name of ['syntax-error', 'throws-at-import', 'hangs-at-import', 'missing-import', 'wrong-shape', 'dup-name']) {
      expect(md).toContain(`${name}`);
      expect(txt).toMatch(new RegExp(`^\\s*${name} did not load:`, 'm'));
    }
  });
});

// ------------------------------------------------------------------ 2: kernel misuse

describe('kernel misuse by a variant is a finding, not a crash', () => {
  for (const [name, m] of Object.entries(MISUSE)) {
    it(`${name}: verdict fail in every scenario, with the kernel's WARNING at the step it happened`, () => {
      expect(variant(name).verdict).toBe('fails');
      const runs = runs_of(name);
      expect(runs.map((r) => r.scenario)).toEqual(SCENARIOS);
      for (const r of runs) {
        expect(r.verdict, r.scenario).toBe('fail');
        expect(r.failures.filter((f) => f.check === 'variant-error')).toEqual([]);
        const warns = r.failures.filter((f) => f.check === 'kernel-warning');
        expect(warns.length, r.scenario).toBeGreaterThan(0);
        for (const w of warns) {
          expect(w.message).toMatch(m.warning);
          expect(w.step).toMatch(/^step \d+( round [\d.]+)? \(scenarios\/[a-z0-9-]+\.yaml:\d+:\d+\)$/);
        }
      }
    });
  }
});

// ------------------------------------------------------------------ 5: whole reports

describe('Ctrl-C in the middle of a run', () => {
  it('exits 130 and names the scenario x variant pairs not run', () => {
    const r = ran(sigint);
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(STACK_LINE);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('compare: interrupted while running the scenarios; not run:');
    expect(lines).toContain('  iris-sm8550 x hangs');
    expect(lines).toContain('  qda-cdsp x hangs');
    expect(lines.at(-1)).toBe(`compare: no report written; ${out_sigint} is as it was`);
    expect(r.stdout).toBe('');
  });

  it('leaves the previous reports byte for byte, parseable, with no temporary file', () => {
    const now = snapshot(out_sigint);
    expect([...now.keys()]).toEqual([...before_sigint.keys()]);
    for (const [f, content] of before_sigint) expect(now.get(f)!.equals(content), f).toBe(true);
    expect((JSON.parse(now.get('results.json')!.toString('utf8')) as Results).variants.length).toBeGreaterThan(0);
  });
});

describe('a run killed (SIGKILL) while it renames its reports into place', () => {
  it('was killed with summary.md replaced, the rest of its set written whole beside the journal that names it', () => {
    expect(ran(killed).code ?? ran(killed).signal).not.toBe(0);
    const tmp = [...killed_dir.keys()].filter((f) => f.endsWith('.tmp')).map((f) => f.replace(/\.\d+\.[0-9a-f]+\.tmp$/, '')).sort();
    expect(tmp).toEqual(['details.txt', 'results.json', 'summary.txt']);
    expect(killed_dir.has('.compare-journal.json')).toBe(true);
    expect(killed_dir.get('summary.md')!.equals(before_kill.get('summary.md')!)).toBe(false);
  });

  it('every file is whole: results.json and summary.txt as they were and parseable, summary.md the new one', () => {
    for (const f of ['summary.txt', 'results.json']) expect(killed_dir.get(f)!.equals(before_kill.get(f)!), f).toBe(true);
    expect(() => JSON.parse(killed_dir.get('results.json')!.toString('utf8')) as unknown).not.toThrow();
    expect(killed_dir.get('summary.md')!.toString('utf8')).toMatch(/^# [^]*\n$/);
  });

  it('the next run finishes the dead run\'s set, then writes its own whole, leaving no journal, lock or temporary file', () => {
    expect(ran(after_kill).code).toBe(0);
    expect(readdirSync(out_killed).sort()).toEqual([...REPORTS].sort());
    const r = JSON.parse(readFileSync(join(out_killed, 'results.json'), 'utf8')) as Results;
    expect(r.results.map((x) => `${x.scenario} x ${x.variant}`)).toEqual(['iris-sm8550 x dma-context-bus']);
  });
});
