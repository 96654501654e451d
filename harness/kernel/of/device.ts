// drivers/of/device.c: of_dma_configure_id(), the DMA and IOMMU set-up of a device from a DT
// node: the DMA mask limits, coherency, and of_iommu_configure().
import type { device } from '../base/device.ts';
import type { device_node } from './node.ts';
import type { Kernel } from '../kernel.ts';
import { ENODEV, EPROBE_DEFER } from '../errno.ts';
import { DMA_BIT_MASK } from '../dma-mapping.ts';
import { of_dma_get_range_end } from './address.ts';
import { dev_dbg, dev_warn } from '../printk.ts';
import { of_dma_is_coherent } from './base.ts';
import { of_iommu_configure } from '../iommu/of_iommu.ts';

/**
 * of_dma_configure_id(dev, np, force_dma, id). The log notes whether it was called from a
 * bus's .dma_configure or from driver code, which reviewers object to (Robin Murphy, Jan 2026).
 */
export function of_dma_configure_id(k: Kernel, dev: device, np: device_node, force_dma: boolean, id: number | null): number {
  const caller = k.in_dma_configure.at(-1) === dev ? 'bus dma_configure' : 'driver code';
  const ret = of_dma_configure_id_inner(k, dev, np, force_dma, id);
  k.log.record({ type: 'of_dma_configure_id', dev: dev.name, devid: dev.devid, np: np.path, id, ret, caller });
  return ret;
}

/** ilog2(end) + 1: the bits a mask needs to cover `end` */
function mask_bits(end: bigint): number {
  return end.toString(2).length;
}

/**
 * The C: the DMA window comes from `dma-ranges` above the device's own node (or from np itself
 * when np is some other node, as for a context configured against its parent); without one,
 * a bus that does not force DMA leaves the device alone. The default masks are then clamped
 * to the window (to 32 bits without one), the bus limit set only from real dma-ranges, and
 * of_iommu_configure() runs. Any IOMMU error but -EPROBE_DEFER means "carry on without it".
 * The CPU-to-DMA offset of dma-ranges is not modelled.
 */
function of_dma_configure_id_inner(k: Kernel, dev: device, np: device_node, force_dma: boolean, id: number | null): number {
  const bus_np = np === dev.of_node ? np.parent : np;
  const range = bus_np ? of_dma_get_range_end(bus_np) : -ENODEV;
  if (typeof range === 'number' && !force_dma) return range === -ENODEV ? 0 : range;
  if (dev.dma_mask === null) {
    dev_warn(k, dev, 'DMA mask not set');
    dev.dma_mask = dev.coherent_dma_mask;
  }
  let end = typeof range === 'bigint' ? range : 0n;
  if (!end) end = dev.coherent_dma_mask ? dev.coherent_dma_mask : 0xffff_ffffn;
  const mask = DMA_BIT_MASK(mask_bits(end));
  dev.coherent_dma_mask &= mask;
  dev.dma_mask &= mask;
  if (typeof range === 'bigint') dev.bus_dma_limit = range;
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
