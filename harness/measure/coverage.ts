// IOMMU notifier coverage: for the context devices a variant created, which reached the IOMMU
// core through the bus notifier, had dma_configure called, and were probed and released.
import type { Kernel } from '../kernel/kernel.ts';
import type { ReplayContext } from '../scenario/replay.ts';
import type { Coverage } from './results.ts';

interface Seen { add: boolean; removed: boolean; configured: boolean; probed: boolean; released: boolean }

function seen_by_devid(k: Kernel): Map<number, Seen> {
  const seen = new Map<number, Seen>();
  const get = (devid: number) => {
    let s = seen.get(devid);
    if (!s) { s = { add: false, removed: false, configured: false, probed: false, released: false }; seen.set(devid, s); }
    return s;
  };
  k.log.each(['notifier_call', 'dma_configure', 'iommu_probe_device', 'iommu_release_device'], (e) => {
    if (e.type === 'notifier_call' && e.notifier === 'iommu_bus_notifier') {
      if (e.event === 'BUS_NOTIFY_ADD_DEVICE') get(e.devid).add = true;
      if (e.event === 'BUS_NOTIFY_REMOVED_DEVICE') get(e.devid).removed = true;
    }
    if (e.type === 'dma_configure') get(e.devid).configured = true;
    if (e.type === 'iommu_probe_device' && e.ret === 0) get(e.devid).probed = true;
    if (e.type === 'iommu_release_device') get(e.devid).released = true;
  });
  return seen;
}

export function coverage_of(k: Kernel, contexts: ReplayContext[]): Coverage {
  const seen = seen_by_devid(k);
  const cov: Coverage = { contexts: contexts.length, add_notified: 0, removed_notified: 0, dma_configured: 0, iommu_probed: 0, iommu_released: 0, missed: [] };
  for (const ctx of contexts) {
    const s = seen.get(ctx.dev.devid) ?? { add: false, removed: false, configured: false, probed: false, released: false };
    const missed: string[] = [];
    if (s.add) cov.add_notified++; else missed.push('ADD_DEVICE');
    if (s.removed) cov.removed_notified++; else missed.push('REMOVED_DEVICE');
    if (s.configured) cov.dma_configured++; else missed.push('dma_configure');
    if (s.probed) cov.iommu_probed++; else missed.push('iommu_probe_device');
    if (s.released) cov.iommu_released++; else missed.push('iommu_release_device');
    if (missed.length) cov.missed.push(`ctx ${ctx.name} (${ctx.dev.name}): ${missed.join(', ')}`);
  }
  return cov;
}
