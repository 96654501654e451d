// `npm run compare`: every variant on every scenario, the checks, a quick benchmark, tables on
// the terminal and the report files. Exit 0 when every verdict matches its variant's expect,
// 1 when one does not, 2 for bad input or usage, 130 when Ctrl-C stopped the run (143 for
// SIGTERM): the workers are ended, the runs not made are named, and no report is written.
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow, InputError, Results, RunResult, ScalingRow, VariantInfo } from './measure/results.ts';
import type { Step } from './scenario/types.ts';
import type { ScenarioDigest } from './scenario/digest.ts';
import { variant_dir_name, variant_dirs } from './variant-dirs.ts';
import { shown_path } from './thrown.ts';
import { lock_holder, make_dirs } from './report/report-set.ts';
import { ensure_built, PROJECT_ROOT } from './runtime.ts';
import { cap_text, capped_result } from './measure/reply-caps.ts';
import { pool_create, type Pool } from './measure/pool.ts';
import { PROGRESS_DESIGN_COST, PROGRESS_TEARDOWN, type Job, type JobReply, type LoadedInfo } from './measure/jobs.ts';
import { availableParallelism } from 'node:os';
import { KERNEL_VERSION } from './kernel/kernel.ts';
import { merge_findings, per_driver_cost } from './measure/findings.ts';
import { kernel_patch } from './kernel/patches.ts';
import type { ReportFormat } from './report/write.ts';
import type { BenchMode } from './measure/bench.ts';
import { setFlagsFromString } from 'node:v8';

interface Options {
  scenarios: string[];
  variants: string[] | null;
  bench: BenchMode;
  out: string;
  format: ReportFormat;
  /** time limit of one scenario x variant, seconds */
  timeout: number;
  /** where the variant folders are */
  variants_root: string;
  /** out-of-tree series to run every scenario with instead of its own ('none': mainline) */
  patches: string[] | null;
  /** the claims ledger judged against the results (claims/ledger.yaml); null: none */
  claims: string | null;
}

const USAGE = `usage: npm run compare -- [--scenarios PATH ...] [--variants NAME,...]
                          [--bench off|quick|full] [--out DIR]
                          [--format text|markdown|json|ktap] [--timeout SECONDS]
                          [--variants-root DIR] [--patches none]
                          [--claims FILE|none]`;

class UsageError extends Error {}

function parse_args(argv: string[]): Options {
  const o: Options = { scenarios: [], variants: null, bench: 'quick', out: 'reports', format: 'text', timeout: 30, variants_root: 'variants', patches: null, claims: 'claims/ledger.yaml' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--scenarios') {
      o.scenarios.push(value());
      while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) o.scenarios.push(argv[++i]!);
    } else if (arg === '--variants') {
      o.variants = value().split(',').filter(Boolean);
      if (!o.variants.length) throw new UsageError('--variants needs at least one name');
    }
    else if (arg === '--bench') o.bench = one_of(arg, value(), ['off', 'quick', 'full']);
    else if (arg === '--out') o.out = value();
    else if (arg === '--variants-root') o.variants_root = value();
    else if (arg === '--claims') { const f = value(); o.claims = f === 'none' ? null : f; }
    else if (arg === '--patches') o.patches = one_of(arg, value(), ['none']) === 'none' ? [] : null;
    else if (arg === '--format') o.format = one_of(arg, value(), ['text', 'markdown', 'json', 'ktap']);
    else if (arg === '--timeout') {
      o.timeout = Number(value());
      if (!(o.timeout > 0)) throw new UsageError('--timeout needs a number of seconds > 0');
    } else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else throw new UsageError(`unknown option ${arg}`);
  }
  if (!o.scenarios.length) o.scenarios.push('scenarios');
  return o;
}

function one_of<T extends string>(opt: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${opt} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Files named, and the .yaml/.yml files of directories named, in sorted order. A path that
 *  does not exist is passed on: loading it gives a positioned error, and the rest still run.
 *  A directory with no scenario file, and a directory named like one, are input errors. */
function scenario_files(paths: string[], errors: InputError[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) { files.push(p); continue; }
    const found = readdirSync(p, { withFileTypes: true }).filter((f) => /\.ya?ml$/.test(f.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const f of found) {
      if (f.isDirectory()) errors.push({ file: join(p, f.name), line: 1, col: 1, message: 'a directory, not a scenario file' });
      else files.push(join(p, f.name));
    }
    if (!found.length) errors.push({ file: p, line: 1, col: 1, message: 'no scenario file (*.yaml, *.yml) in this directory' });
  }
  return files;
}

/** The pool runs `jobs` in the order `order` gives (indexes into jobs); the replies come back
 *  in the order of `jobs`. */
async function run_in_order(pool: Pool, jobs: Job[], order: number[], on_reply?: (done: number, total: number) => void): Promise<JobReply[]> {
  const in_order = await pool.run(order.map((i) => jobs[i]!), on_reply);
  const replies: JobReply[] = [];
  order.forEach((i, j) => { replies[i] = in_order[j]!; });
  return replies;
}

/** The indexes of `weights`, heaviest first; equal weights keep their order. */
function heaviest_first(weights: number[]): number[] {
  return weights.map((_w, i) => i).sort((a, b) => weights[b]! - weights[a]! || a - b);
}

/** How many steps a scenario file's repeats add, guessed from its text before anything is
 *  loaded: the sum of its `times:` counts. Checking a file that expands to 110,000 steps takes
 *  longer than checking a few small ones and loading the variants together; started last, it
 *  kept the other worker waiting. A guess only orders the checks: it changes no result. */
function repeat_weight(file: string): number {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return 0; }
  let n = 0;
  for (const m of text.matchAll(/^\s*times:\s*(\d+)/gm)) n += Number(m[1]);
  return n;
}

/** Why a load job (a scenario check or a variant load) gave no answer of its own. */
function no_answer(reply: JobReply, timeout_s: number): string {
  if (reply.type === 'timeout') {
    return reply.step === PROGRESS_DESIGN_COST
      ? `boot() did not return within ${timeout_s} s (booting it on an empty device tree for the design cost)`
      : `loading did not finish within ${timeout_s} s`;
  }
  if (reply.type === 'crash') return `the worker loading it died: ${cap_text(reply.message)}`;
  return reply.type === 'failed' ? cap_text(reply.message) : `no reply (${reply.type})`;
}

/** The scenario files as the workers found them: a broken one becomes an input error and the
 *  rest still run. */
function checked_scenarios(files: string[], replies: JobReply[], timeout_s: number, errors: InputError[]): ScenarioDigest[] {
  const out: ScenarioDigest[] = [];
  const seen = new Map<string, string>();
  files.forEach((file, i) => {
    const reply = replies[i]!;
    if (reply.type === 'bad-scenario') return void errors.push(reply.error, ...reply.more);
    if (reply.type !== 'scenario') return void errors.push({ file, line: 1, col: 1, message: no_answer(reply, timeout_s) });
    const scn = reply.digest;
    const first = seen.get(scn.id);
    if (first) return void errors.push({ file, line: scn.id_pos.line, col: scn.id_pos.col, message: `duplicate scenario identifier '${scn.id}' (also in ${first})` });
    seen.set(scn.id, file);
    out.push(scn);
  });
  return out;
}


/** What the static check found (variant-check.ts): the error of each folder whose source breaks
 *  a rule of docs/variant-rules.md, and each folder's writes to core-private device fields. */
interface SourceCheck { refused: Map<string, string>; private_writes: Map<string, string[]> }

async function check_sources(dirs: string[]): Promise<SourceCheck> {
  const { check_variant_sources } = await import('./variant-check.ts');
  let checked;
  try {
    checked = check_variant_sources(dirs, PROJECT_ROOT);
  } catch (e) {
    throw new UsageError(`cannot check the variants' sources with the TypeScript API: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    refused: new Map(checked.flatMap((c) => (c.error ? [[c.dir, c.error] as const] : []))),
    private_writes: new Map(checked.map((c) => [c.dir, c.private_writes])),
  };
}

/** The folders whose JavaScript could not be made for the sandboxes, with their load error
 *  (variants.ts, prepare_variant). */
async function unbundled(dirs: string[]): Promise<Array<[string, string]>> {
  const { prepare_variant } = await import('./variants.ts');
  const errors = await Promise.all(dirs.map(prepare_variant));
  return dirs.flatMap((d, i) => (errors[i] ? [[d, errors[i]] as [string, string]] : []));
}

/** The load reply of every folder, a refused folder's error in its place. */
function with_refused(dirs: string[], refused: Map<string, string>, replies: JobReply[]): JobReply[] {
  let i = 0;
  return dirs.map((d): JobReply => {
    const error = refused.get(d);
    return error !== undefined ? { type: 'loaded', info: null, error } : replies[i++]!;
  });
}

/** A loaded folder, or one that failed to load (the name is then the folder's). */
interface VariantEntry { dir: string; name: string; info: LoadedInfo | null; error: string | null }

function variant_info(v: VariantEntry, runs: RunResult[], private_writes: string[]): VariantInfo {
  if (!v.info) return { name: v.name, expect: 'works', verdict: 'error', summary: '', series: [], cost: null, load_error: v.error, findings: [] };
  const mine = runs.filter((r) => r.variant === v.name);
  const cost = v.info.cost ? { ...v.info.cost, per_driver: per_driver_cost(v.info.cost, mine) } : null;
  return {
    name: v.name, expect: v.info.expect, verdict: overall_verdict(mine), summary: v.info.summary, series: v.info.series,
    cost, load_error: null,
    findings: [...merge_findings(mine.map((r) => r.findings)), ...private_writes.map((message) => ({ kind: 'private-field-write' as const, message, count: 1 }))],
  };
}

/** A design works only where it was shown to: one run at least must pass. Unsupported
 *  everywhere (or run nowhere) is `unsupported`, which matches neither expect. */
function overall_verdict(runs: RunResult[]): VariantInfo['verdict'] {
  if (runs.some((r) => r.verdict === 'error')) return 'error';
  if (runs.some((r) => r.verdict === 'fail')) return 'fails';
  return runs.some((r) => r.verdict === 'pass') ? 'works' : 'unsupported';
}

/** The kernel as every report names it: mainline, and each out-of-tree series with the
 *  scenarios that applied it (nothing hides behind the mainline version). */
function kernel_named(scenarios: ScenarioDigest[], override: string[] | null): string {
  const older = scenarios.filter((s) => s.kernel.flow !== '6.15').map((s) => `${s.id} runs the ${s.kernel.flow} probe flow`);
  const flows = older.length ? `; ${older.join('; ')}` : '';
  if (override !== null && !override.length) return `${KERNEL_VERSION}, mainline only (--patches none)${flows}`;
  const users = new Map<string, string[]>();
  for (const s of scenarios) for (const p of s.kernel.patches) users.set(p, [...(users.get(p) ?? []), s.id]);
  if (!users.size) return `${KERNEL_VERSION}, mainline${flows}`;
  const series = [...users].map(([p, ids]) => `${p} (${kernel_patch(p)?.status ?? 'unknown'}; in ${ids.join(', ')})`);
  return `${KERNEL_VERSION}, mainline plus out-of-tree series: ${series.join('; ')}${flows}`;
}

function exit_code(variants: VariantInfo[], errors: InputError[]): number {
  if (errors.length) return 2;
  const mismatch = variants.some((v) => v.verdict !== (v.expect === 'works' ? 'works' : 'fails'));
  return mismatch ? 1 : 0;
}

/** Where a job was, from the progress it published (see jobs.ts). The steps are the workers':
 *  the file is read again here for the label, which only a failed run needs (so the loader
 *  and the replay are imported then, not when the CLI starts). */
async function progress_label(scn: ScenarioDigest, step: number): Promise<string> {
  if (step === 0) return 'boot';
  if (step === PROGRESS_TEARDOWN) return 'teardown';
  const [{ load_scenario_file }, { step_label }] = await Promise.all([import('./scenario/load.ts'), import('./scenario/replay.ts')]);
  let s: Step | undefined;
  try { s = load_scenario_file(scn.file).steps[step - 1]; } catch { s = undefined; }
  return s ? step_label(s) : `step ${step}`;
}

/** A reply that is not a result: the variant hung, killed its worker, or would not load again. */
async function failed_run(scn: ScenarioDigest, v: VariantEntry, reply: JobReply, timeout_s: number): Promise<RunResult> {
  const step = reply.type === 'timeout' || reply.type === 'crash' ? reply.step : 0;
  const where = reply.type === 'failed' ? 'load' : await progress_label(scn, step);
  const message = reply.type === 'timeout' ? `timed out after ${timeout_s} s at ${where}`
    : reply.type === 'crash' ? `the worker running it died at ${where}${reply.step_last_seen ? ' or later' : ''}: ${cap_text(reply.message)}`
    : reply.type === 'failed' ? cap_text(reply.message) : `unexpected reply ${reply.type}`;
  return {
    scenario: scn.id, file: scn.file, variant: v.name, verdict: 'error', failures: [{ step: where, check: 'variant-error', message }],
    unsupported: null, coverage: { contexts: 0, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] },
    steps_run: step > 0 ? step - 1 : step === PROGRESS_TEARDOWN ? scn.steps : 0, events: 0,
    kernel: scn.kernel, needs: [], findings: [], served: [],
  };
}

function variant_entries(dirs: string[], replies: JobReply[], timeout_s: number): VariantEntry[] {
  const entries = dirs.map((dir, i): VariantEntry => {
    const reply = replies[i]!;
    const name = variant_dir_name(dir);
    const index = shown_path(join(dir, 'index.ts'));
    if (reply.type === 'loaded') return { dir, name: reply.info?.name ?? name, info: reply.info, error: reply.error === null ? null : cap_text(reply.error) };
    return { dir, name, info: null, error: `${index}: ${no_answer(reply, timeout_s)}` };
  });
  // two folders claiming one name would mix their results. A folder's name is that folder's:
  // any other folder claiming it is a load error, and the owner still runs. Two folders
  // claiming a name no folder has are both load errors, whatever their order.
  const folders = new Map(entries.map((v) => [variant_dir_name(v.dir), v]));
  const claims = new Map<string, VariantEntry[]>();
  for (const v of entries) if (v.info) claims.set(v.name, [...(claims.get(v.name) ?? []), v]);
  for (const [name, claimants] of claims) {
    const owner = folders.get(name);
    for (const v of claimants) {
      if (v === owner || (!owner && claimants.length < 2)) continue;
      const why = owner ? `belongs to the folder ${shown_path(owner.dir)}` : `is also claimed by ${claimants.filter((c) => c !== v).map((c) => shown_path(c.dir)).join(', ')}`;
      Object.assign(v, { name: variant_dir_name(v.dir), info: null, error: `${shown_path(join(v.dir, 'index.ts'))}: the variant name '${name}' ${why}` });
    }
  }
  return entries;
}

/** Ctrl-C: what was asked, and the pool to stop. */
export interface Interrupt {
  /** the signal that asked to stop, or null */
  requested: NodeJS.Signals | null;
  pool: Pool | null;
  /** settles interrupted() */
  notify: (() => void) | null;
}

class Interrupted extends Error {
  constructor(readonly not_run: string[], readonly stage: string) { super('interrupted'); }
}

/** A promise that settles when the run is interrupted. */
function interrupted(intr: Interrupt): Promise<'interrupted'> {
  return new Promise((resolve) => {
    if (intr.requested) resolve('interrupted');
    else intr.notify = () => resolve('interrupted');
  });
}

/** The terminal's width when stdout is one that says it (a pty may report 0), else undefined:
 *  the terminal report is then 100 columns wide. */
function terminal_width(): number | undefined {
  return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

/** A status line on a terminal (stderr), rewritten in place; null clears it. Nothing when
 *  stderr is not a terminal: a log or a pipe gets no carriage returns. */
function status_line(): (text: string | null) => void {
  if (!process.stderr.isTTY) return () => {};
  return (text) => {
    const room = Math.max(10, (process.stderr.columns || 80) - 1);
    process.stderr.write(text === null ? '\r\x1b[K' : `\r\x1b[K${text.slice(0, room)}`);
  };
}

export async function compare(o: Options, intr: Interrupt = { requested: null, pool: null, notify: null }): Promise<Results> {
  const show = status_line();
  const errors: InputError[] = [];
  // the sandboxes run the compiled harness: under a TypeScript loader, build it first
  if (await ensure_built() !== 0) throw new Error('compiling the harness into build/ failed (tsc, harness/build.mjs)');
  const pool = pool_create(Math.min(availableParallelism(), 4), o.timeout);
  intr.pool = pool;
  try {
    const dirs = variant_dirs(o.variants_root);
    const files = scenario_files(o.scenarios, errors);
    // one batch: the workers check the scenario files and load the variants side by side;
    // the files that repeat the most steps are checked first (see repeat_weight)
    const checks = files.map((file): Job => ({ type: 'scenario', file, patches: o.patches }));
    // the static check (variant-check.ts): a folder breaking a module rule is never imported
    const { refused, private_writes } = await check_sources(dirs);
    for (const [dir, error] of await unbundled(dirs.filter((d) => !refused.has(d)))) refused.set(dir, error);
    const loads = dirs.filter((d) => !refused.has(d)).map((dir): Job => ({ type: 'load', dir }));
    const first = await run_in_order(pool, [...checks, ...loads], [...heaviest_first(files.map(repeat_weight)), ...loads.map((_j, i) => checks.length + i)],
      (n, total) => show(`compare: checking scenarios and loading designs ${n}/${total}`));
    if (intr.requested) {
      // the names may not be known yet: the files' and folders' stand in for them
      const ids = files.map((f, i) => { const r = first[i]!; return r.type === 'scenario' ? r.digest.id : shown_path(f); });
      const names = dirs.map(variant_dir_name).filter((n) => !o.variants || o.variants.includes(n));
      throw new Interrupted(ids.flatMap((id) => names.map((n) => `${id} x ${n}`)), 'checking the scenarios and loading the variants');
    }
    const scenarios = checked_scenarios(files, first.slice(0, files.length), o.timeout, errors);
    for (const n of scenarios.flatMap((s) => s.notes)) process.stderr.write(`${n.file}:${n.line}:${n.col}: note: ${n.message}\n`);
    let loaded = variant_entries(dirs, with_refused(dirs, refused, first.slice(files.length)), o.timeout);
    if (o.variants) {
      // by folder name: a variant's own name is not known before it loads, and could be anything
      const folders = loaded.map((l) => variant_dir_name(l.dir));
      const unknown = o.variants.filter((n) => !folders.includes(n));
      if (unknown.length) throw new UsageError(`unknown variant ${unknown.join(', ')} (have: ${folders.join(', ')})`);
      loaded = loaded.filter((l) => o.variants!.includes(variant_dir_name(l.dir)));
    }
    const pairs = scenarios.flatMap((scn) => loaded.filter((v) => v.info).map((v) => ({ scn, v })));
    // the longest scenarios go first, so that none of them ends the run alone on one worker;
    // the replies are put back in the order of the pairs
    const order = heaviest_first(pairs.map(({ scn }) => scn.steps));
    // peak memory is a measurement, taken only with the benchmarks: with --bench off two runs
    // write identical reports, and no run pays for the garbage collection that starts it
    const replies = await run_in_order(pool, pairs.map(({ scn, v }): Job => ({ type: 'run', file: scn.file, dir: v.dir, memory: o.bench !== 'off', patches: o.patches })), order,
      (n, total) => show(`compare: runs ${n}/${total} (scenario x design)`));
    if (intr.requested) throw new Interrupted(pairs.filter((_p, i) => replies[i]!.type === 'cancelled').map(({ scn, v }) => `${scn.id} x ${v.name}`), 'running the scenarios');
    const runs = await Promise.all(pairs.map(({ scn, v }, i) => {
      const reply = replies[i]!;
      return reply.type === 'result' ? capped_result(reply.result, { scenario: scn.id, file: scn.file, variant: v.name }) : failed_run(scn, v, reply, o.timeout);
    }));
    const variants = loaded.map((v) => variant_info(v, runs, private_writes.get(v.dir) ?? []));
    let bench: BenchRow[] = [];
    let scaling: ScalingRow[] = [];
    if (o.bench !== 'off') {
      const { run_benchmarks, previous_rows } = await import('./measure/bench.ts');
      // the status line counts the seconds, so that a long benchmark is seen to be alive
      const started = Date.now();
      let stage = 'starting';
      const tick = () => show(`compare: benchmarks (--bench ${o.bench}): ${stage}, ${Math.round((Date.now() - started) / 1000)} s`);
      tick();
      const ticking = process.stderr.isTTY ? setInterval(tick, 1000) : null;
      const on_stage = (now: string) => { stage = now; tick(); };
      // Ctrl-C does not wait for the benchmarks to end (process.exit ends their sandboxes)
      const done = await Promise.race([run_benchmarks(o.bench, scenarios, loaded.filter((v) => v.info), runs, previous_rows(o.out), on_stage), interrupted(intr)])
        .finally(() => { if (ticking) clearInterval(ticking); });
      // let a signal that came while this thread was busy reach its handler first
      await new Promise((r) => setImmediate(r));
      if (done === 'interrupted' || intr.requested) throw new Interrupted(['the benchmarks (every scenario x variant ran)'], 'benchmarking');
      ({ rows: bench, scaling } = done);
    }
    show(null);
    const results: Results = {
      kernel: kernel_named(scenarios, o.patches), variants,
      scenarios: scenarios.map((s) => ({ id: s.id, file: s.file, summary: s.summary })),
      results: runs, bench, scaling, errors, exit_code: 0,
    };
    results.exit_code = exit_code(variants, errors);
    return results;
  } finally {
    show(null);
    intr.pool = null;
    // not awaited: a worker that held a big scenario takes a fifth of a second to free its
    // heap, time the reports can be written in (the process still waits for the workers)
    void pool.close();
  }
}

/** 128 + the signal's number, as a shell reports a process the signal ended */
function signal_exit(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/** SIGINT (Ctrl-C) or SIGTERM: stop the workers, say what was not run, write nothing.
 *  A second signal, a second or more later, ends the process at once. */
function on_signals(intr: Interrupt): void {
  let first = 0;
  const handler = (signal: NodeJS.Signals) => {
    // a second signal close behind the first is the same keypress relayed (tsx forwards it)
    if (intr.requested && Date.now() - first > 1000) process.exit(signal_exit(signal));
    if (intr.requested) return;
    first = Date.now();
    intr.requested = signal;
    intr.pool?.stop();
    intr.notify?.();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * V8 settings for a process that only replays scenarios. A replay is a second or two of code
 * that each worker's optimizing compiler (TurboFan) compiles afresh, the whole kernel model
 * inlined into each caller: compiling took about 30% of the CPU of `--bench off` (perf). With
 * a smaller inlining budget (V8's default is 920 bytes of bytecode per function) it takes about
 * a tenth less time (README). The results are the same, byte for byte. Set before the workers
 * start, and only when no benchmark follows: the flag is the whole process's, and benchmarks
 * run with V8's defaults.
 */
function replay_only_jit(): void {
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=150');
}

/** A reader that stops early (`| head`) closes the pipe: the rest of the output is not wanted,
 *  which is no error of the run. Any other write error still surfaces. */
function quiet_on_closed_pipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

/** The model's conformance cases replayed against the committed real-kernel observations
 *  (a third of a second); null when they cannot be read. */
async function conformance_summary(): Promise<Results['conformance']> {
  try {
    const { conformance_status } = await import('../conformance/status.ts');
    return conformance_status();
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  quiet_on_closed_pipe();
  let o: Options;
  try {
    o = parse_args(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message ? `compare: ${e.message}\n` : ''}${USAGE}\n`);
    return e.message ? 2 : 0;
  }
  try {
    // before anything runs: an --out that cannot be made is bad usage, found in a moment
    make_dirs(o.out);
    accessSync(o.out, constants.W_OK);
  } catch (e) {
    process.stderr.write(`compare: cannot write reports to ${o.out}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const intr: Interrupt = { requested: null, pool: null, notify: null };
  on_signals(intr);
  if (o.bench === 'off') replay_only_jit();
  // the reports' modules load while the workers start (compare() starts them before it awaits)
  const reports = import('./report/write.ts');
  reports.catch(() => {});
  try {
    const results = await compare(o, intr);
    results.conformance = await conformance_summary();
    if (o.claims !== null) (await import('./report/claims.ts')).attach_claims(results, o.claims);
    const { format_report, write_reports } = await reports;
    let written: string[] = [];
    if (results.errors.length) {
      // bad input: the terminal gets the report, the previous reports stay as they were
      process.stdout.write(format_report(results, o.format, terminal_width()));
      for (const e of results.errors) process.stderr.write(`${e.file}:${e.line}:${e.col}: ${e.message}\n`);
      process.stderr.write(`compare: bad input; no report written; ${o.out} is as it was\n`);
      return results.exit_code;
    }
    // another compare writing to the same --out: wait here, where Ctrl-C is still heard
    for (let waited = 0; lock_holder(o.out) !== null && waited < 120_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      if (intr.requested) throw new Interrupted([], `waiting for another compare writing to ${o.out}`);
    }
    try {
      written = write_reports(o.out, results);
    } catch (e) {
      process.stderr.write(`compare: cannot write reports to ${o.out}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    process.stdout.write(format_report(results, o.format, terminal_width()));
    // the paths end the terminal report; another format's stdout is that report alone
    if (o.format === 'text') process.stdout.write(`\nReports written:\n${written.map((p) => `  ${p}\n`).join('')}`);
    else process.stderr.write(`compare: reports written: ${written.join(', ')}\n`);
    for (const e of results.errors) process.stderr.write(`${e.file}:${e.line}:${e.col}: ${e.message}\n`);
    return results.exit_code;
  } catch (e) {
    if (e instanceof Interrupted) {
      const lines = [`compare: interrupted while ${e.stage}${e.not_run.length ? '; not run:' : ' (every run was made)'}`, ...e.not_run.map((p) => `  ${p}`),
        `compare: no report written; ${o.out} is as it was`];
      process.stderr.write(`${lines.join('\n')}\n`);
      return signal_exit(intr.requested ?? 'SIGINT');
    }
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`compare: ${e.message}\n${USAGE}\n`);
    return 2;
  }
}

const code = await main();
// after Ctrl-C, benchmarks still running must not hold the exit
if (code >= 128) process.exit(code);
process.exitCode = code;
