// The correctness checks that hold for every scenario (docs/variants.md), computed from the
// kernel model's state and event log. Messages say, in kernel terms, what happened.
import type { device } from '../kernel/base/device.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { KEvent } from '../kernel/log.ts';
import type { WiredStream } from '../scenario/types.ts';
import { errname } from '../kernel/errno.ts';

const hex = (n: number) => `0x${n.toString(16)}`;

/** arm_smmu_of_xlate() packs the SMR id in bits 15:0 of a fwspec id and the mask in 31:16. */
function arm_smmu_fwspec_stream(id: number): { sid: number; mask: number } {
  return { sid: id & 0xffff, mask: id >>> 16 };
}

function events_of(k: Kernel, dev: device): KEvent[] {
  return k.log.of_device(dev.devid);
}

/**
 * A context wired to stream IDs must sit in an IOMMU group with a DMA domain and hold exactly
 * those IDs in its fwspec, on that IOMMU; a context wired to none must have none.
 * Returns what is wrong, or null.
 */
export function check_context_iommu(k: Kernel, dev: device, wired: WiredStream[]): string | null {
  void k;
  const fwspec = dev.iommu?.fwspec ?? null;
  if (wired.length === 0) {
    return dev.iommu_group ? `the device tree wires no stream ID to it, yet it is in IOMMU group ${dev.iommu_group.id}` : null;
  }
  const want = wired.map((w) => `${w.iommu.path}:${hex(w.sid)}/${hex(w.mask)}`).sort();
  if (!dev.iommu_group) return `expected stream IDs ${want.join(', ')}, but it has no IOMMU group`;
  if (dev.iommu_group.domain?.type !== 'IOMMU_DOMAIN_DMA') return `its IOMMU group ${dev.iommu_group.id} has no DMA domain`;
  if (!fwspec) return `expected stream IDs ${want.join(', ')}, but it has no fwspec`;
  const got = fwspec.ids.map((id) => {
    const s = arm_smmu_fwspec_stream(id);
    return `${fwspec.iommu_fwnode.path}:${hex(s.sid)}/${hex(s.mask)}`;
  }).sort();
  if (got.join() !== want.join()) return `fwspec holds ${got.join(', ') || 'nothing'}, expected ${want.join(', ')}`;
  return null;
}

/** Why a device has (or lacks) an IOMMU context, from the bus and the log: the evidence
 *  behind a failure message. */
export function diagnose_context(k: Kernel, dev: device): string {
  const bus = dev.bus;
  if (!bus) return `${dev.name} has no bus`;
  const why: string[] = [];
  const ev = events_of(k, dev);
  if (!bus.dma_configure) why.push(`${bus.name} has no .dma_configure`);
  if (!k.iommu_buses.includes(bus)) why.push(`${bus.name} is not in iommu_buses[], so BUS_NOTIFY_ADD_DEVICE never reached the IOMMU core`);
  const configures = ev.filter((e) => e.type === 'dma_configure');
  if (bus.dma_configure && configures.length === 0) {
    why.push(k.config.flow === '6.8' && !dev.driver
      ? 'dma_configure was never called: before 6.15 only really_probe() calls it, and no driver binds to this device'
      : 'dma_configure was never called');
  }
  for (const e of configures) if (e.type === 'dma_configure' && e.ret) why.push(`dma_configure returned ${errname(e.ret)}`);
  for (const e of ev) if (e.type === 'fwspec_init' && e.ret) why.push(`iommu_fwspec_init(${e.iommu}) returned ${errname(e.ret)}`);
  for (const e of ev) if (e.type === 'of_map_id' && e.ret) why.push(`of_map_id(${e.np} ${e.map}, id 0x${e.id.toString(16)}) returned ${errname(e.ret)}${e.error ? ` ("${e.error}")` : ''}`);
  const probes = ev.filter((e) => e.type === 'iommu_probe_device');
  if (probes.length === 0) why.push('iommu_probe_device was never called');
  else {
    const last = probes[probes.length - 1]!;
    if (last.type === 'iommu_probe_device' && last.ret) why.push(`iommu_probe_device (from ${last.from}) returned ${errname(last.ret)}`);
  }
  if (dev.iommu_group) why.unshift(`${dev.name} is in IOMMU group ${dev.iommu_group.id}`);
  return why.length ? why.join('; ') : `${dev.name} on ${bus.name}`;
}

/**
 * The ordering check of really_probe(): for a device on a bus with .dma_configure, the bus's
 * dma_configure ran (successfully) before the driver's probe, and dma_cleanup ran after the
 * driver's remove. Returns one message per violation.
 */
export function check_dma_configure_order(k: Kernel): string[] {
  const problems: string[] = [];
  const configured = new Map<number, boolean>();
  const removed = new Map<number, KEvent>();
  const devices = new Map(k.all_devices.map((d) => [d.devid, d]));
  k.log.each(['dma_configure', 'driver_probe', 'driver_remove', 'dma_cleanup'], (e) => {
    if (e.type === 'dma_configure' && e.bound) configured.set(e.devid, e.ret === 0);
    if (e.type === 'driver_probe') {
      const bus = devices.get(e.devid)?.bus;
      if (bus?.dma_configure && !configured.get(e.devid)) problems.push(`${e.dev}: ${e.driver} probed without a successful ${bus.name} dma_configure before it`);
      configured.delete(e.devid);
    }
    if (e.type === 'driver_remove') removed.set(e.devid, e);
    if (e.type === 'dma_cleanup') removed.delete(e.devid);
  });
  for (const e of removed.values()) {
    if (e.type !== 'driver_remove') continue;
    const bus = devices.get(e.devid)?.bus;
    if (bus?.dma_cleanup) problems.push(`${e.dev}: no ${bus.name} dma_cleanup after ${e.driver}'s remove`);
  }
  return problems;
}

/** Kernel WARNs are findings: the C would print a backtrace. `at` is the WARN's index in the
 *  event log (to tell the step it happened in), `message` what the kernel printed. */
export function kernel_warnings(k: Kernel): Array<{ at: number; message: string }> {
  const out: Array<{ at: number; message: string }> = [];
  k.log.each(['warn'], (e, at) => {
    out.push({ at, message: `WARNING: ${e.dev ? `${e.dev}: ` : ''}${e.message}` });
  });
  return out;
}

/** IOVA ranges allocated and never freed, per domain, from the log. */
export function iova_leaks(k: Kernel): string[] {
  // per domain, then per IOVA: numbers as keys, no string per event
  const live = new Map<number, Map<number, { domain: number; iova: number; size: number }>>();
  k.log.each(['iova_alloc', 'iova_free'], (e) => {
    if (e.type === 'iova_alloc') {
      let d = live.get(e.domain);
      if (!d) live.set(e.domain, d = new Map());
      d.set(e.iova, e);
    }
    if (e.type === 'iova_free') live.get(e.domain)?.delete(e.iova);
  });
  return [...live.values()].flatMap((d) => [...d.values()]).map((r) => `IOVA ${hex(r.iova)}+${hex(r.size)} of domain ${r.domain} never freed`);
}
