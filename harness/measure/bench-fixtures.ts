// What each benchmark runs, and the state it runs on. A fixture is a kernel booted with the
// variant and the scenario replayed until the variant made its first context with an IOMMU
// group; each benchmark then drives that kernel the way a driver and its device would. A
// batch function runs many operations between two clock readings and says both the cost
// per operation and the cost of the batch (toolchain.md: tinybench 6's traps).
//
// Every fixture is verified before it is timed (each address translates to the byte the
// ground truth says; a created context has exactly the stream IDs the device tree wires),
// and the tests (bench-fixtures.test.ts) check through the model's counters that each batch
// does what its name says: translate-hot only hits the IOTLB, translate-cold only misses it.
// The scaling fixtures replay the scale scenario up to its first context, then make the live
// objects themselves (context devices through the variant, or 4 KiB mappings in one domain).
import type { Scenario, Step, WiredStream } from '../scenario/types.ts';
import type { ContextRequest, Variant } from '../variant.ts';
import type { device } from '../kernel/base/device.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { iommu_domain } from '../kernel/iommu/iommu-types.ts';
import { replay_boot, replay_step, type ReplayContext, type ReplayState } from '../scenario/replay.ts';
import { smmu_of_node } from '../scenario/hardware.ts';
import { wired_streams } from '../scenario/truth.ts';
import { check_context_iommu } from './checks.ts';
import { SMMU_IOTLB_ENTRIES, smmu_hw_translate_burst, type arm_smmu_hw } from '../kernel/iommu/arm-smmu-hw.ts';
import { arm_smmu_from_iommu } from '../kernel/iommu/arm-smmu.ts';
import { DMA_BIT_MASK, dma_map_single, dma_mapping_error, dma_unmap_single } from '../kernel/dma-mapping.ts';
import { iommu_map } from '../kernel/iommu/iommu.ts';
import { IOMMU_READ, IOMMU_WRITE } from '../kernel/iommu/iommu-types.ts';
import { ram_alloc } from '../kernel/ram.ts';
import { describe_thrown } from '../thrown.ts';

// Module-local copies of the hot functions: a call through an imported binding is a load
// from the module's environment on every call in Node 20 (see arm-smmu-hw.ts's burst loops).
const translate_burst = smmu_hw_translate_burst;
const map_single = dma_map_single;
const unmap_single = dma_unmap_single;

/** translations per batch (translate-* and flat-lookup) */
export const BATCH_TRANSLATE = 8192;
/** the hot buffer: 1 MiB, 256 pages, well inside the IOTLB */
export const HOT_PAGES = 256;
/** the cold pages: twice the IOTLB's entries, so that every page has a twin on its entry */
export const COLD_PAGES = 2 * SMMU_IOTLB_ENTRIES;
/** pages of each of the two windows translate-cold walks */
export const COLD_WINDOW = HOT_PAGES;
/** scattered single-page mappings, all on one IOTLB set */
export const SPARSE_MAPPINGS = 1024;
/** dma_map + dma_unmap pairs per batch */
export const BATCH_DMA = 256;
/** context create + destroy pairs per batch */
export const BATCH_CONTEXT = 8;

/** A failed fixture: why the variant cannot be measured there. */
export class FixtureError extends Error {}

/** The scenario replayed with the variant until it made a context with an IOMMU group. */
export interface Base {
  st: ReplayState;
  k: Kernel;
  ctx: ReplayContext;
  stream: WiredStream;
  hw: arm_smmu_hw;
}

function call<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new FixtureError(`${what} threw ${describe_thrown(e)}`);
  }
}

/**
 * The scenario replayed until the variant made a context with an IOMMU group and a DMA
 * domain; with `own_group`, one alone in its group (a context whose stream IDs the parent or
 * another context shares joins their group, and makes no group, domain or bank of its own).
 */
export function fixture_base(scn: Scenario, variant: Variant, own_group = false): Base {
  const st = call('boot', () => replay_boot(scn, variant));
  let ctx: ReplayContext | undefined;
  const fits = (c: ReplayContext): boolean => c.alive && c.wired.length > 0 && !!c.dev.iommu_group?.domain
    && (!own_group || c.dev.iommu_group.devices.length === 1);
  for (const step of scn.steps) {
    call(`step ${step.index}`, () => replay_step(st, step));
    if (step.kind !== 'create_context' && step.kind !== 'iommu_register') continue;
    ctx = [...st.contexts.values()].find(fits);
    if (ctx) break;
  }
  if (!ctx) throw new FixtureError(`${scn.id}: no context device ${own_group ? 'alone in its IOMMU group' : 'with an IOMMU group and a DMA domain'}`);
  const stream = ctx.wired[0]!;
  const hw = smmu_of_node(st.k, stream.iommu);
  if (!hw) throw new FixtureError(`${scn.id}: no SMMU instance for ${stream.iommu.full_name}`);
  return { st, k: st.k, ctx, stream, hw };
}

function domain_of(dev: device): iommu_domain {
  const domain = dev.iommu_group?.domain;
  if (!domain) throw new FixtureError(`${dev.name} has no IOMMU domain`);
  return domain;
}

/** dma_map one buffer of `size` bytes of fresh RAM; its IOVA and physical address. */
function map_buffer(k: Kernel, dev: device, size: number): { dma: number; phys: number } {
  const phys = ram_alloc(k.ram, size);
  if (phys < 0) throw new FixtureError(`out of simulated RAM for ${size} bytes`);
  const dma = dma_map_single(k, dev, phys, size, 'DMA_BIDIRECTIONAL');
  if (dma_mapping_error(dma)) throw new FixtureError(`dma_map of ${size} bytes on ${dev.name} failed`);
  return { dma, phys };
}

// ---------------------------------------------------------------------------------------------
// Translation: flat-lookup, translate-hot, translate-cold, translate-cold-sparse
// ---------------------------------------------------------------------------------------------

/** The addresses a translation batch walks through, and where each must land. */
export interface Walk {
  hw: arm_smmu_hw;
  sid: number;
  iovas: Float64Array;
  expect: Float64Array;
  /** where a batch writes the physical addresses reached */
  out: Float64Array;
}

/** The floor: the physical page of each hot page, indexed by page from `base`. */
export interface FlatTable {
  iovas: Float64Array;
  table: Float64Array;
  base: number;
  out: Float64Array;
}

/** `n` offsets into a set of `pages` pages, by a fixed odd stride, so that neither the
 *  baseline nor a translation gets a sequential-access advantage. */
function strided(pages: number, n: number, page_of: (p: number) => { iova: number; phys: number }): { iovas: Float64Array; expect: Float64Array } {
  const iovas = new Float64Array(n);
  const expect = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { iova, phys } = page_of((i * 97) % pages);
    const off = (i * 64) % 4096;
    iovas[i] = iova + off;
    expect[i] = phys + off;
  }
  return { iovas, expect };
}

function walk_of(b: Base, w: { iovas: Float64Array; expect: Float64Array }): Walk {
  return { hw: b.hw, sid: b.stream.sid, ...w, out: new Float64Array(w.iovas.length) };
}

/** translate-hot: one 1 MiB buffer (dma_map), 256 pages that all fit in the IOTLB; and the
 *  flat table over the same pages and addresses (flat-lookup). */
export function hot_fixture(b: Base): { walk: Walk; flat: FlatTable } {
  const buf = map_buffer(b.k, b.ctx.dev, HOT_PAGES * 4096);
  const walk = walk_of(b, strided(HOT_PAGES, BATCH_TRANSLATE, (p) => ({ iova: buf.dma + p * 4096, phys: buf.phys + p * 4096 })));
  const table = new Float64Array(HOT_PAGES);
  for (let p = 0; p < HOT_PAGES; p++) table[p] = buf.phys + p * 4096;
  return { walk, flat: flat_table(walk.iovas, table, buf.dma) };
}

/**
 * The floor's fixture, its fields written after the object is made. V8 folds a field that was
 * never written after its object's creation into the machine code as a constant when the
 * batch is inlined where its fixture is known: the floor's loop then ran without a check or a
 * load of its arrays, at 1.36 ns per address instead of 2.25, in some compilations of a run
 * and not others (the floor's two speeds). The SMMU model's arrays are never folded so: the
 * burst reads them from the instance it is given. Written fields keep the floor in the same
 * shape as what it is compared with.
 */
function flat_table(iovas: Float64Array, table: Float64Array, base: number): FlatTable {
  const none = new Float64Array(0);
  const f: FlatTable = { iovas: none, table: none, base: 0, out: none };
  f.iovas = iovas;
  f.table = table;
  f.base = base;
  f.out = new Float64Array(iovas.length);
  return f;
}

/**
 * translate-cold: 8192 single-page dma_maps, dense (the allocator hands out adjacent IOVAs),
 * twice the IOTLB's entries. The batch walks two windows of COLD_WINDOW pages, 4096 pages
 * (one IOTLB's worth) apart: each page and its twin share an IOTLB entry and evict each
 * other, so every access misses and walks all the levels down to a level-3 page, while
 * the entries and descriptors read stay as few as the hot buffer's (the host's caches are
 * translate-cold-sparse's subject, not this one's).
 */
export function cold_fixture(b: Base): Walk {
  const pages: Array<{ iova: number; phys: number }> = [];
  for (let i = 0; i < COLD_PAGES; i++) {
    const m = map_buffer(b.k, b.ctx.dev, 4096);
    pages.push({ iova: m.dma, phys: m.phys });
  }
  pages.sort((x, y) => x.iova - y.iova);
  for (let i = 1; i < pages.length; i++) {
    if (pages[i]!.iova !== pages[0]!.iova + i * 4096) throw new FixtureError('the single-page mappings are not adjacent');
  }
  const iovas = new Float64Array(BATCH_TRANSLATE);
  const expect = new Float64Array(BATCH_TRANSLATE);
  for (let i = 0; i < BATCH_TRANSLATE; i++) {
    // j runs over both windows by an odd stride: a page's twin comes COLD_WINDOW accesses
    // later, so consecutive walks do not wait on each other's IOTLB fill
    const j = (i * 97) % (2 * COLD_WINDOW);
    const page = pages[(j % COLD_WINDOW) + (j >= COLD_WINDOW ? SMMU_IOTLB_ENTRIES : 0)]!;
    const off = (i * 64) % 4096;
    iovas[i] = page.iova + off;
    expect[i] = page.phys + off;
  }
  return walk_of(b, { iovas, expect });
}

/** translate-cold-sparse: SPARSE_MAPPINGS pages mapped with iommu_map() (as a driver with
 *  its own IOVA space would) at addresses scattered over the whole input range, all on one
 *  IOTLB entry: every access misses, and each walk reads tables of its own. */
export function sparse_fixture(b: Base): Walk {
  const pages = sparse_mappings(b);
  return walk_of(b, strided(pages.length, BATCH_TRANSLATE, (p) => pages[p]!));
}

/** SPARSE_MAPPINGS pages at pseudo-random addresses over the domain's input range, every
 *  page number equal modulo the IOTLB size (one IOTLB entry for all). */
function sparse_mappings(b: Base): Array<{ iova: number; phys: number }> {
  const { k, ctx, hw } = b;
  const domain = domain_of(ctx.dev);
  const cb = hw.sid_route[b.stream.sid]!;
  const limit = cb >= 0 ? hw.cb_va_limit[cb]! : 2 ** 32;
  // page numbers p = hi * IOTLB + SET, hi below limit / (IOTLB * 4096)
  const his = limit / (SMMU_IOTLB_ENTRIES * 4096);
  const SET = 0x5a5;
  const phys = ram_alloc(k.ram, 4096);
  const out: Array<{ iova: number; phys: number }> = [];
  const used = new Set<number>();
  let x = 0x2545f491;
  for (let tries = 0; out.length < SPARSE_MAPPINGS && tries < SPARSE_MAPPINGS * 8; tries++) {
    // xorshift32: reproducible scatter
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const hi = (x >>> 0) % his;
    if (used.has(hi)) continue;
    const iova = (hi * SMMU_IOTLB_ENTRIES + SET) * 4096;
    if (iommu_map(k, domain, iova, phys, 4096, IOMMU_READ | IOMMU_WRITE)) continue; // taken by the allocator
    used.add(hi);
    out.push({ iova, phys });
  }
  if (out.length < SPARSE_MAPPINGS) throw new FixtureError(`only ${out.length} of ${SPARSE_MAPPINGS} sparse mappings could be made`);
  return out;
}

/** Every address of the walk translates to its byte, in one burst as a batch sends them: the
 *  verification before timing (it also warms the IOTLB for translate-hot). */
export function verify_walk(w: Walk): string | null {
  translate_burst(w.hw, w.sid, w.iovas, w.out, false);
  for (let i = 0; i < w.iovas.length; i++) {
    const got = w.out[i]!;
    if (got !== w.expect[i]) return `DMA with SID 0x${w.sid.toString(16)} at 0x${w.iovas[i]!.toString(16)} reached ${got < 0 ? `fault ${got}` : `0x${got.toString(16)}`}, not 0x${w.expect[i]!.toString(16)}`;
  }
  return null;
}

let sink = 0;

/** What a batch function returns to tinybench: per operation, and for the whole batch. */
export interface BatchTime { overriddenDuration: number; overriddenIterationCost: number }

function timed(t: number, ops: number): BatchTime {
  return { overriddenDuration: t / ops, overriddenIterationCost: t };
}

// Each batch is a function that reads the clock around a call to a function holding the
// loop, never around a loop of its own: V8 compiles a long loop on the fly (on-stack
// replacement) before the code after it has ever run, and that code, without type feedback,
// would throw the compiled loop away at the end of every batch, inside the timed window (the
// verification runs every loop once before any timing). A batch writes every physical address
// it reaches into an array, and keeps one of them (the sink), so that the compiler can drop
// none of the work.

/** flat-lookup: one typed-array load per address, the floor no translation can beat */
export function batch_flat(f: FlatTable, now: () => number): BatchTime {
  const t0 = now();
  loop_flat(f.iovas, f.table, f.base, f.out);
  const t = now() - t0;
  sink = (sink + f.out[sink & 4095]!) % 65536;
  return timed(t, f.iovas.length);
}

function loop_flat(iovas: Float64Array, flat: Float64Array, base: number, out: Float64Array): void {
  for (let i = 0; i < iovas.length; i++) {
    const off = iovas[i]! - base;
    out[i] = flat[(off * 2.44140625e-4 /* 1/4096 */) | 0]! + (off & 4095);
  }
}

/** translate-hot, translate-cold and translate-cold-sparse: one burst of device transactions
 *  through the SMMU model (stream match, context bank, IOTLB, walk on a miss), one per address */
export function batch_translate(w: Walk, now: () => number): BatchTime {
  const t0 = now();
  translate_burst(w.hw, w.sid, w.iovas, w.out, false);
  const t = now() - t0;
  sink = (sink + w.out[sink & 4095]!) % 65536;
  return timed(t, w.iovas.length);
}

// ---------------------------------------------------------------------------------------------
// dma-map-unmap
// ---------------------------------------------------------------------------------------------

export interface DmaFixture {
  k: Kernel;
  dev: device;
  /** the physical pages mapped by a batch */
  phys: Float64Array;
  dma: Float64Array;
}

/** 4 KiB buffers on the base context. */
export function dma_fixture(b: Base): DmaFixture {
  const phys = new Float64Array(BATCH_DMA);
  for (let i = 0; i < BATCH_DMA; i++) {
    const p = ram_alloc(b.k.ram, 4096);
    if (p < 0) throw new FixtureError('out of simulated RAM');
    phys[i] = p;
  }
  return { k: b.k, dev: b.ctx.dev, phys, dma: new Float64Array(BATCH_DMA) };
}

/** BATCH_DMA dma_maps of 4 KiB (IOVA allocation, page-table update), then as many
 *  dma_unmaps (page-table update, IOTLB invalidation, the IOVA back to its range cache). */
export function batch_dma(f: DmaFixture, now: () => number): BatchTime {
  return timed(unlogged(f.k, now, () => loop_dma(f)), f.phys.length);
}

/** How long `loop` takes with the kernel's event log off: a batch measures the operation, not
 *  the instrument (and a log of every batch's events would grow without end). */
function unlogged(k: Kernel, now: () => number, loop: () => void): number {
  const log = k.log.enabled;
  k.log.enabled = false;
  const t0 = now();
  loop();
  const t = now() - t0;
  k.log.enabled = log;
  return t;
}

function loop_dma(f: DmaFixture): void {
  const { k, dev, phys, dma } = f;
  const n = phys.length;
  for (let i = 0; i < n; i++) dma[i] = map_single(k, dev, phys[i]!, 4096, 'DMA_BIDIRECTIONAL');
  for (let i = 0; i < n; i++) unmap_single(k, dev, dma[i]!, 4096, 'DMA_BIDIRECTIONAL');
}

/** Every buffer of the last batch was mapped (no DMA_MAPPING_ERROR). */
export function verify_dma(f: DmaFixture): string | null {
  batch_dma(f, () => 0);
  for (let i = 0; i < f.dma.length; i++) if (dma_mapping_error(f.dma[i]!)) return `dma_map of 4 KiB on ${f.dev.name} failed`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// context-create-destroy
// ---------------------------------------------------------------------------------------------

export interface ContextFixture {
  st: ReplayState;
  parent: device;
  request: ContextRequest;
  wired: WiredStream[];
}

/** The parent and request of the base context; the base context is destroyed first, so that
 *  each created context takes its stream map entry, group, domain and bank afresh. */
export function context_fixture(b: Base): ContextFixture {
  const { st, ctx } = b;
  if (ctx.buffers.size) throw new FixtureError(`ctx ${ctx.name} has buffers mapped at creation`);
  const parent = ctx.parent.dev;
  if (!parent) throw new FixtureError(`ctx ${ctx.name} has no parent device`);
  call('destroy_context', () => st.variant.destroy_context(st.syms, ctx.dev));
  ctx.alive = false;
  st.contexts.delete(ctx.name);
  return { st, parent, request: ctx.request, wired: ctx.wired };
}

/** One create through the variant: the device, or why not. */
function create(f: ContextFixture, request: ContextRequest): device | string {
  const res = call('create_context', () => f.st.variant.create_context(f.st.syms, f.parent, request));
  if (typeof res === 'number') return `create_context returned ${res}`;
  if ('unsupported' in res) return `create_context: unsupported (${res.unsupported})`;
  return res;
}

/** The kernel's append-only bookkeeping of every device, group and domain (leak checks) would
 *  keep every measured context alive: a batch puts the lists back as they were. */
function forget_made(k: Kernel, lengths: [number, number, number]): void {
  k.all_devices.length = lengths[0];
  k.all_groups.length = lengths[1];
  k.all_domains.length = lengths[2];
}

/** BATCH_CONTEXT times: create one context device through the variant (bus notifier, IOMMU
 *  probe, group, DMA domain, context bank), then destroy it (and their release). */
export function batch_context(f: ContextFixture, now: () => number): BatchTime {
  const k = f.st.k;
  const lengths: [number, number, number] = [k.all_devices.length, k.all_groups.length, k.all_domains.length];
  const t = unlogged(k, now, () => loop_context(f));
  forget_made(k, lengths);
  return timed(t, BATCH_CONTEXT);
}

function loop_context(f: ContextFixture): void {
  const { variant, syms } = f.st;
  for (let i = 0; i < BATCH_CONTEXT; i++) {
    const dev = variant.create_context(syms, f.parent, f.request);
    if (typeof dev !== 'object' || 'unsupported' in dev) throw new Error('create_context failed during a batch');
    variant.destroy_context(syms, dev);
  }
}

/** What a created context has wrong (stream IDs, group, domain) or leaves behind once
 *  destroyed (device, group, domain, context bank, stream map entries), or null. */
export function verify_context(f: ContextFixture): string | null {
  const k = f.st.k;
  const before = [k.all_devices.length, k.all_groups.length, k.all_domains.length];
  const banks = banks_in_use(k);
  const dev = create(f, f.request);
  if (typeof dev === 'string') return dev;
  const made = k.all_groups.length > before[1]! && k.all_domains.length > before[2]! && banks_in_use(k) === banks + 1;
  const problem = check_context_iommu(k, dev, f.wired)
    ?? (made ? null : `creating ${dev.name} made no IOMMU group, domain and context bank of its own`);
  call('destroy_context', () => f.st.variant.destroy_context(f.st.syms, dev));
  if (problem) return problem;
  return context_leftovers(k, before);
}

/** Devices, groups and domains made since `before` (lengths of k.all_*) that are still alive,
 *  and context banks or stream map entries in use beyond those of the live contexts. */
export function context_leftovers(k: Kernel, before: number[]): string | null {
  const dev = k.all_devices.slice(before[0]).find((d) => !d.released);
  if (dev) return `${dev.name} was not released`;
  const group = k.all_groups.slice(before[1]).find((g) => !g.freed);
  if (group) return `IOMMU group ${group.id} was not freed`;
  const domain = k.all_domains.slice(before[2]).find((d) => !d.freed);
  if (domain) return `IOMMU domain ${domain.id} was not freed`;
  return null;
}

/** Context banks in use on every SMMU (for the tests: a batch gives back what it took). */
export function banks_in_use(k: Kernel): number {
  let n = 0;
  for (const iommu of k.iommu_device_list) {
    const smmu = arm_smmu_from_iommu(iommu);
    if (!smmu) continue;
    for (const w of smmu.context_map) for (let x = w; x; x &= x - 1) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Scaling: the same operation with few and with many live objects
// ---------------------------------------------------------------------------------------------

/** The first create_context step by input id: how the scale scenario names its contexts. */
function id_template(scn: Scenario): (Step & { kind: 'create_context' }) | null {
  for (const s of scn.steps) if (s.kind === 'create_context') return s.id !== null ? s : null;
  return null;
}

/** The scenario replayed up to (not including) its first create_context, log off. */
function scale_base(scn: Scenario, variant: Variant): { st: ReplayState; parent: device; tpl: Step & { kind: 'create_context' } } {
  const tpl = id_template(scn);
  if (!tpl) throw new FixtureError(`${scn.id}: its first create_context does not give an input id`);
  const st = call('boot', () => replay_boot(scn, variant));
  for (const step of scn.steps) {
    if (step.kind === 'create_context') break;
    call(`step ${step.index}`, () => replay_step(st, step));
  }
  const parent = st.parents.get(tpl.parent)?.dev;
  if (!parent || !parent.driver) throw new FixtureError(`${scn.id}: ${tpl.parent.full_name} is not bound before its first create_context`);
  st.k.log.enabled = false;
  return { st, parent, tpl };
}

function request_for(tpl: Step & { kind: 'create_context' }, id: number): ContextRequest {
  return { name: `bench.${id}`, id, node: null, dma_mask: DMA_BIT_MASK(tpl.dma_mask_bits) };
}

/**
 * `live` context devices (ids 0 .. live-1 of the scale scenario's parent), and the request
 * the measured operation creates and destroys: input id `op_id`, the same at every size, so
 * that the operation lands on the same SMMU and stream ID whatever the number of live ones.
 */
export function scale_context_fixture(scn: Scenario, variant: Variant, live: number, op_id: number): ContextFixture {
  return scale_context_op(scale_contexts(scn, variant, live), op_id);
}

/** The scale scenario's parent with `live` context devices (ids 0 .. live-1). */
export interface LiveContexts {
  scn: Scenario;
  base: { st: ReplayState; parent: device; tpl: Step & { kind: 'create_context' } };
}

export function scale_contexts(scn: Scenario, variant: Variant, live: number): LiveContexts {
  const base = scale_base(scn, variant);
  const { st, parent, tpl } = base;
  for (let id = 0; id < live; id++) {
    const dev = create({ st, parent, request: request_for(tpl, id), wired: [] }, request_for(tpl, id));
    if (typeof dev === 'string') throw new FixtureError(`${scn.id}: context ${id} of ${live}: ${dev}`);
  }
  return { scn, base };
}

/** The measured operation on those contexts: create and destroy input id `op_id`. Two
 *  operations may share one set of live contexts (each batch leaves it as it found it). */
export function scale_context_op(live: LiveContexts, op_id: number): ContextFixture {
  const { scn, base: { st, parent, tpl } } = live;
  const wired = wired_streams(scn.dt, tpl.parent, { id: op_id });
  if (!wired.length) throw new FixtureError(`${scn.id}: the parent's iommu-map does not cover id ${op_id}`);
  return { st, parent, request: request_for(tpl, op_id), wired };
}

/**
 * One context device of the scale scenario's parent with `live` 4 KiB mappings in its DMA
 * domain; the measured operation maps and unmaps more of them (dma-map-unmap's batch).
 */
export function scale_dma_fixture(scn: Scenario, variant: Variant, live: number): DmaFixture {
  const { st, parent, tpl } = scale_base(scn, variant);
  const dev = create({ st, parent, request: request_for(tpl, 0), wired: [] }, request_for(tpl, 0));
  if (typeof dev === 'string') throw new FixtureError(`${scn.id}: ${dev}`);
  if (!dev.iommu_group?.domain) throw new FixtureError(`${scn.id}: its context has no IOMMU domain`);
  const k = st.k;
  const page = ram_alloc(k.ram, 4096 * live);
  if (page < 0) throw new FixtureError(`${scn.id}: out of simulated RAM for ${live} pages`);
  for (let i = 0; i < live; i++) {
    if (dma_mapping_error(map_single(k, dev, page + i * 4096, 4096, 'DMA_BIDIRECTIONAL'))) throw new FixtureError(`${scn.id}: dma_map ${i} of ${live} failed`);
  }
  const phys = new Float64Array(BATCH_DMA);
  const more = ram_alloc(k.ram, 4096 * BATCH_DMA);
  for (let i = 0; i < BATCH_DMA; i++) phys[i] = more + i * 4096;
  return { k, dev, phys, dma: new Float64Array(BATCH_DMA) };
}

// ---------------------------------------------------------------------------------------------
// replay-step: the cost of a step after many steps
// ---------------------------------------------------------------------------------------------

/** dma_map + dma + dma_unmap cycles per batch */
export const BATCH_STEP_CYCLES = 32;

export interface StepFixture {
  st: ReplayState;
  /** a dma_map of a buffer on the first context, a transaction to it, its dma_unmap */
  cycle: Step[];
}

/** The cycle a replay-step batch repeats, from the scenario's own steps: the first dma_map on
 *  the first context made by input id, a dma step to that buffer, and a dma_unmap of it (any
 *  dma_unmap step of the scenario, aimed at that buffer). */
function step_cycle(scn: Scenario, ctx: string): Step[] | null {
  const map = scn.steps.find((s): s is Step & { kind: 'dma_map' } => s.kind === 'dma_map' && s.context === ctx);
  if (!map) return null;
  const dma = scn.steps.find((s) => s.kind === 'dma' && s.context === ctx && s.buffer === map.buffer && s.expect === 'ok');
  const unmap = scn.steps.find((s): s is Step & { kind: 'dma_unmap' } => s.kind === 'dma_unmap');
  return dma && unmap ? [map, dma, { ...unmap, context: ctx, buffer: map.buffer }] : null;
}

/**
 * The scale scenario booted, its first context made by input id, then `steps` steps replayed
 * in all, with the event log on, as a run keeps it: the step cycle over and over. The
 * measured batch replays more cycles and puts the log back as it found it.
 */
export function scale_step_fixture(scn: Scenario, variant: Variant, steps: number): StepFixture {
  const { st, tpl } = scale_base(scn, variant);
  st.k.log.enabled = true;
  call(`step ${tpl.index}`, () => replay_step(st, tpl));
  const cycle = step_cycle(scn, tpl.name);
  if (!cycle) throw new FixtureError(`${scn.id}: no dma_map, dma and dma_unmap steps on ${tpl.name} to repeat`);
  while (st.steps_run + cycle.length <= steps) for (const s of cycle) call(`step ${s.index}`, () => replay_step(st, s));
  return { st, cycle };
}

/** BATCH_STEP_CYCLES cycles replayed (each step with its checks, the log on); the log is then
 *  cut back, so that the fixture stays at its number of steps. */
export function batch_steps(f: StepFixture, now: () => number): BatchTime {
  const { st, cycle } = f;
  const log = st.k.log.length;
  const t0 = now();
  loop_steps(st, cycle);
  const t = now() - t0;
  st.k.log.truncate(log);
  st.steps_run -= BATCH_STEP_CYCLES * cycle.length;
  return timed(t, BATCH_STEP_CYCLES * cycle.length);
}

function loop_steps(st: ReplayState, cycle: Step[]): void {
  for (let i = 0; i < BATCH_STEP_CYCLES; i++) for (const s of cycle) replay_step(st, s);
}

/** The cycle's transaction reached its buffer and no check failed. */
export function verify_steps(f: StepFixture): string | null {
  const before = f.st.failures.length;
  batch_steps(f, () => 0);
  const failure = f.st.failures[before];
  return failure ? `${failure.check}: ${failure.message}` : null;
}

export function bench_sink(): number {
  return sink;
}
