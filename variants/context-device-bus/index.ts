// Ekansh Gupta's "computebus" v1 (14 Apr 2026): host1x's bus made generic. One
// "context-device" bus in drivers/base with no callbacks, listed in iommu_buses[]; every
// driver makes its own context devices on it and configures them by hand, as host1x does:
// of_dma_configure_id() on the parent's node with the context's input id, or
// of_dma_configure() on the context's own DT node (patch 3/3, fastrpc's compute banks).
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

type bus_type = Parameters<KernelSymbols['bus_register']>[0];

interface Statics {
  context_device_bus_type: bus_type;
  /** the drivers' own numbering of the devices they name by input id */
  next_ctx: number;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({ context_device_bus_type: { name: 'context-device' }, next_ctx: 0 }));
}

/** The context's IOMMU set-up, made by the driver once the device is added. */
function configure_context(k: KernelSymbols, dev: device, parent: device, request: ContextRequest): number {
  if (request.node) return k.of_dma_configure(dev, request.node, true);
  if (!parent.of_node) return -k.errno.ENODEV;
  return k.of_dma_configure_id(dev, parent.of_node, true, request.id);
}

/** fastrpc_create_cb_device() of 3/3, or host1x's loop body for a context named by id */
function context_device_create(k: KernelSymbols, parent: device, request: ContextRequest): device | number {
  const s = statics(k);
  const dev = k.kzalloc_device();
  k.device_initialize(dev);
  dev.parent = parent;
  dev.bus = s.context_device_bus_type;
  // fastrpc_cb_dev_release(): drop the node, free the wrapper
  dev.release = (d) => k.of_node_put(d.of_node);
  dev.of_node = k.of_node_get(request.node);
  dev.coherent_dma_mask = request.dma_mask;
  dev.dma_mask = dev.coherent_dma_mask;
  const name = request.node ? request.node.full_name : `ctx.${s.next_ctx++}`;
  k.dev_set_name(dev, `${k.dev_name(parent)}:${name}`);
  let rc = k.device_add(dev);
  if (rc) {
    k.dev_err(parent, `failed to add CB device: ${rc}`);
    k.put_device(dev);
    return rc;
  }
  rc = configure_context(k, dev, parent, request);
  if (!rc) rc = k.dma_set_mask(dev, request.dma_mask);
  if (rc) {
    k.dev_err(parent, `IOMMU configuration failed for ${k.dev_name(dev)}: ${rc}`);
    k.device_del(dev);
    k.put_device(dev);
    return rc;
  }
  return dev;
}

const variant: Variant = {
  name: 'context-device-bus',
  summary: 'A callback-less "context-device" bus in drivers/base, in iommu_buses; drivers configure their contexts by hand',
  series: [
    { subject: '[PATCH 1/3] drivers: base: Add generic context device bus', link: 'https://lore.kernel.org/all/20260414-computebus-v1-1-4d904d40926a@oss.qualcomm.com/' },
    { subject: '[PATCH 2/3] gpu: host1x: Migrate to generic context device bus', link: 'https://lore.kernel.org/all/20260414-computebus-v1-2-4d904d40926a@oss.qualcomm.com/' },
    { subject: '[PATCH 3/3] misc: fastrpc: Use context device bus for compute banks', link: 'https://lore.kernel.org/all/20260414-computebus-v1-3-4d904d40926a@oss.qualcomm.com/' },
  ],
  expect: 'works',
  boot(k) {
    const s = statics(k);
    // context_device_bus_init() (postcore_initcall)
    const err = k.bus_register(s.context_device_bus_type);
    if (err < 0) k.dev_err(null, `context-device bus registration failed: ${err}`);
    k.EXPORT_SYMBOL_GPL('context_device_bus_type');
    // 2/3 swaps host1x's iommu_buses[] entry for this one
    k.iommu_buses_add(s.context_device_bus_type, 'CONFIG_CONTEXT_DEVICE_BUS');
  },
  create_context(k, parent, request): CreateResult {
    return context_device_create(k, parent, request);
  },
  destroy_context(k, dev) {
    // fastrpc_depopulate_cb_devices()
    k.device_unregister(dev);
  },
};

export default variant;
