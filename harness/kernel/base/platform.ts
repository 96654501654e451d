// drivers/base/platform.c and drivers/of/platform.c: the platform bus, whose .dma_configure
// reads the device's own DT node, and platform devices made from DT nodes.
import type { bus_type, device, device_driver } from './device.ts';
import type { device_node } from '../of/node.ts';
import type { Kernel } from '../kernel.ts';
import { device_add, device_alloc, device_del, device_initialize, put_device } from './core.ts';
import { driver_register } from './bus.ts';
import { of_device_is_available, of_device_is_compatible, of_node_get, of_node_put } from '../of/base.ts';
import { of_dma_configure } from '../of/device.ts';
import { iommu_device_unuse_default_domain, iommu_device_use_default_domain } from '../iommu/iommu.ts';
import { DMA_BIT_MASK } from '../dma-mapping.ts';

export const PLATFORM_DEVID_NONE = -1;
export const PLATFORM_DEVID_AUTO = -2;

export interface platform_device {
  name: string;
  id: number;
  id_auto: boolean;
  dev: device;
  platform_dma_mask: bigint;
}

export function to_platform_device(dev: device): platform_device | null {
  const c = dev.container as platform_device | null;
  return c && c.dev === dev ? c : null;
}

/** platform_match(): OF compatible first, then the device name against the driver name */
function platform_match(dev: device, drv: device_driver): number {
  if (dev.of_node && drv.of_match_table?.some((c) => of_device_is_compatible(dev.of_node!, c))) return 1;
  return to_platform_device(dev)?.name === drv.name ? 1 : 0;
}

/** platform_bus_type with platform_dma_configure / platform_dma_cleanup */
export function platform_bus_type_alloc(k: Kernel): bus_type {
  return {
    name: 'platform',
    match: platform_match,
    dma_configure: (dev) => platform_dma_configure(k, dev),
    dma_cleanup: (dev) => platform_dma_cleanup(k, dev),
  };
}

/**
 * platform_dma_configure(): of_dma_configure() on the device's own node; then, only with a
 * driver bound (the IOMMU core may call this for a driverless device since 6.15), claim the
 * default domain for the driver unless it manages DMA itself.
 */
export function platform_dma_configure(k: Kernel, dev: device): number {
  let ret = 0;
  if (dev.of_node) ret = of_dma_configure(k, dev, dev.of_node, true);
  if (ret) return ret;
  if (dev.driver && !dev.driver.driver_managed_dma) ret = iommu_device_use_default_domain(k, dev);
  return ret;
}

export function platform_dma_cleanup(k: Kernel, dev: device): void {
  if (dev.driver && !dev.driver.driver_managed_dma) iommu_device_unuse_default_domain(k, dev);
}

function platform_device_release(k: Kernel, pdev: platform_device): void {
  of_node_put(pdev.dev.of_node);
  void k;
}

/** platform_device_alloc(): a 32-bit DMA mask by default (setup_pdev_dma_masks) */
export function platform_device_alloc(k: Kernel, name: string, id: number): platform_device {
  const dev = device_alloc(k);
  const pdev: platform_device = { name, id, id_auto: false, dev, platform_dma_mask: DMA_BIT_MASK(32) };
  dev.container = pdev;
  device_initialize(k, dev);
  dev.release = () => platform_device_release(k, pdev);
  dev.coherent_dma_mask = DMA_BIT_MASK(32);
  dev.dma_mask = pdev.platform_dma_mask;
  dev.dma_parms = { max_segment_size: 0 };
  return pdev;
}

/** struct platform_device_info: what platform_device_register_full() takes */
export interface platform_device_info {
  parent: device | null;
  /** the firmware node (an OF node here) */
  fwnode: device_node | null;
  name: string;
  id: number;
  /** 0n: keep the 32-bit default */
  dma_mask: bigint;
}

/**
 * platform_device_register_full(): alloc, take a reference on the node, set the masks, add.
 * Returns the device, or the errno of a failed add (the C's ERR_PTR).
 */
export function platform_device_register_full(k: Kernel, info: platform_device_info): platform_device | number {
  const pdev = platform_device_alloc(k, info.name, info.id);
  pdev.dev.parent = info.parent;
  pdev.dev.of_node = of_node_get(info.fwnode);
  if (info.dma_mask) {
    pdev.platform_dma_mask = info.dma_mask;
    pdev.dev.dma_mask = info.dma_mask;
    pdev.dev.coherent_dma_mask = info.dma_mask;
  }
  const ret = platform_device_add(k, pdev);
  if (ret) {
    platform_device_put(k, pdev);
    return ret;
  }
  return pdev;
}

/** platform_driver_register(): the driver joins the platform bus (the model's struct
 *  platform_driver is the device_driver it embeds) */
export function platform_driver_register(k: Kernel, drv: device_driver): number {
  drv.bus = k.platform_bus_type;
  return driver_register(k, drv);
}

/** platform_device_add(): name it "<name>", "<name>.<id>" or "<name>.<n>.auto", then device_add */
export function platform_device_add(k: Kernel, pdev: platform_device): number {
  pdev.dev.bus = k.platform_bus_type;
  if (pdev.id === PLATFORM_DEVID_NONE) pdev.dev.name = pdev.name;
  else if (pdev.id === PLATFORM_DEVID_AUTO) { pdev.id_auto = true; pdev.dev.name = `${pdev.name}.${k.platform_devid_auto++}.auto`; }
  else pdev.dev.name = `${pdev.name}.${pdev.id}`;
  return device_add(k, pdev.dev);
}

export function platform_device_del(k: Kernel, pdev: platform_device): void {
  device_del(k, pdev.dev);
}

export function platform_device_put(k: Kernel, pdev: platform_device): void {
  put_device(k, pdev.dev);
}

export function platform_device_unregister(k: Kernel, pdev: platform_device): void {
  platform_device_del(k, pdev);
  platform_device_put(k, pdev);
}

/** of_device_make_bus_id(): "<unit-address>.<node-name>", or the node name */
function of_device_make_bus_id(np: device_node): string {
  const at = np.full_name.indexOf('@');
  return at < 0 ? np.name : `${np.full_name.slice(at + 1)}.${np.name}`;
}

/** of_platform_device_create(): a platform device for an available node, parented as given */
export function of_platform_device_create(k: Kernel, np: device_node, parent: device | null): platform_device | null {
  if (!of_device_is_available(np) || k.of_platform_devices.has(np)) return null;
  const pdev = platform_device_alloc(k, of_device_make_bus_id(np), PLATFORM_DEVID_NONE);
  pdev.dev.of_node = of_node_get(np);
  pdev.dev.parent = parent;
  if (platform_device_add(k, pdev)) {
    platform_device_put(k, pdev);
    return null;
  }
  k.of_platform_devices.set(np, pdev.dev);
  return pdev;
}

/** of_platform_default_populate(): every top-level node with a compatible, and the children
 *  of "simple-bus" nodes */
export function of_platform_default_populate(k: Kernel, root: device_node, skip: (np: device_node) => boolean): void {
  for (const np of root.children) {
    if (!np.properties.has('compatible') || skip(np)) continue;
    of_platform_device_create(k, np, null);
    if (of_device_is_compatible(np, 'simple-bus')) of_platform_default_populate(k, np, skip);
  }
}

/** of_platform_device_destroy(): unregister the device made for a node */
export function of_platform_device_destroy(k: Kernel, np: device_node): void {
  const dev = k.of_platform_devices.get(np);
  const pdev = dev ? to_platform_device(dev) : null;
  if (!pdev) return;
  k.of_platform_devices.delete(np);
  platform_device_unregister(k, pdev);
}
