// The generic bus of "glymur v2" 02/13, "drivers: base: Add generic dma context bus"
// (drivers/base/dma_context_bus.c): one bus in drivers/base whose .dma_configure calls
// of_dma_configure_id() on the context's own node, or else its parent's, with the function id
// kept in drvdata; one iommu_buses[] entry; used here by host1x, Iris and QDA alike.
import type { ContextRequest, KernelSymbols, Variant, device, device_node } from '../../harness/variant.ts';

interface Statics {
  dma_context_bus_type: { name: string; dma_configure: (dev: device) => number };
  /** the global atomic counter that numbers "dma-context-bus-%d" */
  dma_context_bus_id: number;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({
    dma_context_bus_type: { name: 'dma-context-bus', dma_configure: (dev) => dma_context_bus_dma_configure(k, dev) },
    dma_context_bus_id: 0,
  }));
}

/** .dma_configure: the device's own node, else its parent's; the function id from drvdata */
function dma_context_bus_dma_configure(k: KernelSymbols, dev: device): number {
  const iommu_fid = k.dev_get_drvdata(dev) as number | null;
  const np = dev.of_node ?? dev.parent?.of_node ?? null;
  if (!np) return -k.errno.ENODEV;
  return k.of_dma_configure_id(dev, np, true, iommu_fid);
}

/** create_dma_context_bus_device(parent, of_node, dma_mask, iommu_fid) */
function create_dma_context_bus_device(k: KernelSymbols, parent: device, of_node: device_node | null, dma_mask: bigint, iommu_fid: number | null): device | number {
  const s = statics(k);
  const dev = k.kzalloc_device();
  dev.release = () => { /* kfree(dev) */ };
  dev.bus = s.dma_context_bus_type;
  dev.parent = parent;
  dev.coherent_dma_mask = dma_mask;
  dev.dma_mask = dma_mask;
  dev.of_node = of_node;
  k.dev_set_name(dev, `dma-context-bus-${s.dma_context_bus_id++}`);
  k.dev_set_drvdata(dev, iommu_fid);
  const ret = k.device_register(dev);
  if (ret) {
    k.put_device(dev);
    return ret;
  }
  return dev;
}

const variant: Variant = {
  name: 'dma-context-bus',
  summary: 'One generic bus in drivers/base whose .dma_configure maps a context device through iommu-map or its own node',
  series: [
    { subject: '[PATCH v2 02/13] drivers: base: Add generic dma context bus', link: 'https://lore.kernel.org/all/20260423-glymur-v2-2-0296bccb9f4e@oss.qualcomm.com/' },
  ],
  expect: 'works',
  boot(k) {
    const s = statics(k);
    k.bus_register(s.dma_context_bus_type);
    k.EXPORT_SYMBOL_GPL('dma_context_bus_type');
    k.EXPORT_SYMBOL_GPL('create_dma_context_bus_device');
    k.iommu_buses_add(s.dma_context_bus_type, 'CONFIG_DMA_CONTEXT_BUS');
  },
  create_context(k, parent, request: ContextRequest) {
    return create_dma_context_bus_device(k, parent, request.node, request.dma_mask, request.id);
  },
  destroy_context(k, dev) {
    k.device_unregister(dev);
  },
};

export default variant;
