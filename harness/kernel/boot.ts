// init/main.c do_initcalls(), reduced to the initcalls that matter here, in their levels:
// core (driver core buses), postcore (buses built in by the design under test), arch_sync
// (of_platform_default_populate), subsys (iommu_subsys_init: notifiers on iommu_buses[]),
// device (the arm-smmu driver binds the SMMUs present at boot), late (deferred probing on).
import type { device_node, device_tree } from './of/node.ts';
import { kernel_alloc, type Kernel, type KernelConfig } from './kernel.ts';
import { bus_register, driver_register } from './base/bus.ts';
import { driver_deferred_probe_trigger, flush_scheduled_work } from './base/dd.ts';
import { platform_bus_type_alloc, of_platform_default_populate } from './base/platform.ts';
import { auxiliary_bus_type_alloc } from './base/auxiliary.ts';
import { iommu_subsys_init } from './iommu/iommu.ts';
import { arm_smmu_driver_alloc } from './iommu/arm-smmu-driver.ts';

export interface BootHooks {
  /** postcore_initcall: the design registers its buses and makes its core edits */
  postcore_initcall?: (k: Kernel) => void;
  /** IOMMU nodes that are absent at boot (they register at a scenario step) */
  late_iommus?: Set<device_node>;
}

/** unflatten_device_tree() (drivers/of/fdt.c) builds the nodes afresh at every boot, so none
 *  holds a reference yet. The model boots on the scenario's parsed tree, which an earlier
 *  kernel may have booted on (a worker replays one scenario with several variants). */
function unflatten_device_tree(np: device_node): void {
  np.refcount = 0;
  for (const child of np.children) unflatten_device_tree(child);
}

export function boot(config: KernelConfig, dt: device_tree, hooks: BootHooks = {}): Kernel {
  unflatten_device_tree(dt.root);
  const k = kernel_alloc(config, dt);
  // core_initcall: platform_bus_init(), auxiliary_bus_init()
  // `const struct bus_type` in C: frozen, so that no design can add a .dma_configure to them
  k.platform_bus_type = Object.freeze(platform_bus_type_alloc(k));
  k.auxiliary_bus_type = Object.freeze(auxiliary_bus_type_alloc());
  bus_register(k, k.platform_bus_type);
  bus_register(k, k.auxiliary_bus_type);
  // iommu_buses[] as built: the platform bus is always listed (no PCI, AMBA, fsl-mc, cdx here)
  k.iommu_buses.push(k.platform_bus_type);
  hooks.postcore_initcall?.(k);
  // arch_initcall_sync: of_platform_default_populate_init()
  const late = hooks.late_iommus ?? new Set<device_node>();
  of_platform_default_populate(k, dt.root, (np) => late.has(np));
  // subsys_initcall: iommu_subsys_init()
  iommu_subsys_init(k);
  // device_initcall: arm-smmu registers and binds the SMMUs present now
  driver_register(k, arm_smmu_driver_alloc(k));
  // late_initcall: deferred_probe_initcall()
  k.driver_deferred_probe_enable = true;
  driver_deferred_probe_trigger(k);
  flush_scheduled_work(k);
  k.initcalls_done = true;
  driver_deferred_probe_trigger(k);
  flush_scheduled_work(k);
  return k;
}
