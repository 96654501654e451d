// What a variant may call: the symbols the kernel exports to modules (EXPORT_SYMBOL /
// EXPORT_SYMBOL_GPL), bound to one booted kernel, plus the one explicit core edit
// (iommu_buses_add). Static functions such as iommu_probe_device, iommu_release_device and
// bus_iommu_probe are deliberately absent: a design cannot reach them, as in C.
import type { bus_type, device, device_driver } from './base/device.ts';
import type { device_node } from './of/node.ts';
import type { Kernel } from './kernel.ts';
import * as errno from './errno.ts';
import { IS_ERR } from './errno.ts';
import { dev_get_drvdata, dev_get_platdata, dev_set_drvdata, dev_set_name, device_add, device_alloc, device_del, device_initialize, device_register, device_unregister, get_device, put_device } from './base/core.ts';
import { bus_register, bus_unregister, driver_register, driver_unregister } from './base/bus.ts';
import { __auxiliary_device_add, auxiliary_device_alloc, auxiliary_device_delete, auxiliary_device_init, auxiliary_device_uninit, auxiliary_driver_register, type auxiliary_device } from './base/auxiliary.ts';
import { of_platform_device_create, of_platform_device_destroy, platform_device_add, platform_device_alloc, platform_device_put, platform_device_register_full, platform_device_unregister, platform_driver_register, type platform_device, type platform_device_info } from './base/platform.ts';
import { of_dma_configure, of_dma_configure_id } from './of/device.ts';
import { of_device_is_compatible, of_find_property, of_map_id, of_node_get, of_node_put, of_property_count_u32_elems, of_property_read_u32 } from './of/base.ts';
import { DMA_BIT_MASK, dma_set_coherent_mask, dma_set_mask, dma_set_mask_and_coherent, dma_set_max_seg_size } from './dma-mapping.ts';
import { MAINLINE_IOMMU_BUSES, dev_iommu_fwspec_get, device_iommu_mapped, iommu_buses_add, iommu_get_domain_for_dev, iommu_group_remove_device } from './iommu/iommu.ts';
import { dev_err, dev_info } from './printk.ts';

/** The exported-symbol table one variant sees for one boot. */
export function kernel_symbols(k: Kernel) {
  let statics: unknown;
  return {
    errno, IS_ERR,
    /** kzalloc(sizeof(struct device)): a zeroed device the caller initialises */
    kzalloc_device: (): device => device_alloc(k),
    device_initialize: (dev: device) => device_initialize(k, dev),
    device_add: (dev: device) => device_add(k, dev),
    device_del: (dev: device) => device_del(k, dev),
    device_register: (dev: device) => device_register(k, dev),
    device_unregister: (dev: device) => device_unregister(k, dev),
    get_device: (dev: device) => get_device(dev, k), put_device: (dev: device) => put_device(k, dev),
    dev_set_name, dev_name: (dev: device) => dev.name,
    dev_set_drvdata, dev_get_drvdata, dev_get_platdata,
    bus_register: (bus: bus_type) => bus_register(k, bus),
    bus_unregister: (bus: bus_type) => bus_unregister(k, bus),
    /** a driver for a bus the module registered: probe/remove run as the driver core calls them */
    driver_register: (drv: device_driver) => driver_register(k, drv),
    driver_unregister: (drv: device_driver) => driver_unregister(k, drv),
    platform_driver_register: (drv: device_driver) => platform_driver_register(k, drv),
    platform_driver_unregister: (drv: device_driver) => driver_unregister(k, drv),
    /** the driver's name is its id table: it binds "<name>.<id>" auxiliary devices */
    auxiliary_driver_register: (drv: device_driver) => auxiliary_driver_register(k, drv),
    auxiliary_driver_unregister: (drv: device_driver) => driver_unregister(k, drv),
    platform_bus_type: k.platform_bus_type,
    platform_device_alloc: (name: string, id: number) => platform_device_alloc(k, name, id),
    platform_device_add: (pdev: platform_device) => platform_device_add(k, pdev),
    platform_device_put: (pdev: platform_device) => platform_device_put(k, pdev),
    platform_device_unregister: (pdev: platform_device) => platform_device_unregister(k, pdev),
    /** the device, or the negative errno of a failed add (the C's ERR_PTR) */
    platform_device_register_full: (info: platform_device_info) => platform_device_register_full(k, info),
    of_platform_device_create: (np: device_node, parent: device | null) => of_platform_device_create(k, np, parent),
    of_platform_device_destroy: (np: device_node) => of_platform_device_destroy(k, np),
    /** kzalloc(sizeof(struct auxiliary_device)) with name, id and parent filled in */
    kzalloc_auxiliary_device: (name: string, id: number, parent: device) => auxiliary_device_alloc(k, name, id, parent),
    auxiliary_device_init: (auxdev: auxiliary_device) => auxiliary_device_init(k, auxdev),
    /** auxiliary_device_add() is a macro passing KBUILD_MODNAME */
    auxiliary_device_add: (auxdev: auxiliary_device, modname: string) => __auxiliary_device_add(k, auxdev, modname),
    auxiliary_device_delete: (auxdev: auxiliary_device) => auxiliary_device_delete(k, auxdev),
    auxiliary_device_uninit: (auxdev: auxiliary_device) => auxiliary_device_uninit(k, auxdev),
    of_dma_configure_id: (dev: device, np: device_node, force_dma: boolean, id: number | null) => of_dma_configure_id(k, dev, np, force_dma, id),
    of_dma_configure: (dev: device, np: device_node, force_dma: boolean) => of_dma_configure(k, dev, np, force_dma),
    of_map_id: (np: device_node, id: number, map_name: string, map_mask_name: string | null, target: device_node | null) => of_map_id(k, np, id, map_name, map_mask_name, target),
    of_node_get, of_node_put, of_find_property, of_property_read_u32, of_property_count_u32_elems, of_device_is_compatible,
    DMA_BIT_MASK, dma_set_mask, dma_set_coherent_mask, dma_set_mask_and_coherent,
    dma_set_max_seg_size: (dev: device, size: number) => dma_set_max_seg_size(k, dev, size),
    device_iommu_mapped, dev_iommu_fwspec_get, iommu_get_domain_for_dev,
    /** EXPORT_SYMBOL_GPL, meant for IOMMU drivers: from a module it is a client driver's call,
     *  and the log says so */
    iommu_group_remove_device: (dev: device) => iommu_group_remove_device(k, dev, 'client driver'),
    dev_err: (dev: device | null, msg: string) => dev_err(k, dev, msg),
    dev_info: (dev: device | null, msg: string) => dev_info(k, dev, msg),
    /** A patch to drivers/iommu/iommu.c adding `bus` to iommu_buses[]: a counted core edit, unless
     *  the bus fills a slot mainline already has (MAINLINE_IOMMU_BUSES). */
    iommu_buses_add: (bus: bus_type, why: string) => iommu_buses_add(k, bus, why),
    /** EXPORT_SYMBOL_GPL(name): the design adds a symbol to the kernel's ABI; counted, unless
     *  mainline exports it already (a mainline bus type the design builds in). */
    EXPORT_SYMBOL_GPL: (symbol: string) => k.log.record({ type: 'export_symbol', symbol, gpl: true, mainline: MAINLINE_IOMMU_BUSES.some((m) => m.symbol === symbol) }),
    /** The variant module's file-scope statics, one set per boot (initialised on first use). */
    module_static<T>(init: () => T): T {
      if (statics === undefined) statics = init();
      return statics as T;
    },
  };
}

export type KernelSymbols = ReturnType<typeof kernel_symbols>;
export type { bus_type, device, device_driver, device_node, auxiliary_device, platform_device, platform_device_info };
