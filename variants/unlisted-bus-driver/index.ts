// "Make a custom bus type instead" (Greg Kroah-Hartman, Apr 2026) taken literally, without the
// core edit: a driver's own bus whose .dma_configure maps a context (the parent's iommu-map
// with the id from platform_data, or the context's own node), and a driver on that bus that
// binds every context device, as Greg asked for real drivers on such a bus. The bus is not in
// iommu_buses[]: no notifier probes a device when it is added, so its IOMMU set-up happens only
// when the driver binds (really_probe -> .dma_configure -> of_iommu_configure ->
// iommu_probe_device, with the 6.15 core's "late IOMMU probe at driver bind" WARNING), and no
// notifier releases it when it is deleted.
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device, device_driver } from '../../harness/variant.ts';

type bus_type = Parameters<KernelSymbols['bus_register']>[0];

interface Statics {
  ctx_bus_type: bus_type;
  ctx_driver: device_driver;
  created: number;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => {
    const ctx_bus_type: bus_type = { name: 'ctx-bank', dma_configure: (dev) => ctx_bus_dma_configure(k, dev) };
    // the context-bank driver: its probe has nothing to set up beyond what the bus did
    const ctx_driver: device_driver = { name: 'ctx-bank', bus: ctx_bus_type, probe: () => 0, remove: () => {} };
    return { ctx_bus_type, ctx_driver, created: 0 };
  });
}

/** .dma_configure: the context's own node, else the parent's iommu-map with the id from
 *  platform_data */
function ctx_bus_dma_configure(k: KernelSymbols, dev: device): number {
  if (dev.of_node) return k.of_dma_configure(dev, dev.of_node, true);
  const id = k.dev_get_platdata(dev) as number | null;
  if (id === null || !dev.parent?.of_node) return -k.errno.ENODEV;
  return k.of_dma_configure_id(dev, dev.parent.of_node, true, id);
}

/** The bus's create helper: a bare device, named, masked, registered (the driver binds now). */
function ctx_bus_create_device(k: KernelSymbols, parent: device, request: ContextRequest): device | number {
  const s = statics(k);
  const dev = k.kzalloc_device();
  dev.release = (d) => k.of_node_put(d.of_node);
  dev.bus = s.ctx_bus_type;
  dev.parent = parent;
  dev.coherent_dma_mask = request.dma_mask;
  dev.dma_mask = request.dma_mask;
  if (request.node) dev.of_node = k.of_node_get(request.node);
  else dev.platform_data = request.id;
  k.dev_set_name(dev, `ctx-bank.${s.created++}`);
  const ret = k.device_register(dev);
  if (ret) {
    k.put_device(dev);
    return ret;
  }
  return dev;
}

const variant: Variant = {
  name: 'unlisted-bus-driver',
  summary: 'A custom bus with .dma_configure and a bound driver, but not in iommu_buses: IOMMU probe only at bind, nothing releases it',
  series: [
    { subject: 'Re: [PATCH v2 02/13] drivers: base: Add generic dma context bus (Greg Kroah-Hartman: agreed, make a custom bus type instead)', link: 'https://lore.kernel.org/all/2026042442-luxurious-antonym-f20c@gregkh/' },
    { subject: 'Re: [PATCH v2 02/13] (Greg Kroah-Hartman: build a bus for your hardware type, with drivers binding to it)', link: 'https://lore.kernel.org/all/2026042428-blemish-helpline-7d8d@gregkh/' },
  ],
  expect: 'fails',
  boot(k) {
    const s = statics(k);
    k.bus_register(s.ctx_bus_type);
    k.driver_register(s.ctx_driver);
    // deliberately no iommu_buses_add(): the design without the core edit
  },
  create_context(k, parent, request): CreateResult {
    return ctx_bus_create_device(k, parent, request);
  },
  destroy_context(k, dev) {
    k.device_unregister(dev);
  },
};

export default variant;
