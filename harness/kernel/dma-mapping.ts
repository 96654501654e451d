// kernel/dma/mapping.c and kernel/dma/direct.c: the DMA API a driver calls. A device in a DMA
// IOMMU domain goes through dma-iommu; any other device through dma-direct, where the DMA
// address is the physical address and must fit the device's mask.
import type { device } from './base/device.ts';
import type { Kernel } from './kernel.ts';
import { EIO } from './errno.ts';
import { WARN, dev_err } from './printk.ts';
import { iommu_dma_map_page, iommu_dma_unmap_page } from './iommu/dma-iommu.ts';
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from './iommu/iommu-types.ts';

export const DMA_MAPPING_ERROR = -1;

export type dma_data_direction = 'DMA_BIDIRECTIONAL' | 'DMA_TO_DEVICE' | 'DMA_FROM_DEVICE';

/** DMA_BIT_MASK(n) */
export function DMA_BIT_MASK(n: number): bigint {
  return n >= 64 ? (1n << 64n) - 1n : (1n << BigInt(n)) - 1n;
}

/** dma_set_mask(): needs dev->dma_mask to point somewhere (bus or driver code sets it) */
export function dma_set_mask(dev: device, mask: bigint): number {
  if (dev.dma_mask === null) return -EIO;
  dev.dma_mask = mask;
  return 0;
}

export function dma_set_coherent_mask(dev: device, mask: bigint): number {
  dev.coherent_dma_mask = mask;
  return 0;
}

export function dma_set_mask_and_coherent(dev: device, mask: bigint): number {
  const ret = dma_set_mask(dev, mask);
  if (!ret) dma_set_coherent_mask(dev, mask);
  return ret;
}

/** dma_set_max_seg_size(): void since 6.11; a device whose bus gave it no dma_parms (a bare
 *  struct device) gets a WARN_ON_ONCE and nothing is set */
export function dma_set_max_seg_size(k: Kernel, dev: device, size: number): void {
  if (!dev.dma_parms) {
    WARN(k, dev, 'dma_set_max_seg_size: the device has no dma_parms (WARN_ON_ONCE(!dev->dma_parms), include/linux/dma-mapping.h)');
    return;
  }
  dev.dma_parms.max_segment_size = size;
}

export function dma_mapping_error(dma_addr: number): boolean {
  return dma_addr === DMA_MAPPING_ERROR;
}

/** dma_info_to_prot(): what the device may do with the buffer */
export function dma_info_to_prot(dir: dma_data_direction, coherent: boolean): number {
  const cache = coherent ? IOMMU_CACHE : 0;
  if (dir === 'DMA_TO_DEVICE') return IOMMU_READ | cache;
  if (dir === 'DMA_FROM_DEVICE') return IOMMU_WRITE | cache;
  return IOMMU_READ | IOMMU_WRITE | cache;
}

/** dma_direct_map_page(): the physical address, if the device can reach it */
function dma_direct_map_page(k: Kernel, dev: device, phys: number, size: number): number {
  const limit = dev.bus_dma_limit && dev.bus_dma_limit < dev.dma_mask! ? dev.bus_dma_limit : dev.dma_mask!;
  if (BigInt(phys + size - 1) > limit) {
    dev_err(k, dev, `DMA addr 0x${phys.toString(16)}+${size} overflow (mask ${dev.dma_mask!.toString(16)}, bus limit ${dev.bus_dma_limit.toString(16)}).`);
    return DMA_MAPPING_ERROR;
  }
  return phys;
}

/** dma_map_page_attrs() / dma_map_single(): needs a DMA mask */
export function dma_map_single(k: Kernel, dev: device, phys: number, size: number, dir: dma_data_direction): number {
  if (dev.dma_mask === null) {
    WARN(k, dev, 'dma_map_page_attrs: device has no DMA mask (dev->dma_mask is NULL)');
    return DMA_MAPPING_ERROR;
  }
  const dma = dev.dma_ops === 'iommu'
    ? iommu_dma_map_page(k, dev, phys, size, dma_info_to_prot(dir, dev.dma_coherent))
    : dma_direct_map_page(k, dev, phys, size);
  if (dma !== DMA_MAPPING_ERROR) k.log.record({ type: 'dma_map', dev: dev.name, devid: dev.devid, phys, size, dma, path: dev.dma_ops });
  return dma;
}

export function dma_unmap_single(k: Kernel, dev: device, dma_addr: number, size: number, dir: dma_data_direction): void {
  void dir;
  k.log.record({ type: 'dma_unmap', dev: dev.name, devid: dev.devid, dma: dma_addr, size });
  if (dev.dma_ops === 'iommu') iommu_dma_unmap_page(k, dev, dma_addr, size);
}
