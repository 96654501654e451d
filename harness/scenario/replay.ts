// Replays one scenario on a fresh kernel with one variant, playing the client driver (probe,
// create and destroy contexts, map buffers) and the hardware (device DMA through the SMMU).
// Every outcome is read back from the kernel model; the expected values come from the
// scenario's ground truth (truth.ts), never from the variant or the model's own of_map_id.
import type { Scenario, Step, WiredStream } from './types.ts';
import type { ContextRequest, Variant } from '../variant.ts';
import type { device, device_driver } from '../kernel/base/device.ts';
import type { device_node } from '../kernel/of/node.ts';
import type { Kernel, KernelConfig } from '../kernel/kernel.ts';
import type { Failure } from '../measure/results.ts';
import { boot } from '../kernel/boot.ts';
import { kernel_symbols, type KernelSymbols } from '../kernel/exports.ts';
import { driver_register, driver_unregister } from '../kernel/base/bus.ts';
import { flush_scheduled_work } from '../kernel/base/dd.ts';
import { of_platform_device_create, of_platform_device_destroy } from '../kernel/base/platform.ts';
import { DMA_BIT_MASK, dma_map_single, dma_mapping_error, dma_unmap_single, type dma_data_direction } from '../kernel/dma-mapping.ts';
import { ram_alloc, ram_free, ram_read8, ram_write8 } from '../kernel/ram.ts';
import { errname, EPROBE_DEFER } from '../kernel/errno.ts';
import { wired_streams } from './truth.ts';
import { smmu_transaction } from './hardware.ts';
import { diagnose_context, check_context_iommu } from '../measure/checks.ts';
import { describe_thrown } from '../thrown.ts';
import { check_create_result } from './context-identity.ts';

export interface ReplayBuffer {
  name: string;
  ctx: ReplayContext;
  phys: number;
  size: number;
  dma: number;
  dir: dma_data_direction;
  mapped: boolean;
}

export interface ReplayContext {
  name: string;
  dev: device;
  parent: ReplayParent;
  request: ContextRequest;
  /** the DMA mask as a double: exact below 2^53, and above it no DMA address (a double)
   *  exceeds it */
  dma_limit: number;
  wired: WiredStream[];
  /** the stream-id check ran (once its IOMMUs were registered) */
  verified: boolean;
  alive: boolean;
  /** its buffers still mapped, in the order they were mapped */
  buffers: Set<ReplayBuffer>;
}

export interface ReplayParent {
  node: device_node;
  dev: device | null;
  driver: device_driver | null;
  /** the client driver's name (the node's first compatible), kept after it unbinds */
  driver_name: string;
  /** live contexts, oldest first */
  contexts: ReplayContext[];
}

export interface ReplayState {
  scn: Scenario;
  variant: Variant;
  k: Kernel;
  syms: KernelSymbols;
  parents: Map<device_node, ReplayParent>;
  contexts: Map<string, ReplayContext>;
  buffers: Map<string, ReplayBuffer>;
  /** every context device the variant created, in order */
  created: ReplayContext[];
  failures: Failure[];
  unsupported: string | null;
  /** the step being replayed, or the phase around the steps; where() names it for reports */
  at: Step | 'boot' | 'teardown';
  steps_run: number;
}

/** What a throwing variant leaves behind: the harness reports it as the verdict `error`. */
export class VariantCrash extends Error {
  constructor(readonly where: string, readonly detail: string) {
    super(`${where}: ${detail}`);
  }
}

export function step_label(step: Step): string {
  const round = step.rounds.length ? ` round ${step.rounds.join('.')}` : '';
  return `step ${step.index}${round} (${step.pos.file}:${step.pos.line}:${step.pos.col})`;
}

/** The step being replayed as reports name it (built only when a finding needs it). */
export function where(st: ReplayState): string {
  return typeof st.at === 'string' ? st.at : step_label(st.at);
}

export function fail(st: ReplayState, check: string, message: string): void {
  st.failures.push({ step: where(st), check, message });
}

function kernel_config(scn: Scenario): KernelConfig {
  const smmu_hw = new Map([...scn.hardware].map(([np, hw]) => [np.path, hw]));
  return { flow: scn.kernel.flow, patches: new Set(scn.kernel.patches), bypass_unmatched_streams: scn.kernel.bypass_unmatched_streams, smmu_hw, memory: scn.memory };
}

/** Call into the variant; a throw becomes a VariantCrash naming the step. */
function call_variant<T>(st: ReplayState, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new VariantCrash(where(st), `${st.variant.name}.${what} threw ${describe_thrown(e)}`);
  }
}

export function replay_boot(scn: Scenario, variant: Variant): ReplayState {
  const late = new Set(scn.steps.flatMap((s) => (s.kind === 'iommu_register' ? [s.iommu] : [])));
  let syms: KernelSymbols | null = null;
  const st = { scn, variant, parents: new Map(), contexts: new Map(), buffers: new Map(), created: [], failures: [], unsupported: null, at: 'boot', steps_run: 0 } as unknown as ReplayState;
  st.k = boot(kernel_config(scn), scn.dt, {
    late_iommus: late,
    postcore_initcall: (k) => {
      syms = kernel_symbols(k);
      call_variant(st, 'boot', () => variant.boot(syms!));
    },
  });
  st.syms = syms!;
  return st;
}

/** Outcome of a step that can succeed, defer or fail, compared with its `expect`. */
function expect_outcome(st: ReplayState, step: Step, got: 'ok' | 'deferred' | 'error', detail: string): void {
  if (got === step.expect) return;
  fail(st, `${step.kind}-outcome`, `${step.kind}: expected ${step.expect}, got ${got}${detail ? ` (${detail})` : ''}`);
}

function client_driver_name(node: device_node): string {
  return node.properties.get('compatible')?.strings?.[0] ?? node.name;
}

/** The client driver the harness plays: another module's `static struct platform_driver`,
 *  frozen, so that no design can change what its probe and remove do. */
function client_driver(st: ReplayState, parent: ReplayParent): device_driver {
  const compat = parent.driver_name;
  const of_match_table = [compat];
  Object.freeze(of_match_table);
  return Object.freeze<device_driver>({
    name: compat,
    bus: st.k.platform_bus_type,
    of_match_table,
    // a design with a probe hook makes its contexts here, as host1x does
    probe: (dev) => (st.variant.probe ? call_variant(st, 'probe', () => st.variant.probe!(st.syms, dev)) : 0),
    // the driver's remove unmaps its buffers and destroys its contexts, newest first, then
    // lets the design undo its probe
    remove: (dev) => {
      for (const ctx of [...parent.contexts].reverse()) {
        unmap_context_buffers(st, ctx);
        destroy(st, ctx);
      }
      if (st.variant.remove) call_variant(st, 'remove', () => st.variant.remove!(st.syms, dev));
    },
  });
}

function step_iommu_register(st: ReplayState, step: Step & { kind: 'iommu_register' }): void {
  const pdev = of_platform_device_create(st.k, step.iommu, null);
  const ok = pdev !== null && pdev.dev.driver !== null;
  expect_outcome(st, step, ok ? 'ok' : 'error', ok ? '' : 'the SMMU driver did not bind');
  // contexts made before their IOMMU existed are checked now
  for (const ctx of st.contexts.values()) verify_context(st, ctx);
}

function step_probe(st: ReplayState, step: Step & { kind: 'probe' }): void {
  let parent = st.parents.get(step.node);
  if (!parent) {
    parent = { node: step.node, dev: null, driver: null, driver_name: client_driver_name(step.node), contexts: [] };
    st.parents.set(step.node, parent);
  }
  if (!st.k.of_platform_devices.has(step.node)) of_platform_device_create(st.k, step.node, null);
  parent.dev = st.k.of_platform_devices.get(step.node) ?? null;
  if (!parent.driver) {
    parent.driver = client_driver(st, parent);
    driver_register(st.k, parent.driver);
  }
  const dev = parent.dev;
  const got = dev?.driver === parent.driver ? 'ok' : dev?.p?.deferred ? 'deferred' : 'error';
  expect_outcome(st, step, got, dev?.p?.deferred_reason ?? (dev ? '' : 'no platform device for the node'));
}

function step_create_context(st: ReplayState, step: Step & { kind: 'create_context' }): void {
  const parent = st.parents.get(step.parent);
  const pdev = parent?.dev;
  if (!parent || !pdev || pdev.driver !== parent.driver) {
    // the parent's driver has not probed, so it cannot make contexts yet
    expect_outcome(st, step, pdev?.p?.deferred ? 'deferred' : 'error', 'the parent driver is not bound');
    return;
  }
  const request: ContextRequest = { name: step.name, id: step.id, node: step.node, dma_mask: DMA_BIT_MASK(step.dma_mask_bits) };
  const res = call_variant(st, 'create_context', () => st.variant.create_context(st.syms, pdev, request));
  const wrong = check_create_result(st.k, res, pdev, parent.contexts);
  if (wrong) throw new VariantCrash(where(st), `${st.variant.name}.create_context returned ${wrong}`);
  if (typeof res === 'object' && 'unsupported' in res) {
    st.unsupported = res.unsupported;
    return;
  }
  if (typeof res === 'number') {
    expect_outcome(st, step, res === -EPROBE_DEFER ? 'deferred' : 'error', `create_context returned ${errname(res)}`);
    return;
  }
  const wired = wired_streams(st.scn.dt, step.parent, step.node ? { node: step.node } : { id: step.id! });
  const ctx: ReplayContext = { name: step.name, dev: res, parent, request, dma_limit: Number(request.dma_mask), wired, verified: false, alive: true, buffers: new Set() };
  parent.contexts.push(ctx);
  st.contexts.set(step.name, ctx);
  st.created.push(ctx);
  expect_outcome(st, step, 'ok', '');
  verify_context(st, ctx);
}

/** The stream-id check, once every IOMMU the context is wired to has registered. */
function verify_context(st: ReplayState, ctx: ReplayContext): void {
  if (ctx.verified || !ctx.alive) return;
  if (!ctx.wired.every((w) => st.k.iommu_device_list.some((i) => i.fwnode === w.iommu && i.ready))) return;
  ctx.verified = true;
  const problem = check_context_iommu(st.k, ctx.dev, ctx.wired);
  if (problem) fail(st, 'stream-ids', `ctx ${ctx.name}: ${problem}; ${diagnose_context(st.k, ctx.dev)}`);
}

function destroy(st: ReplayState, ctx: ReplayContext): void {
  call_variant(st, 'destroy_context', () => st.variant.destroy_context(st.syms, ctx.dev));
  ctx.alive = false;
  // contexts go newest first, mostly: search from the end
  ctx.parent.contexts.splice(ctx.parent.contexts.lastIndexOf(ctx), 1);
  if (st.contexts.get(ctx.name) === ctx) st.contexts.delete(ctx.name);
}

function step_destroy_context(st: ReplayState, step: Step & { kind: 'destroy_context' }): void {
  const ctx = st.contexts.get(step.context);
  if (!ctx) return fail(st, 'scenario', `destroy_context: no live context ${step.context}`);
  unmap_context_buffers(st, ctx);
  destroy(st, ctx);
}

const directions: Record<string, dma_data_direction> = { bidirectional: 'DMA_BIDIRECTIONAL', to_device: 'DMA_TO_DEVICE', from_device: 'DMA_FROM_DEVICE' };

function step_dma_map(st: ReplayState, step: Step & { kind: 'dma_map' }): void {
  const ctx = st.contexts.get(step.context);
  if (!ctx) return fail(st, 'scenario', `dma_map: no live context ${step.context}`);
  const phys = ram_alloc(st.k.ram, step.size);
  if (phys < 0) return fail(st, 'dma-map', `dma_map ${step.buffer}: out of simulated RAM for ${step.size} bytes`);
  const dir = directions[step.direction]!;
  const dma = dma_map_single(st.k, ctx.dev, phys, step.size, dir);
  if (dma_mapping_error(dma)) {
    ram_free(st.k.ram, phys);
    return fail(st, 'dma-map', `ctx ${ctx.name}: dma_map of ${step.buffer} (${step.size} bytes) failed; ${diagnose_context(st.k, ctx.dev)}`);
  }
  if (dma + step.size - 1 > ctx.dma_limit) fail(st, 'iova-in-mask', `ctx ${ctx.name}: ${step.buffer} got DMA address 0x${dma.toString(16)}+0x${step.size.toString(16)}, beyond its ${step_mask_bits(ctx)}-bit mask`);
  const buf: ReplayBuffer = { name: step.buffer, ctx, phys, size: step.size, dma, dir, mapped: true };
  // a name mapped again while still mapped: the old mapping is no longer the driver's to unmap
  const old = st.buffers.get(step.buffer);
  if (old) old.ctx.buffers.delete(old);
  st.buffers.set(step.buffer, buf);
  ctx.buffers.add(buf);
}

function step_mask_bits(ctx: ReplayContext): number {
  return ctx.request.dma_mask.toString(2).length;
}

function unmap_buffer(st: ReplayState, buf: ReplayBuffer): void {
  dma_unmap_single(st.k, buf.ctx.dev, buf.dma, buf.size, buf.dir);
  ram_free(st.k.ram, buf.phys);
  buf.mapped = false;
  buf.ctx.buffers.delete(buf);
}

function unmap_context_buffers(st: ReplayState, ctx: ReplayContext): void {
  // unmap_buffer() deletes each from the set as it goes, which a Set's iteration allows
  for (const buf of ctx.buffers) unmap_buffer(st, buf);
}

function step_dma_unmap(st: ReplayState, step: Step & { kind: 'dma_unmap' }): void {
  const buf = st.buffers.get(step.buffer);
  if (!buf?.mapped) return fail(st, 'scenario', `dma_unmap: ${step.buffer} is not mapped`);
  unmap_buffer(st, buf);
}

/** The hardware issues one transaction; the outcome is judged against the buffer's truth. */
function step_dma(st: ReplayState, step: Step & { kind: 'dma' }): void {
  const buf = st.buffers.get(step.buffer);
  if (!buf) return fail(st, 'scenario', `dma: unknown buffer ${step.buffer}`);
  const ctx = step.context ? st.contexts.get(step.context) ?? null : null;
  const stream = ctx ? ctx.wired[0] : step.sid !== null ? { iommu: step.iommu ?? st.scn.iommus[0]!, sid: step.sid, mask: 0 } : undefined;
  if (!stream) return fail(st, 'scenario', `dma: no stream for ${step.context ?? 'the transaction'}`);
  const who = ctx ? `ctx ${ctx.name}` : `SID 0x${stream.sid.toString(16)}`;
  const iova = buf.dma + step.offset;
  const t = smmu_transaction(st.k, stream.iommu, stream.sid, iova, step.write);
  const target = buf.phys + step.offset;
  const reached = t.phys === target && buf.mapped;
  const via = `DMA with SID 0x${stream.sid.toString(16)} at 0x${iova.toString(16)}`;
  if (step.expect === 'ok') {
    if (t.phys < 0) return fail(st, 'dma-reaches-buffer', `${who}: ${via} -> ${t.fault}${ctx ? `; ${diagnose_context(st.k, ctx.dev)}` : ''}`);
    if (!reached) return fail(st, 'dma-reaches-buffer', `${who}: ${via} reached 0x${t.phys.toString(16)}, not ${buf.name} at 0x${target.toString(16)}`);
    if (!dma_lands(st, t.phys, target, step.write)) return fail(st, 'dma-reaches-buffer', `${who}: ${via}: the byte written was not found in ${buf.name}`);
    if (ctx) isolation_sweep(st, ctx, buf);
    return;
  }
  const in_buffer = t.phys >= buf.phys && t.phys < buf.phys + buf.size;
  if (step.expect === 'fault' && t.phys >= 0) fail(st, 'fault-expected', `${who}: ${via} reached 0x${t.phys.toString(16)}${in_buffer ? ` inside ${buf.name}` : ''} instead of faulting`);
  if (step.expect === 'isolated' && in_buffer) fail(st, 'isolation', `${who}: ${via} reached ${buf.name} of ctx ${buf.ctx.name} at 0x${t.phys.toString(16)}`);
}

/** A write lands in RAM where the CPU will read it; a read sees what the CPU wrote. */
function dma_lands(st: ReplayState, phys: number, target: number, write: boolean): boolean {
  const marker = (phys * 31 + 7) & 0xff || 1;
  if (write) ram_write8(st.k.ram, phys, marker);
  else ram_write8(st.k.ram, target, marker);
  return ram_read8(st.k.ram, target) === marker && ram_read8(st.k.ram, phys) === marker;
}

/** No other live context's first stream reaches this buffer at its DMA address. */
function isolation_sweep(st: ReplayState, owner: ReplayContext, buf: ReplayBuffer): void {
  for (const other of st.contexts.values()) {
    if (other === owner || !other.alive || !other.wired[0]) continue;
    const w = other.wired[0];
    const t = smmu_transaction(st.k, w.iommu, w.sid, buf.dma, false, true);
    if (t.phys >= buf.phys && t.phys < buf.phys + buf.size) {
      fail(st, 'isolation', `ctx ${other.name} (SID 0x${w.sid.toString(16)}) reaches ${buf.name} of ctx ${owner.name} at DMA address 0x${buf.dma.toString(16)}`);
    }
  }
}

function remove_parent(st: ReplayState, parent: ReplayParent): void {
  if (parent.driver) driver_unregister(st.k, parent.driver);
  parent.driver = null;
}

function step_remove(st: ReplayState, step: Step & { kind: 'remove' }): void {
  const parent = st.parents.get(step.node);
  if (!parent?.driver) return fail(st, 'scenario', `remove: ${step.node.full_name} is not probed`);
  remove_parent(st, parent);
}

export function replay_step(st: ReplayState, step: Step): void {
  st.at = step;
  switch (step.kind) {
    case 'iommu_register': step_iommu_register(st, step); break;
    case 'probe': step_probe(st, step); break;
    case 'create_context': step_create_context(st, step); break;
    case 'destroy_context': step_destroy_context(st, step); break;
    case 'dma_map': step_dma_map(st, step); break;
    case 'dma_unmap': step_dma_unmap(st, step); break;
    case 'dma': step_dma(st, step); break;
    case 'remove': step_remove(st, step); break;
  }
  flush_scheduled_work(st.k);
  st.steps_run++;
}

/** After the last step: unbind what is still bound, then remove every platform device the
 *  scenario's nodes produced (but the SMMUs), so that every IOMMU resource must be free. */
export function replay_teardown(st: ReplayState): void {
  st.at = 'teardown';
  for (const parent of st.parents.values()) remove_parent(st, parent);
  const iommus = new Set(st.scn.iommus);
  for (const np of [...st.k.of_platform_devices.keys()].reverse()) if (!iommus.has(np)) of_platform_device_destroy(st.k, np);
  flush_scheduled_work(st.k);
}
