// Translation benchmarks with tinybench: a warm-IOTLB translation through the SMMU model of a
// variant's context device, against the floor no translation can beat, a flat typed-array
// lookup over the same addresses, measured in the same run and reported as a ratio. Each task
// call runs a batch of operations and declares both the per-operation duration and the
// batch's cost (toolchain.md: tinybench 6's traps). A variant is measured only on a scenario
// whose correctness run it passed.
import { Bench, type Task } from 'tinybench';
import type { Scenario } from '../scenario/types.ts';
import type { BenchRow, RunResult } from './results.ts';
import type { Variant } from '../variant.ts';
import { load_variant } from '../variants.ts';
import { replay_boot, replay_step, type ReplayContext } from '../scenario/replay.ts';
import { smmu_of_node } from '../scenario/hardware.ts';
import { smmu_hw_translate, type arm_smmu_hw } from '../kernel/iommu/arm-smmu-hw.ts';
import { dma_map_single, dma_mapping_error } from '../kernel/dma-mapping.ts';
import { ram_alloc } from '../kernel/ram.ts';

export type BenchMode = 'off' | 'quick' | 'full';

const BATCH = 8192;
const PAGES = 256;
const BASELINE = 'flat-lookup';

/** A context with a densely mapped buffer, and the addresses every task walks through. */
interface Fixture {
  hw: arm_smmu_hw;
  sid: number;
  iovas: Float64Array;
  /** the flat table: physical page address per page index */
  flat: Float64Array;
  base: number;
  expect: Float64Array;
}

/** Replay the scenario until the variant made a context with an IOMMU group, then map PAGES. */
function fixture(scn: Scenario, variant: Variant): Fixture | string {
  const st = replay_boot(scn, variant);
  let ctx: ReplayContext | undefined;
  for (const step of scn.steps) {
    replay_step(st, step);
    ctx = [...st.contexts.values()].find((c) => c.wired.length && c.dev.iommu_group);
    if (ctx) break;
  }
  if (!ctx) return 'no context device with an IOMMU group';
  const size = PAGES * 4096;
  const phys = ram_alloc(st.k.ram, size);
  const dma = dma_map_single(st.k, ctx.dev, phys, size, 'DMA_BIDIRECTIONAL');
  if (phys < 0 || dma_mapping_error(dma)) return 'dma_map failed';
  const hw = smmu_of_node(st.k, ctx.wired[0]!.iommu);
  if (!hw) return 'no SMMU instance';
  const iovas = new Float64Array(BATCH);
  const expect = new Float64Array(BATCH);
  const flat = new Float64Array(PAGES);
  for (let p = 0; p < PAGES; p++) flat[p] = phys + p * 4096;
  // a fixed stride through the pages, so neither side gets a sequential-access advantage
  for (let i = 0; i < BATCH; i++) {
    const page = (i * 97) % PAGES;
    const off = (i * 64) % 4096;
    iovas[i] = dma + page * 4096 + off;
    expect[i] = phys + page * 4096 + off;
  }
  st.k.log.enabled = false;
  return { hw, sid: ctx.wired[0]!.sid, iovas, flat, base: dma, expect };
}

/** Verify before measuring: every address of the batch translates to its physical byte. */
function verify(f: Fixture): string | null {
  for (let i = 0; i < BATCH; i++) {
    const got = smmu_hw_translate(f.hw, f.sid, f.iovas[i]!, false);
    if (got !== f.expect[i]) return `translation of 0x${f.iovas[i]!.toString(16)} gave ${got}`;
  }
  return null;
}

let sink = 0;

function flat_lookup(f: Fixture, now: () => number) {
  const { iovas, flat, base } = f;
  const t0 = now();
  let acc = 0;
  for (let i = 0; i < BATCH; i++) {
    const off = iovas[i]! - base;
    acc += flat[(off / 4096) | 0]! + (off % 4096);
  }
  const t = now() - t0;
  sink ^= acc;
  return { overriddenDuration: t / BATCH, overriddenIterationCost: t };
}

function translate_hot(f: Fixture, now: () => number) {
  const { hw, sid, iovas } = f;
  const t0 = now();
  let acc = 0;
  for (let i = 0; i < BATCH; i++) acc += smmu_hw_translate(hw, sid, iovas[i]!, false);
  const t = now() - t0;
  sink ^= acc;
  return { overriddenDuration: t / BATCH, overriddenIterationCost: t };
}

function row(task: Task | undefined, name: string, variant: string, scenario: string, baseline: number): BenchRow {
  const r = task?.result;
  if (!r || task.result.state !== 'completed' || !('latency' in r)) {
    return { name, variant, scenario, ops_per_sec: 0, rme: 0, ratio: 0, samples: 0, note: `failed measurement (${r?.state ?? 'no result'})` };
  }
  const ops = 1000 / r.latency.mean;
  return { name, variant, scenario, ops_per_sec: ops, rme: r.latency.rme, ratio: baseline ? ops / baseline : 0, samples: r.latency.samplesCount, note: null };
}

/** The variants to measure: their folders and names (loaded afresh here). */
export interface BenchVariant { dir: string; name: string }

export async function run_benchmarks(mode: BenchMode, scenarios: Scenario[], variants: BenchVariant[], runs: RunResult[]): Promise<BenchRow[]> {
  if (mode === 'off') return [];
  const scn = scenarios.find((s) => runs.some((r) => r.scenario === s.id && r.verdict === 'pass'));
  if (!scn) return [];
  const bench = new Bench({ time: mode === 'quick' ? 250 : 2000, warmupTime: mode === 'quick' ? 50 : 250, throws: false });
  const rows: BenchRow[] = [];
  const measured: Array<{ variant: string; fixture: Fixture }> = [];
  for (const bv of variants) {
    const run = runs.find((r) => r.scenario === scn.id && r.variant === bv.name);
    const skip = (why: string) => rows.push({ name: 'translate-hot', variant: bv.name, scenario: scn.id, ops_per_sec: 0, rme: 0, ratio: 0, samples: 0, note: why });
    if (run?.verdict !== 'pass') { skip(`not measured: failed verification (${run?.verdict ?? 'not run'} on ${scn.id})`); continue; }
    const lv = await load_variant(bv.dir);
    if (!lv.variant) { skip(`not measured: ${lv.error}`); continue; }
    const f = fixture(scn, lv.variant);
    if (typeof f === 'string') { skip(`not measured: ${f}`); continue; }
    const bad = verify(f);
    if (bad) { skip(`not measured: failed verification (${bad})`); continue; }
    measured.push({ variant: bv.name, fixture: f });
  }
  if (!measured.length) return rows;
  let warning = false;
  bench.addEventListener('warning', () => { warning = true; });
  const now = () => bench.now();
  bench.add(BASELINE, () => flat_lookup(measured[0]!.fixture, now));
  for (const m of measured) bench.add(`translate-hot/${m.variant}`, () => translate_hot(m.fixture, now));
  await bench.run();
  const base = row(bench.getTask(BASELINE), BASELINE, '-', scn.id, 0);
  const baseline_ops = base.ops_per_sec;
  const out = [{ ...base, ratio: base.note ? 0 : 1 }];
  for (const m of measured) out.push(row(bench.getTask(`translate-hot/${m.variant}`), 'translate-hot', m.variant, scn.id, baseline_ops));
  if (warning) for (const r of out) r.note ??= 'timer saturation warning: treat as a failed measurement';
  return [...out, ...rows];
}

export function bench_sink(): number {
  return sink;
}
