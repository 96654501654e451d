// The mainline host1x pattern (drivers/gpu/host1x/context_bus.c and context.c): a
// "host1x-context" bus with no callbacks at all, registered at postcore_initcall and listed in
// iommu_buses[]. When host1x probes, its driver makes one context device per iommu-map entry,
// adds it, and then configures it itself with of_dma_configure_id() on host1x's own node.
// Contexts are handed out and given back by reference (host1x_memory_context_alloc / _put)
// and all go away with the driver (host1x_memory_context_list_free).
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

type bus_type = Parameters<KernelSymbols['bus_register']>[0];

/** struct host1x_memory_context, reduced to what the pattern needs */
interface host1x_memory_context {
  dev: device;
  /** ctx->owner: the C keeps the owning pid; here only whether someone holds it */
  owned: boolean;
  ref: number;
  stream_id: number;
}

interface Statics {
  host1x_context_device_bus_type: bus_type;
  /** host1x->context_list of each bound host1x device */
  context_lists: Map<device, host1x_memory_context[]>;
  /** container_of(dev, struct host1x_memory_context, dev) */
  contexts: Map<device, host1x_memory_context>;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({
    host1x_context_device_bus_type: { name: 'host1x-context' },
    context_lists: new Map(),
    contexts: new Map(),
  }));
}

/** host1x_of_match (drivers/gpu/host1x/dev.c): the only parents this driver binds to */
const host1x_of_match = [
  'nvidia,tegra264-host1x', 'nvidia,tegra234-host1x', 'nvidia,tegra194-host1x', 'nvidia,tegra186-host1x',
  'nvidia,tegra210-host1x', 'nvidia,tegra124-host1x', 'nvidia,tegra114-host1x', 'nvidia,tegra30-host1x', 'nvidia,tegra20-host1x',
];

function is_host1x(k: KernelSymbols, parent: device): boolean {
  const np = parent.of_node;
  return np !== null && host1x_of_match.some((c) => k.of_device_is_compatible(np, c));
}

/** tegra_dev_iommu_get_stream_id() (include/linux/iommu.h): exactly one ID, its low 16 bits */
function tegra_dev_iommu_get_stream_id(k: KernelSymbols, dev: device): number | null {
  const fwspec = k.dev_iommu_fwspec_get(dev);
  return fwspec && fwspec.ids.length === 1 ? fwspec.ids[0]! & 0xffff : null;
}

/** One context device: named, masked, added, then configured by the driver against host1x's
 *  node with its index as the input id. 0 or a negative errno (the device is gone then). */
function host1x_memory_context_init(k: KernelSymbols, host1x: device, i: number): host1x_memory_context | number {
  const s = statics(k);
  const dev = k.kzalloc_device();
  k.device_initialize(dev);
  // "Due to an issue with T194 NVENC, only 38 bits can be used."
  dev.dma_mask = k.DMA_BIT_MASK(38);
  dev.coherent_dma_mask = dev.dma_mask;
  k.dev_set_name(dev, `host1x-ctx.${i}`);
  dev.bus = s.host1x_context_device_bus_type;
  dev.parent = host1x;
  // the context device is freed with the list, in host1x_memory_context_list_free()
  dev.release = () => {};
  // ctx->dev.dma_parms = &ctx->dma_parms: the struct embeds them
  dev.dma_parms = { max_segment_size: 0 };
  k.dma_set_max_seg_size(dev, 0xffffffff);
  let err = k.device_add(dev);
  if (err) {
    k.dev_err(host1x, `could not add context device ${i}: ${err}`);
    k.put_device(dev);
    return err;
  }
  err = k.of_dma_configure_id(dev, host1x.of_node!, true, i);
  if (err) {
    k.dev_err(host1x, `IOMMU configuration failed for context device ${i}: ${err}`);
    k.device_unregister(dev);
    return err;
  }
  const stream_id = tegra_dev_iommu_get_stream_id(k, dev);
  if (stream_id === null || !k.device_iommu_mapped(dev)) {
    k.dev_err(host1x, `Context device ${i} has no IOMMU!`);
    k.device_unregister(dev);
    return -k.errno.EINVAL;
  }
  return { dev, owned: false, ref: 0, stream_id };
}

/** host1x_memory_context_list_init(): one context per iommu-map entry (4 cells each) */
function host1x_memory_context_list_init(k: KernelSymbols, host1x: device): number {
  const s = statics(k);
  const cells = k.of_property_count_u32_elems(host1x.of_node!, 'iommu-map');
  if (cells < 0) return 0;
  const len = Math.floor(cells / 4);
  const devs: host1x_memory_context[] = [];
  for (let i = 0; i < len; i++) {
    const ctx = host1x_memory_context_init(k, host1x, i);
    if (typeof ctx === 'number') {
      // unreg_devices: the ones made so far, newest first
      for (const made of devs.reverse()) k.device_unregister(made.dev);
      return ctx;
    }
    devs.push(ctx);
  }
  s.context_lists.set(host1x, devs);
  for (const ctx of devs) s.contexts.set(ctx.dev, ctx);
  return 0;
}

/** host1x_memory_context_list_free(): unregister every context, drop the list */
function host1x_memory_context_list_free(k: KernelSymbols, host1x: device): void {
  const s = statics(k);
  const devs = s.context_lists.get(host1x) ?? [];
  s.context_lists.delete(host1x);
  for (const ctx of devs) {
    k.device_unregister(ctx.dev);
    s.contexts.delete(ctx.dev);
  }
}

/**
 * host1x_memory_context_alloc(): the C takes any free context on the client's IOMMU, or the
 * one its process already owns; the harness asks for a given input id, which is the index of
 * the context made for it.
 */
function host1x_memory_context_alloc(k: KernelSymbols, host1x: device, request: ContextRequest): CreateResult {
  const devs = statics(k).context_lists.get(host1x);
  if (!devs?.length) return -k.errno.EOPNOTSUPP;
  const id = request.id!;
  if (id >= devs.length) {
    return { unsupported: `host1x makes one context per iommu-map entry at probe (${devs.length} here); input id ${id} has none, and host1x_memory_context_alloc() hands out only those` };
  }
  const ctx = devs[id]!;
  if (ctx.owned) return -k.errno.EBUSY;
  ctx.owned = true;
  ctx.ref = 1;
  return ctx.dev;
}

/** host1x_memory_context_put(): the last reference frees the context for the next owner */
function host1x_memory_context_put(ctx: host1x_memory_context): void {
  if (--ctx.ref === 0) ctx.owned = false;
}

const variant: Variant = {
  name: 'host1x-context-bus',
  summary: 'Mainline host1x: a callback-less bus in iommu_buses, contexts made at probe from iommu-map and configured by the driver',
  series: [
    { subject: '[PATCH v3 2/9] gpu: host1x: Add context bus (Mikko Perttunen, Feb 2022; mainline as 597b89d30b42, drivers/gpu/host1x/context_bus.c)', link: 'https://lore.kernel.org/all/20220218113952.3077606-3-mperttunen@nvidia.com/' },
    { subject: '[PATCH v3 3/9] gpu: host1x: Add context device management code (mainline drivers/gpu/host1x/context.c)', link: 'https://lore.kernel.org/all/20220218113952.3077606-4-mperttunen@nvidia.com/' },
  ],
  expect: 'works',
  boot(k) {
    const s = statics(k);
    // host1x_context_device_bus_init() (postcore_initcall)
    const err = k.bus_register(s.host1x_context_device_bus_type);
    if (err < 0) k.dev_err(null, `bus type registration failed: ${err}`);
    k.EXPORT_SYMBOL_GPL('host1x_context_device_bus_type');
    // mainline's own iommu_buses[] slot (CONFIG_TEGRA_HOST1X_CONTEXT_BUS): not a new edit
    k.iommu_buses_add(s.host1x_context_device_bus_type, 'CONFIG_TEGRA_HOST1X_CONTEXT_BUS, mainline');
  },
  probe(k, parent) {
    // host1x_probe() makes the list; the driver binds to host1x only
    if (!is_host1x(k, parent)) return 0;
    return host1x_memory_context_list_init(k, parent);
  },
  create_context(k, parent, request): CreateResult {
    if (!is_host1x(k, parent)) {
      const compat = parent.of_node ? k.of_find_property(parent.of_node, 'compatible')?.strings?.[0] ?? '?' : '?';
      return { unsupported: `host1x's context code lives in the host1x driver, which binds only to NVIDIA host1x; "${compat}" would need the same code in its own driver (or a shared bus) and its own iommu_buses[] entry` };
    }
    if (request.id === null) {
      return { unsupported: 'host1x makes its contexts from the iommu-map of its own node; a context described by a DT child node has no place in its context list' };
    }
    return host1x_memory_context_alloc(k, parent, request);
  },
  destroy_context(k, dev) {
    const ctx = statics(k).contexts.get(dev);
    if (ctx) host1x_memory_context_put(ctx);
  },
  remove(k, parent) {
    host1x_memory_context_list_free(k, parent);
  },
};

export default variant;
