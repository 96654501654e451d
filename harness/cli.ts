// `npm run compare`: every variant on every scenario, the checks, a quick benchmark, tables on
// the terminal and the report files. Exit 0 when every verdict matches its variant's expect,
// 1 when one does not, 2 for bad input or usage.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow, InputError, Results, RunResult, VariantInfo } from './measure/results.ts';
import type { Scenario } from './scenario/types.ts';
import { ScenarioError } from './scenario/types.ts';
import { load_scenario_file } from './scenario/load.ts';
import { variant_dir_name, variant_dirs } from './variants.ts';
import { pool_create, type Pool } from './measure/pool.ts';
import type { JobReply, LoadedInfo } from './measure/jobs.ts';
import { step_label } from './scenario/replay.ts';
import { availableParallelism } from 'node:os';
import { KERNEL_VERSION } from './kernel/kernel.ts';
import { format_report, write_reports, type ReportFormat } from './report/write.ts';
import { run_benchmarks, type BenchMode } from './measure/bench.ts';

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
}

const USAGE = `usage: npm run compare -- [--scenarios PATH ...] [--variants NAME,...]
                          [--bench off|quick|full] [--out DIR]
                          [--format text|markdown|json|ktap] [--timeout SECONDS]
                          [--variants-root DIR]`;

class UsageError extends Error {}

function parse_args(argv: string[]): Options {
  const o: Options = { scenarios: [], variants: null, bench: 'quick', out: 'reports', format: 'text', timeout: 30, variants_root: 'variants' };
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
 *  does not exist is passed on: loading it gives a positioned error, and the rest still run. */
function scenario_files(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) files.push(p);
    else if (statSync(p).isDirectory()) {
      files.push(...readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(p, f)));
    } else files.push(p);
  }
  return files;
}

/** Load every file; a broken one becomes an input error and the rest still run. */
function load_scenarios(files: string[], errors: InputError[]): Scenario[] {
  const out: Scenario[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      const scn = load_scenario_file(file);
      const first = seen.get(scn.id);
      if (first) {
        errors.push({ file, line: scn.id_pos.line, col: scn.id_pos.col, message: `duplicate scenario identifier '${scn.id}' (also in ${first})` });
        continue;
      }
      seen.set(scn.id, file);
      out.push(scn);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      errors.push({ file: e.file, line: e.line, col: e.col, message: e.detail });
    }
  }
  return out;
}


/** A loaded folder, or one that failed to load (the name is then the folder's). */
interface VariantEntry { dir: string; name: string; info: LoadedInfo | null; error: string | null }

function variant_info(v: VariantEntry, runs: RunResult[]): VariantInfo {
  if (!v.info) return { name: v.name, expect: 'works', verdict: 'error', summary: '', series: [], cost: null, load_error: v.error };
  const mine = runs.filter((r) => r.variant === v.name);
  const verdict = mine.some((r) => r.verdict === 'error') ? 'error' : mine.some((r) => r.verdict === 'fail') ? 'fails' : 'works';
  return { name: v.name, expect: v.info.expect, verdict, summary: v.info.summary, series: v.info.series, cost: v.info.cost, load_error: null };
}

function exit_code(variants: VariantInfo[], errors: InputError[]): number {
  if (errors.length) return 2;
  const mismatch = variants.some((v) => v.verdict !== (v.expect === 'works' ? 'works' : 'fails'));
  return mismatch ? 1 : 0;
}

/** A reply that is not a result: the variant threw outside the replay, hung or died. */
function failed_run(scn: Scenario, v: VariantEntry, reply: JobReply, timeout_s: number): RunResult {
  const step = reply.type === 'timeout' ? scn.steps[reply.step - 1] : undefined;
  const where = step ? step_label(step) : reply.type === 'timeout' && reply.step === 0 ? 'boot' : 'unknown step';
  const message = reply.type === 'timeout' ? `timed out after ${timeout_s} s at ${where}`
    : reply.type === 'crash' ? `the worker running it died: ${reply.message}` : `unexpected reply ${reply.type}`;
  return {
    scenario: scn.id, file: scn.file, variant: v.name, verdict: 'error', failures: [{ step: where, check: 'variant-error', message }],
    unsupported: null, coverage: { contexts: 0, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] },
    steps_run: 0, events: 0,
  };
}

async function load_variants(pool: Pool, dirs: string[], timeout_s: number): Promise<VariantEntry[]> {
  const replies = await pool.run(dirs.map((dir) => ({ type: 'load', dir })));
  return dirs.map((dir, i) => {
    const reply = replies[i]!;
    const name = variant_dir_name(dir);
    if (reply.type === 'loaded') return { dir, name: reply.info?.name ?? name, info: reply.info, error: reply.error };
    const why = reply.type === 'timeout' ? `loading did not finish within ${timeout_s} s` : reply.type === 'crash' ? reply.message : 'no reply';
    return { dir, name, info: null, error: `${join(dir, 'index.ts')}: ${why}` };
  });
}

export async function compare(o: Options): Promise<Results> {
  const errors: InputError[] = [];
  const pool = pool_create(Math.min(availableParallelism(), 4), o.timeout);
  try {
    let loaded = await load_variants(pool, variant_dirs(o.variants_root), o.timeout);
    if (o.variants) {
      const unknown = o.variants.filter((n) => !loaded.some((l) => l.name === n));
      if (unknown.length) throw new UsageError(`unknown variant ${unknown.join(', ')} (have: ${loaded.map((l) => l.name).join(', ')})`);
      loaded = loaded.filter((l) => o.variants!.includes(l.name));
    }
    const scenarios = load_scenarios(scenario_files(o.scenarios), errors);
    const pairs = scenarios.flatMap((scn) => loaded.filter((v) => v.info).map((v) => ({ scn, v })));
    const replies = await pool.run(pairs.map(({ scn, v }) => ({ type: 'run', file: scn.file, dir: v.dir })));
    const runs = pairs.map(({ scn, v }, i) => {
      const reply = replies[i]!;
      return reply.type === 'result' ? reply.result : failed_run(scn, v, reply, o.timeout);
    });
    const variants = loaded.map((v) => variant_info(v, runs));
    const bench: BenchRow[] = o.bench === 'off' ? [] : await run_benchmarks(o.bench, scenarios, loaded.filter((v) => v.info), runs);
    const results: Results = {
      kernel: KERNEL_VERSION, variants,
      scenarios: scenarios.map((s) => ({ id: s.id, file: s.file, summary: s.summary })),
      results: runs, bench, errors, exit_code: 0,
    };
    results.exit_code = exit_code(variants, errors);
    return results;
  } finally {
    await pool.close();
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parse_args(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message ? `compare: ${e.message}\n` : ''}${USAGE}\n`);
    return e.message ? 2 : 0;
  }
  try {
    const results = await compare(o);
    try {
      write_reports(o.out, results);
    } catch (e) {
      process.stderr.write(`compare: cannot write reports to ${o.out}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    process.stdout.write(format_report(results, o.format));
    for (const e of results.errors) process.stderr.write(`${e.file}:${e.line}:${e.col}: ${e.message}\n`);
    return results.exit_code;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`compare: ${e.message}\n${USAGE}\n`);
    return 2;
  }
}

process.exitCode = await main();
