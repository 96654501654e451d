// Checks no design can slip past (issue 12), end to end: `npm run compare` as a child process
// on the hostile variant folders of test/fixtures/variants/ (each says in its first line what
// it does wrong) and on bad inputs. Each test failed on the code before the issue:
//
//   - verdicts: a design unsupported everywhere is `unsupported`, not `works`; an unsupported
//     answer still tears down and checks what came before it; --variants selects folders; a
//     name claimed twice, or claiming another folder's name, is a load error;
//   - the whole-state teardown sweep: a device registered on an error path and dropped is a
//     leak with its diagnosis; create_context must hand back a new registered child of the
//     parent (not the parent, not a live context, not a string or a Promise);
//   - the module boundary: a folder whose source reaches what a kernel module cannot (process,
//     globalThis, eval, import(), node:fs, the harness's own files, a prototype) is a load
//     error at file:line:col naming the rule, and is never imported; a write into a const
//     kernel object (a core bus type, an iommu_ops table) throws; a --variants-root folder that
//     does not type-check is a load error; the shipped variants run beside all of them with
//     the verdicts and failures they have alone, and build/ is left as it was.
//
// The hostile folders are copied beside a copy of variants/ in a temporary directory (their
// type import of harness/variant.ts made relative to it). The CLI runs are made once, in
// beforeAll, two at a time; the tests read what they left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results, RunResult, VariantInfo } from '../harness/measure/results.ts';
import { compare_command } from './compare-command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPARE = compare_command(ROOT);
const FIXTURES = join(ROOT, 'test', 'fixtures', 'variants');
const SCENARIO = 'scenarios/iris-sm8550.yaml';
const STACK_LINE = /^\s+at /m;

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(COMPARE.cmd, [...COMPARE.args, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'boundary-test-'));
const out = (name: string) => join(work, `out-${name}`);
/** the shipped variants and the hostile folders side by side */
const HOSTILE = join(work, 'variants');
const SHIPPED = readdirSync(join(ROOT, 'variants')).sort();

/** a --variants-root folder that does not type-check */
const BAD_TYPES = `// a design whose types are wrong: dev_set_name takes a string
import type { Variant } from '../../harness/variant.ts';
const variant: Variant = {
  name: 'bad-types', summary: 's', series: [], expect: 'works',
  boot() {},
  create_context(k, parent) {
    const dev = k.kzalloc_device();
    k.dev_set_name(dev, 42);
    return parent;
  },
  destroy_context() {},
};
export default variant;
`;

/** names, sizes and modification times of every file under build/ */
function build_listing(): string {
  const dir = join(ROOT, 'build');
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name)).sort()
    .map((f) => { const st = statSync(f); return `${f} ${st.size} ${st.mtimeMs}`; }).join('\n');
}
let build_before = '';
let build_after = '';

/** what git sees changed in the checkout (tracked and untracked files) */
function git_status(): string {
  return spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' }).stdout;
}
let git_status_before = '';
let git_status_after = '';

interface Job { args: string[]; run?: Run }
const jobs = {
  hostile: { args: ['--bench', 'off', '--variants-root', HOSTILE, '--scenarios', SCENARIO, '--out', out('hostile'), '--format', 'json'] },
  shipped: { args: ['--bench', 'off', '--scenarios', SCENARIO, '--out', out('shipped'), '--format', 'json'] },
  // a folder outside any "type": "module" package is CommonJS to Node
  commonjs: { args: ['--bench', 'off', '--variants-root', join(work, 'cjs', 'variants'), '--scenarios', SCENARIO, 'scenarios/qda-cdsp.yaml', 'test/fixtures/late-iommu.yaml', '--out', out('cjs'), '--format', 'json'] },
  by_folder: { args: ['--bench', 'off', '--variants-root', HOSTILE, '--variants', 'folder-name', '--scenarios', SCENARIO, '--out', out('by-folder'), '--format', 'json'] },
} satisfies Record<string, Job>;

function ran(job: Job): Run {
  if (!job.run) throw new Error(`the CLI did not run: ${job.args.join(' ')}`);
  return job.run;
}

beforeAll(async () => {
  writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
  cpSync(join(ROOT, 'variants'), HOSTILE, { recursive: true });
  for (const name of readdirSync(FIXTURES)) {
    cpSync(join(FIXTURES, name), join(HOSTILE, name), { recursive: true });
    const source = readFileSync(join(FIXTURES, name, 'index.ts'), 'utf8').replaceAll("'../../../../harness/", "'../../harness/");
    writeFileSync(join(HOSTILE, name, 'index.ts'), source);
  }
  mkdirSync(join(work, 'cjs', 'variants', 'module-state'), { recursive: true });
  writeFileSync(join(work, 'cjs', 'variants', 'module-state', 'index.ts'), readFileSync(join(FIXTURES, 'module-state', 'index.ts'), 'utf8').replaceAll("'../../../../harness/", "'../../harness/"));
  mkdirSync(join(HOSTILE, 'bad-types'));
  writeFileSync(join(HOSTILE, 'bad-types', 'index.ts'), BAD_TYPES);
  build_before = build_listing();
  git_status_before = git_status();
  const all: Job[] = Object.values(jobs);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length) { const job = all[next++]!; job.run = await cli(job.args); }
  };
  await Promise.all([worker(), worker()]);
  build_after = build_listing();
  git_status_after = git_status();
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function results(name: string): Results {
  return JSON.parse(readFileSync(join(out(name), 'results.json'), 'utf8')) as Results;
}

function variant(r: Results, name: string): VariantInfo {
  const v = r.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name}: ${r.variants.map((x) => x.name).join(', ')}`);
  return v;
}

function run_of(r: Results, name: string): RunResult {
  const run = r.results.find((x) => x.variant === name);
  if (!run) throw new Error(`no run of ${name}`);
  return run;
}

const index = (folder: string) => join(HOSTILE, folder, 'index.ts');

describe('verdict rules', () => {
  it('the hostile run exits 1 without a stack trace, and its JSON is the report written', () => {
    const r = ran(jobs.hostile);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(JSON.parse(r.stdout)).toEqual(results('hostile'));
  });

  it('a design that answers { unsupported } to every request is unsupported, not works', () => {
    const r = results('hostile');
    expect(run_of(r, 'unsupported-everywhere').verdict).toBe('unsupported');
    expect(variant(r, 'unsupported-everywhere')).toMatchObject({ expect: 'works', verdict: 'unsupported' });
  });

  it('an unsupported answer still tears down and checks what was done before it', () => {
    const run = run_of(results('hostile'), 'warn-then-unsupported');
    expect(run.verdict).toBe('fail');
    expect(run.unsupported).toBe('gave up after the first device');
    expect(run.failures.map((f) => f.check)).toEqual(expect.arrayContaining(['kernel-warning', 'teardown-leak']));
    expect(run.failures.find((f) => f.check === 'kernel-warning')!.message).toMatch(/already registered/);
  });

  it('two folders claiming one variant name are both load errors', () => {
    const r = results('hostile');
    expect(variant(r, 'claims-a')).toMatchObject({ verdict: 'error', load_error: `${index('claims-a')}: the variant name 'shared-name' is also claimed by ${join(HOSTILE, 'claims-b')}` });
    expect(variant(r, 'claims-b')).toMatchObject({ verdict: 'error', load_error: `${index('claims-b')}: the variant name 'shared-name' is also claimed by ${join(HOSTILE, 'claims-a')}` });
    expect(r.results.filter((x) => x.variant === 'shared-name')).toEqual([]);
  });

  it("a variant claiming another folder's name is a load error, and that folder still runs", () => {
    const r = results('hostile');
    expect(variant(r, 'claims-sibling')).toMatchObject({ verdict: 'error', load_error: `${index('claims-sibling')}: the variant name 'folder-name' belongs to the folder ${join(HOSTILE, 'folder-name')}` });
    expect(run_of(r, 'renamed-variant').verdict).toBe('pass');
  });

  it('--variants selects by folder name', () => {
    const run = ran(jobs.by_folder);
    expect(run.stderr).toMatch(/^compare: reports written: [^\n]*\n$/);
    expect(run.code).toBe(0);
    const r = results('by-folder');
    expect(r.variants.map((v) => [v.name, v.verdict])).toEqual([['renamed-variant', 'works']]);
  });
});

describe('the whole-state teardown sweep and what create_context hands back', () => {
  it('a device registered on an error path and dropped is a leak, with why in kernel terms', () => {
    const run = run_of(results('hostile'), 'error-path-leak');
    expect(run.verdict).toBe('fail');
    const leaks = run.failures.filter((f) => f.check === 'teardown-leak').map((f) => f.message);
    expect(leaks).toContain('device error-path-leak-0 (not returned by create_context): registered and never deleted (device_add without device_del), reference count 1');
    expect(leaks).toContain('device error-path-leak-0 (not returned by create_context): iommu_probe_device without iommu_release_device: it was never deleted, so BUS_NOTIFY_REMOVED_DEVICE never came');
    expect(run.failures.every((f) => f.check === 'teardown-leak')).toBe(true);
  });

  const returned: Array<[string, RegExp]> = [
    ['returns-parent', /^returns-parent\.create_context returned the parent \S+ itself, not a new device$/],
    ['returns-string', /^returns-string\.create_context returned the string "ctx"$/],
    ['returns-promise', /^returns-promise\.create_context returned a Promise/],
    ['returns-twice', /^returns-twice\.create_context returned returns-twice-0, already the live context non-pixel$/],
  ];
  for (const [name, message] of returned) {
    it(`${name}: verdict error saying what was returned`, () => {
      const run = run_of(results('hostile'), name);
      expect(run.verdict).toBe('error');
      expect(run.failures).toHaveLength(1);
      expect(run.failures[0]!.check).toBe('variant-error');
      expect(run.failures[0]!.message).toMatch(message);
    });
  }
});

/** "line:col" of the first `needle` in a hostile folder's index.ts (as copied) */
function pos(folder: string, needle: string): string {
  const text = readFileSync(join(HOSTILE, folder, 'index.ts'), 'utf8');
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in ${folder}`);
  const before = text.slice(0, i);
  return `${before.split('\n').length}:${i - before.lastIndexOf('\n')}`;
}

describe('the module boundary', () => {
  const refused: Array<[string, string, string]> = [
    ['kills-process', 'process.kill', "uses 'process', the process that runs the kernel (a module cannot exit, signal or inspect its host)"],
    ['patches-prototype', 'Array.prototype.push = function', "touches 'prototype': a variant must not reach or change any prototype (a C struct has none to patch)"],
    ['imports-kernel', 'import { iommu_subsys_init }', "imports '../../harness/kernel/iommu/iommu.ts': a variant may import only types from harness/variant.ts and its own files, as a kernel module links against exported symbols only"],
    ['imports-fs', 'import { writeFileSync }', "imports 'node:fs': a variant may import only types from harness/variant.ts and its own files, as a kernel module links against exported symbols only"],
    ['dynamic-import', "import('node:child_process')", 'import(): a kernel module cannot load code at run time'],
    ['uses-eval', 'eval(', "uses 'eval', eval (a module cannot compile code at run time)"],
    ['uses-globalthis', 'globalThis', "uses 'globalThis', the global object (a module sees only exported symbols)"],
    ['function-ctor', '[].constructor', "touches 'constructor': a variant must not reach or change any prototype (a C struct has none to patch)"],
    ['log-off', 'priv as', "reaches '.priv', an IOMMU driver's private data (its struct arm_smmu_device, and through it the kernel's state)"],
    ['typed-arrays', 'Uint8Array(', "uses 'Uint8Array', Uint8Array (typed-array memory escapes the per-job memory limit; a module allocates through the kernel)"],
  ];
  for (const [name, needle, message] of refused) {
    it(`${name}: a load error at file:line:col naming the rule; it never runs`, () => {
      const r = results('hostile');
      expect(variant(r, name)).toMatchObject({ verdict: 'error', load_error: `${index(name)}:${pos(name, needle)}: ${message}` });
      expect(r.results.filter((x) => x.variant === name)).toEqual([]);
    });
  }

  it('a folder holding a JavaScript file beside its TypeScript is a load error naming the file', () => {
    expect(variant(results('hostile'), 'js-sidecar')).toMatchObject({
      verdict: 'error',
      load_error: `${join(HOSTILE, 'js-sidecar', 'helper.js')}:1:1: a variant folder holds TypeScript and Markdown only; this file would escape the source check`,
    });
  });

  it('a local variable that happens to be named process is no global: the folder runs', () => {
    expect(run_of(results('hostile'), 'local-process').verdict).toBe('pass');
  });

  it('writes to core-private struct device fields are review findings at their place; the run still passes', () => {
    const v = variant(results('hostile'), 'writes-private-field');
    expect(v.verdict).toBe('works');
    const mine = v.findings.filter((f) => f.kind === 'private-field-write').map((f) => f.message);
    expect(mine).toEqual([
      `${index('writes-private-field')}:${pos('writes-private-field', 'dev.driver = null')}: writes dev->driver, the bound driver (really_probe sets it)`,
      `${index('writes-private-field')}:${pos('writes-private-field', 'dev["refcount"] += 0')}: writes dev->refcount, the kobject reference count (get_device/put_device own it)`,
    ]);
    for (const name of SHIPPED) expect(variant(results('hostile'), name).findings.filter((f) => f.kind === 'private-field-write')).toEqual([]);
  });

  it('a --variants-root folder that does not type-check is a load error at the position tsc gives', () => {
    const v = variant(results('hostile'), 'bad-types');
    expect(v.verdict).toBe('error');
    expect(v.load_error).toMatch(new RegExp(`^${index('bad-types').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:25: Argument of type 'number' is not assignable to parameter of type 'string'\\. \\(TS2345\\)$`));
  });

  const frozen: Array<[string, RegExp]> = [
    ['writes-bus-type', /^writes-bus-type\.create_context threw TypeError: Cannot add property dma_configure, object is not extensible/],
    ['writes-ops', /^writes-ops\.create_context threw TypeError: Cannot assign to read only property 'of_xlate' of object/],
    ['hijacks-driver', /^hijacks-driver\.create_context threw TypeError: Cannot assign to read only property 'remove' of object/],
  ];
  for (const [name, message] of frozen) {
    it(`${name}: a write into a const kernel object throws, and the run is an error`, () => {
      const run = run_of(results('hostile'), name);
      expect(run.verdict).toBe('error');
      expect(run.failures[0]!.message).toMatch(message);
    });
  }

  it('a 20 MB error message costs its run its detail, cut to a few kB, and nothing else', () => {
    const run = run_of(results('hostile'), 'huge-error');
    expect(run.verdict).toBe('error');
    expect(run.failures[0]!.message.length).toBeLessThan(5000);
    expect(run.failures[0]!.message).toMatch(/^huge-error\.create_context threw Error: x{100}[^]*\.\.\. \(\d+ more characters cut\)$/);
    expect(readFileSync(join(out('hostile'), 'results.json'), 'utf8').length).toBeLessThan(2e6);
  });

  it('20 MB on stdout is shown cut to 4 kB on stderr, naming the run; the report on stdout is whole', () => {
    const r = ran(jobs.hostile);
    expect(r.stderr).toMatch(/^compare: \S+floods-stdout on scenarios\/iris-sm8550\.yaml printed \(20000001 characters; the first 4096 shown\):\ny{4096}$/m);
    expect(r.stderr.length).toBeLessThan(100_000);
    expect(run_of(results('hostile'), 'floods-stdout').verdict).toBe('pass');
  });

  it('a 1 MB name is a load error, shown cut', () => {
    const v = variant(results('hostile'), 'huge-name');
    expect(v.verdict).toBe('error');
    expect(v.load_error).toMatch(/: the name must be 1 to 64 characters of [^]*\(got "n{40}"\.\.\.\)$/);
  });

  it("a variant that takes another folder's name once loaded is a load error; that folder runs as before", () => {
    const v = variant(results('hostile'), 'renames-itself');
    expect(v).toMatchObject({ verdict: 'error', load_error: `${index('renames-itself')}: the variant name 'dma-context-bus' belongs to the folder ${join(HOSTILE, 'dma-context-bus')}` });
  });

  it('a fresh module instance per job, also for a CommonJS folder of another --variants-root', () => {
    const r = results('cjs');
    expect(r.results.map((x) => [x.scenario, x.verdict, x.failures])).toEqual(r.results.map((x) => [x.scenario, 'pass', []]));
    expect(r.results).toHaveLength(3);
    expect(run_of(results('hostile'), 'module-state').verdict).toBe('pass');
  });

  it('the shipped variants have the verdicts and failures they have alone', () => {
    const alone = results('shipped');
    const beside = results('hostile');
    expect(alone.variants.map((v) => v.name)).toEqual(SHIPPED);
    for (const name of SHIPPED) {
      expect(variant(beside, name)).toEqual(variant(alone, name));
      expect(run_of(beside, name)).toEqual(run_of(alone, name));
    }
  });

  it('build/ is as it was', () => {
    expect(build_after).toBe(build_before);
  });
});

describe('the sandbox: what gets past the source check meets the permission model', () => {
  it('a variant that writes a file past the check is refused the write: its run is an error, and no file appears', () => {
    const run = run_of(results('hostile'), 'escapes-writes');
    expect(run.verdict).toBe('error');
    expect(run.failures[0]!.message).toMatch(/^escapes-writes\.create_context threw Error: Access to this API has been restricted/);
    expect(existsSync(join(ROOT, 'escaped-by-variant.txt'))).toBe(false);
  });

  it('a variant that starts a program past the check is refused the child process', () => {
    const run = run_of(results('hostile'), 'escapes-spawns');
    expect(run.verdict).toBe('error');
    expect(run.failures[0]!.message).toMatch(/^escapes-spawns\.create_context threw Error: Access to this API has been restricted/);
    expect(existsSync(join(ROOT, 'spawned-by-variant.txt'))).toBe(false);
  });

  it('a variant that kills its process costs its own run: error, the worker process died; the others run on', () => {
    const r = results('hostile');
    const run = run_of(r, 'escapes-kills');
    expect(run.verdict).toBe('error');
    expect(run.failures[0]!.message).toMatch(/the worker process died \(killed by SIGKILL\)/);
    // every other run of the hostile set has a verdict of its own: none was cancelled or crashed
    for (const other of r.results.filter((x) => x.variant !== 'escapes-kills')) {
      expect(other.failures.map((f) => f.message).join('\n')).not.toMatch(/worker process died/);
    }
  });

  it('git status is as it was', () => {
    expect(git_status_after).toBe(git_status_before);
  });
});
