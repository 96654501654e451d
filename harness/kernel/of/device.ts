// drivers/of/device.c: of_dma_configure_id(), the DMA and IOMMU set-up of a device from a DT
// node: the DMA mask limits, coherency, and of_iommu_configure().
import type { device } from '../base/device.ts';
import type { device_node } from './node.ts';
import type { Kernel } from '../kernel.ts';
import { EPROBE_DEFER } from '../errno.ts';
import { dev_dbg, dev_warn } from '../printk.ts';
import { of_dma_is_coherent } from './base.ts';
import { of_iommu_configure } from '../iommu/of_iommu.ts';

/**
 * of_dma_configure_id(dev, np, force_dma, id). The log notes whether it was called from a
 * bus's .dma_configure or from driver code, which reviewers object to (Robin Murphy, Jan 2026).
 * dma-ranges are not modelled: the limit is the device's mask.
 */
export function of_dma_configure_id(k: Kernel, dev: device, np: device_node, force_dma: boolean, id: number | null): number {
  const caller = k.in_dma_configure.at(-1) === dev ? 'bus dma_configure' : 'driver code';
  const ret = of_dma_configure_id_inner(k, dev, np, id);
  k.log.record({ type: 'of_dma_configure_id', dev: dev.name, devid: dev.devid, np: np.path, id, ret, caller });
  void force_dma;
  return ret;
}

function of_dma_configure_id_inner(k: Kernel, dev: device, np: device_node, id: number | null): number {
  if (dev.dma_mask === null) {
    dev_warn(k, dev, 'DMA mask not set');
    dev.dma_mask = dev.coherent_dma_mask;
  }
  dev.dma_coherent = of_dma_is_coherent(np);
  const ret = of_iommu_configure(k, dev, np, id);
  if (ret === -EPROBE_DEFER) return -EPROBE_DEFER;
  if (ret) dev_dbg(k, dev, `device is not behind an iommu (${ret})`);
  return 0;
}

/** of_dma_configure() = of_dma_configure_id() without an input id */
export function of_dma_configure(k: Kernel, dev: device, np: device_node, force_dma: boolean): number {
  return of_dma_configure_id(k, dev, np, force_dma, null);
}
