// `npm run conformance -- [--kernel-src DIR] [--build-dir DIR] [--jobs N] [--record]`:
// build a real arm64 kernel with the conformance test, boot it under QEMU with an SMMUv3, turn
// its console into one record per case, run the same cases on the model and compare. Exit 0
// when the kernel and the model agree on every case (known SMMUv3/SMMUv2 differences allowed),
// 1 when they do not or the kernel run failed, 2 for bad usage or missing packages.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { table } from 'table';
import { parse_console } from './console.ts';
import { judge, type CaseVerdict } from './verdict.ts';
import { describe_difference } from './record.ts';
import { RECORDED_CONSOLE, RECORDED_PATH, type Observations } from './recorded.ts';
import { cases_sha256 } from './gen-c.ts';
import { KitError, PATCH, QEMU_MACHINE, QEMU_OPTS, TEST_C, apply_patch, boot, build, build_dirs, config_settings, configure, make_args, missing_packages, prepare_debian_source, qemu_version, sha256 } from './kit.ts';

interface Options { kernel_src: string | null; build_dir: string; jobs: number; record: boolean; timeout: number }

const USAGE = `usage: npm run conformance -- [--kernel-src DIR] [--build-dir DIR] [--jobs N] [--record]
  --kernel-src DIR  build this kernel tree (the kit's patch is applied to it if missing)
                    instead of fetching Debian's linux-source-7.3
  --build-dir DIR   where the source, the build and the console log go
                    (default: $CONFORMANCE_BUILD_DIR or ~/.cache/iommu-ctx-conformance)
  --jobs N          parallel make jobs (default: the number of CPUs)
  --record          write the observations to conformance/recorded/observations.json
  --timeout S       give up on the QEMU boot after S seconds (default 300)`;

class UsageError extends Error {}

function parse_args(argv: string[]): Options {
  const o: Options = {
    kernel_src: null,
    build_dir: process.env.CONFORMANCE_BUILD_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'iommu-ctx-conformance'),
    jobs: availableParallelism(), record: false, timeout: 300,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const count = () => {
      const v = value();
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`${a}: '${v}' is not a positive whole number`);
      return Number(v);
    };
    if (a === '--kernel-src') o.kernel_src = resolve(value());
    else if (a === '--build-dir') o.build_dir = resolve(value());
    else if (a === '--jobs') o.jobs = count();
    else if (a === '--timeout') o.timeout = count();
    else if (a === '--record') o.record = true;
    else if (a === '--help' || a === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new UsageError(`unknown argument '${a}'`);
  }
  if (o.kernel_src && !existsSync(join(o.kernel_src, 'Makefile'))) throw new UsageError(`--kernel-src ${o.kernel_src}: not a kernel tree (no Makefile)`);
  return o;
}

const shown = (v: boolean | null, yes: string, no: string) => (v === null ? '-' : v ? yes : no);

function row(v: CaseVerdict): string[] {
  const k = v.kernel;
  const step = (op: string) => k?.steps.find((s) => s.op === op) ?? null;
  const unknown = v.differences.filter((d) => !d.known);
  const known = v.differences.filter((d) => d.known);
  const model = unknown.length ? `DIFFERS: ${unknown.map((d) => d.field).join(', ')}`
    : known.length ? `agrees (SMMUv3/v2: ${known.map((d) => d.field).join(', ')})` : 'agrees';
  return [
    v.case.name,
    shown(step('add')?.group ?? null, 'group', 'no group'),
    shown(step('configure')?.group ?? step('smmu_register')?.group ?? null, 'group', 'no group'),
    k?.teardown_at_delete ?? '-',
    k?.stream_id_free === null || !k ? '-' : k.stream_id_free ? 'free' : `held (${k.steps.find((s) => s.reuse)?.reuse})`,
    k?.warnings.length ? k.warnings.join('; ') : '-',
    model,
  ];
}

export function verdict_table(verdicts: CaseVerdict[]): string {
  const head = ['case', 'group at add', 'after configure / SMMU', 'at delete', 'stream ID after', 'warnings', 'model'];
  return table([head, ...verdicts.map(row)], { columns: { 5: { width: 28, wrapWord: true }, 6: { width: 30, wrapWord: true } } });
}

function main(): number {
  const t0 = Date.now();
  const o = parse_args(process.argv.slice(2));
  const missing = missing_packages(!o.kernel_src);
  if (missing.length) {
    process.stderr.write(`conformance: missing packages: ${missing.join(' ')}\n  install them with: apt-get update && apt-get install -y ${missing.join(' ')}\n`);
    return 2;
  }
  mkdirSync(o.build_dir, { recursive: true });
  const d = build_dirs(o.build_dir, o.kernel_src);
  process.stdout.write(`conformance: build directory ${o.build_dir}\n`);
  let source: string;
  if (o.kernel_src) {
    apply_patch(o.kernel_src);
    source = `kernel tree ${o.kernel_src}`;
  } else {
    source = prepare_debian_source(d);
  }
  configure(d, make_args(d));
  const tb = Date.now();
  build(d, o.jobs);
  const tq = Date.now();
  const console_text = boot(d, o.timeout);
  const te = Date.now();
  process.stdout.write(`conformance: build ${Math.round((tq - tb) / 1000)} s, boot ${Math.round((te - tq) / 1000)} s (console: ${join(d.out, 'console.log')})\n`);

  const run = parse_console(console_text);
  if (run.aborts.length || !run.done) {
    process.stderr.write(`conformance: the test did not finish${run.aborts.length ? `: ${run.aborts.join('; ')}` : ''}; see ${join(d.out, 'console.log')}\n`);
    return 1;
  }
  const verdicts = judge(run.records);
  process.stdout.write(verdict_table(verdicts));
  for (const v of verdicts) for (const diff of v.differences) process.stdout.write(`  ${describe_difference(diff)}\n`);

  const version = /^Linux version (\S+)/.exec(run.banner ?? '')?.[1] ?? 'unknown';
  const observations: Observations = {
    provenance: {
      kernel: `Linux ${version.replace(/[-+].*$/, '')}`,
      banner: run.banner ?? '',
      source, qemu: qemu_version(),
      machine: `${QEMU_MACHINE} ${QEMU_OPTS.join(' ')}`,
      config: config_settings(),
      patch_sha256: sha256(PATCH), test_sha256: sha256(TEST_C), cases_sha256: cases_sha256(),
      date: new Date().toISOString().slice(0, 10),
      wall_seconds: Math.round((Date.now() - t0) / 1000),
    },
    records: run.records,
    messages: run.messages,
  };
  const text = `${JSON.stringify(observations, null, 2)}\n`;
  writeFileSync(join(d.out, 'observations.json'), text);
  if (o.record) {
    writeFileSync(RECORDED_PATH, text);
    writeFileSync(RECORDED_CONSOLE, console_text);
  }
  const agree = verdicts.filter((v) => v.agrees).length;
  process.stdout.write(`conformance: the model agrees with ${observations.provenance.kernel} on ${agree}/${verdicts.length} cases; ` +
    `observations in ${o.record ? RECORDED_PATH : join(d.out, 'observations.json')}; wall time ${observations.provenance.wall_seconds} s\n`);
  return agree === verdicts.length ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`conformance: ${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (e instanceof KitError) {
    process.stderr.write(`conformance: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
