// include/linux/device.h, include/linux/device/bus.h, include/linux/device/driver.h:
// the structures of the driver core. Structures are data plus optional callbacks; the core tests
// for a callback's presence exactly where the C does (`if (dev->bus->dma_configure)`).
import type { device_node } from '../of/node.ts';
import type { dev_iommu, iommu_group } from '../iommu/iommu-types.ts';

export interface bus_type {
  name: string;
  /** "%s%u" auto-naming from dev->id when the device has no name */
  dev_name?: string;
  match?: (dev: device, drv: device_driver) => number;
  probe?: (dev: device) => number;
  remove?: (dev: device) => void;
  dma_configure?: (dev: device) => number;
  dma_cleanup?: (dev: device) => void;
}

export interface device_driver {
  name: string;
  bus: bus_type;
  /** of_device_id table: compatible strings */
  of_match_table?: string[];
  /** the driver manages DMA itself (skips iommu_device_use_default_domain) */
  driver_managed_dma?: boolean;
  probe?: (dev: device) => number;
  remove?: (dev: device) => void;
}

/** struct dev_links_info and the rest of dev->p, reduced to what the model uses */
export interface device_private {
  /** on the bus's klist of devices (bus_add_device .. bus_remove_device) */
  on_bus: boolean;
  /** on the deferred-probe pending or active list */
  deferred: boolean;
  deferred_reason: string | null;
}

export interface device {
  /** serial number, unique for the whole run: names can be reused, devids are not */
  devid: number;
  init_name: string | null;
  /** dev_name(dev): set by device_add from init_name, or by dev_set_name */
  name: string;
  id: number;
  parent: device | null;
  bus: bus_type | null;
  driver: device_driver | null;
  of_node: device_node | null;
  platform_data: unknown;
  driver_data: unknown;
  /** a pointer to a u64 in the C: null until someone points it somewhere */
  dma_mask: bigint | null;
  coherent_dma_mask: bigint;
  /** set by of_dma_configure_id from dma-ranges; 0n means none */
  bus_dma_limit: bigint;
  /** dev->dma_parms: the bus code that embeds the device provides it (platform devices do);
   *  a bare struct device has none */
  dma_parms: { max_segment_size: number } | null;
  dma_coherent: boolean;
  /** which DMA ops arch_setup_dma_ops installed: dma-iommu or dma-direct */
  dma_ops: 'iommu' | 'direct';
  iommu: dev_iommu | null;
  iommu_group: iommu_group | null;
  release: ((dev: device) => void) | null;
  /** kobject kref */
  refcount: number;
  /** dev->p: null until device_add (device_private_init) */
  p: device_private | null;
  /** kill_device() ran: device_del started */
  dead: boolean;
  released: boolean;
  /** type of the containing structure, for to_platform_device() and friends */
  container: object | null;
}
