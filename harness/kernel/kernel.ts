// The simulated kernel's global state: what the C keeps in file-scope statics across
// drivers/base, drivers/iommu and drivers/of. One Kernel is one boot; the harness makes a fresh
// one per scenario and variant. The functions that act on it live in the files named after
// their C sources and take the Kernel as their first argument.
import type { bus_type, device, device_driver } from './base/device.ts';
import type { iommu_device, iommu_domain, iommu_group } from './iommu/iommu-types.ts';
import type { device_node, device_tree } from './of/node.ts';
import { EventLog } from './log.ts';
import { ram_init, type Ram } from './ram.ts';

/** The kernel version whose behaviour the model follows (mainline; out-of-tree series are
 *  named separately, per scenario: patches.ts). */
export const KERNEL_VERSION = 'Linux 6.15 (IOMMU probe path of commit bcb81ac6ae3c)';

export type KernelFlow = '6.15' | '6.8';

/** What an SMMU's ID registers report (ID0.NUMSMRG, ID1.NUMCB, ID2.IAS/UBS). */
export interface smmu_hw_config {
  context_banks: number;
  stream_match_groups: number;
  va_bits: number;
}

export interface KernelConfig {
  /** drivers/iommu/iommu.c probe flow: 6.15+ (core calls dma_configure) or 6.8-6.14 */
  flow: KernelFlow;
  /** out-of-tree series applied on top of mainline, by id (patches.ts) */
  patches: ReadonlySet<string>;
  /** arm-smmu disable_bypass=0: unmatched streams bypass translation instead of faulting */
  bypass_unmatched_streams: boolean;
  /** per IOMMU node path, what its ID registers report */
  smmu_hw: Map<string, smmu_hw_config>;
  /** simulated RAM */
  memory: { base: number; size: number };
}

export interface notifier_block {
  name: string;
  notifier_call: (k: Kernel, event: import('./log.ts').BusNotifyEvent, dev: device) => number;
}

/** struct subsys_private: what bus_register() allocates for a bus */
export interface subsys_private {
  bus: bus_type;
  /** klist_devices: in the order they were added; removal is O(1) as klist_del() is */
  devices: Set<device>;
  /** the names under /sys/bus/<bus>/devices (a kernfs rbtree in the C): the duplicate check;
   *  a prototype-less dictionary object, not a Map (see bus_register()) */
  device_names: Record<string, device | undefined>;
  drivers: device_driver[];
  notifiers: notifier_block[];
  drivers_autoprobe: boolean;
}

export interface Kernel {
  config: KernelConfig;
  log: EventLog;
  dt: device_tree;
  /** registered buses (bus_register) */
  buses: Map<bus_type, subsys_private>;
  /** drivers/iommu/iommu.c iommu_buses[] */
  iommu_buses: bus_type[];
  /** drivers/iommu/iommu.c iommu_device_list */
  iommu_device_list: iommu_device[];
  /** drivers/base/dd.c deferred_probe_pending_list / deferred_probe_active_list */
  deferred_probe_pending_list: device[];
  deferred_probe_active_list: device[];
  /** dd.c deferred_trigger_count */
  deferred_trigger_count: number;
  /** dd.c driver_deferred_probe_enable: false until late_initcall */
  driver_deferred_probe_enable: boolean;
  /** dd.c initcalls_done */
  initcalls_done: boolean;
  /** dd.c driver_deferred_probe_timeout (seconds; 0 once expired) */
  driver_deferred_probe_timeout: number;
  /** system_wq: work queued by schedule_work(), run by flush_scheduled_work() */
  work: Array<() => void>;
  /** devices whose bus .dma_configure is running now: tells bus code from driver code when
   *  of_dma_configure_id() is called (the model's instrument; the C cannot tell) */
  in_dma_configure: device[];
  /** simulated physical memory */
  ram: Ram;
  /** every device ever initialised, for the leak checks */
  all_devices: device[];
  all_groups: iommu_group[];
  all_domains: iommu_domain[];
  /** which DT node a platform device was created for (of_platform_populate bookkeeping) */
  of_platform_devices: Map<device_node, device>;
  next_devid: number;
  next_group_id: number;
  next_domain_id: number;
  /** drivers/base/platform.c platform_devid_ida */
  platform_devid_auto: number;
  /** well-known buses, registered at core_initcall (drivers/base/init.c, auxiliary.c) */
  platform_bus_type: bus_type;
  auxiliary_bus_type: bus_type;
}

/** A kernel before boot: the well-known buses are filled in by boot() (they close over k). */
export function kernel_alloc(config: KernelConfig, dt: device_tree): Kernel {
  return {
    config, dt, log: new EventLog(),
    buses: new Map(), iommu_buses: [], iommu_device_list: [],
    deferred_probe_pending_list: [], deferred_probe_active_list: [], deferred_trigger_count: 0,
    driver_deferred_probe_enable: false, initcalls_done: false, driver_deferred_probe_timeout: 10,
    in_dma_configure: [],
    ram: ram_init(config.memory.base, config.memory.size),
    work: [], all_devices: [], all_groups: [], all_domains: [], of_platform_devices: new Map(),
    next_devid: 1, next_group_id: 0, next_domain_id: 1, platform_devid_auto: 0,
    platform_bus_type: { name: 'platform' }, auxiliary_bus_type: { name: 'auxiliary' },
  };
}
