// The teardown check: after the scenario's last step and the harness's own unbinding, nothing
// the contexts used may be left. Read from the model's state and log.
import type { Kernel } from '../kernel/kernel.ts';
import type { ReplayContext } from '../scenario/replay.ts';
import { arm_smmu_from_iommu, arm_smmu_leaks } from '../kernel/iommu/arm-smmu.ts';
import { iova_leaks } from './checks.ts';

/** devids with a successful iommu_probe_device, and devids with an iommu_release_device */
function probed_and_released(k: Kernel): { probed: Set<number>; released: Set<number> } {
  const probed = new Set<number>();
  const released = new Set<number>();
  k.log.each(['iommu_probe_device', 'iommu_release_device'], (e) => {
    if (e.type === 'iommu_probe_device' && e.ret === 0) probed.add(e.devid);
    if (e.type === 'iommu_release_device') released.add(e.devid);
  });
  return { probed, released };
}

export function teardown_leaks(k: Kernel, contexts: ReplayContext[]): string[] {
  const leaks: string[] = [];
  const { probed, released } = probed_and_released(k);
  for (const ctx of contexts) {
    const dev = ctx.dev;
    if (probed.has(dev.devid) && !released.has(dev.devid)) leaks.push(`ctx ${ctx.name} (${dev.name}): iommu_probe_device without iommu_release_device`);
    if (dev.iommu_group) leaks.push(`ctx ${ctx.name} (${dev.name}): still in IOMMU group ${dev.iommu_group.id}`);
    if (!dev.released) leaks.push(`ctx ${ctx.name} (${dev.name}): reference count ${dev.refcount}, its release never ran`);
  }
  for (const g of k.all_groups) if (!g.freed) leaks.push(`IOMMU group ${g.id} not freed (devices: ${g.devices.map((d) => d.name).join(', ') || 'none'})`);
  for (const d of k.all_domains) if (!d.freed) leaks.push(`IOMMU domain ${d.id} not freed`);
  for (const iommu of k.iommu_device_list) {
    const inst = arm_smmu_from_iommu(iommu);
    if (inst) leaks.push(...arm_smmu_leaks(inst).map((l) => `${iommu.name}: ${l}`));
  }
  leaks.push(...iova_leaks(k));
  if (k.ram.allocated.size) leaks.push(`${k.ram.allocated.size} buffers of simulated RAM not freed`);
  return leaks;
}
