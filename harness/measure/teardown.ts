// The teardown check: after the scenario's last step and the harness's own unbinding, nothing
// the variant made may be left. The whole kernel state is swept, not only the devices handed
// back to the harness: a device registered on an error path and dropped is found too. Each
// leak says, in kernel terms, why it is still there. Read from the model's state and log.
import type { device } from '../kernel/base/device.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { ReplayContext } from '../scenario/replay.ts';
import { arm_smmu_from_iommu, arm_smmu_leaks } from '../kernel/iommu/arm-smmu.ts';
import { iova_leaks } from './checks.ts';

/** What the log says of each device's life: numbers per devid, filled in one pass. */
interface Lives {
  added: Set<number>;
  deleted: Set<number>;
  probed: Set<number>;
  released: Set<number>;
}

function lives(k: Kernel): Lives {
  const l: Lives = { added: new Set(), deleted: new Set(), probed: new Set(), released: new Set() };
  // the IOMMU core's teardown is iommu_deinit_device(), whether iommu_release_device() (the
  // notifier) or the exported iommu_group_remove_device() reached it
  k.log.each(['device_add', 'device_del', 'iommu_probe_device', 'iommu_release_device', 'iommu_deinit_device'], (e) => {
    if (e.type === 'device_add' && e.ret === 0) l.added.add(e.devid);
    if (e.type === 'device_del') l.deleted.add(e.devid);
    if (e.type === 'iommu_probe_device' && e.ret === 0) l.probed.add(e.devid);
    if (e.type === 'iommu_release_device' || e.type === 'iommu_deinit_device') l.released.add(e.devid);
  });
  return l;
}

/** Why a device's struct is still alive. */
function why_not_released(dev: device, l: Lives): string {
  if (l.added.has(dev.devid) && !l.deleted.has(dev.devid)) return `registered and never deleted (device_add without device_del), reference count ${dev.refcount}`;
  if (l.deleted.has(dev.devid)) return `deleted but the last reference was never dropped (reference count ${dev.refcount}), so its release never ran`;
  return `initialised and never put (reference count ${dev.refcount}), so its release never ran`;
}

/** Why iommu_release_device never ran for a device the IOMMU core probed. */
function why_iommu_kept(k: Kernel, dev: device, l: Lives): string {
  const bus = dev.bus;
  if (!l.deleted.has(dev.devid)) return 'it was never deleted, so BUS_NOTIFY_REMOVED_DEVICE never came';
  if (bus && !k.iommu_buses.includes(bus)) return `released by no notifier: the ${bus.name} bus is not in iommu_buses[]`;
  return 'no iommu_release_device after BUS_NOTIFY_REMOVED_DEVICE';
}

/** Every leak of one device the variant made (or the kernel made for it). */
function device_leaks(k: Kernel, dev: device, who: string, l: Lives): string[] {
  const out: string[] = [];
  if (l.probed.has(dev.devid) && !l.released.has(dev.devid)) out.push(`${who}: iommu_probe_device without iommu_release_device: ${why_iommu_kept(k, dev, l)}`);
  if (dev.iommu_group) {
    out.push(dev.released
      ? `${who}: freed device still in IOMMU group ${dev.iommu_group.id}`
      : `${who}: still in IOMMU group ${dev.iommu_group.id}`);
  }
  if (!dev.released) out.push(`${who}: ${why_not_released(dev, l)}`);
  return out;
}

/**
 * Everything left after teardown. `contexts` names the devices create_context returned;
 * `kept` are the devices the harness itself keeps (the SMMUs), which are not the variant's.
 */
export function teardown_leaks(k: Kernel, contexts: ReplayContext[], kept: ReadonlySet<device> = new Set()): string[] {
  const leaks: string[] = [];
  const l = lives(k);
  const ctx_of = new Map<device, ReplayContext>();
  for (const ctx of contexts) ctx_of.set(ctx.dev, ctx);
  for (const dev of k.all_devices) {
    if (kept.has(dev)) continue;
    const ctx = ctx_of.get(dev);
    const who = ctx ? `ctx ${ctx.name} (${dev.name})` : `device ${dev.name || '(unnamed)'} (not returned by create_context)`;
    leaks.push(...device_leaks(k, dev, who, l));
  }
  for (const g of k.all_groups) if (!g.freed) leaks.push(`IOMMU group ${g.id} not freed (devices: ${g.devices.map((d) => d.name).join(', ') || 'none'})`);
  for (const d of k.all_domains) if (!d.freed) leaks.push(`IOMMU domain ${d.id} not freed`);
  for (const iommu of k.iommu_device_list) {
    const inst = arm_smmu_from_iommu(iommu);
    if (inst) leaks.push(...arm_smmu_leaks(inst).map((m) => `${iommu.name}: ${m}`));
  }
  leaks.push(...iova_leaks(k));
  if (k.ram.allocated.size) leaks.push(`${k.ram.allocated.size} buffers of simulated RAM not freed`);
  return leaks;
}
