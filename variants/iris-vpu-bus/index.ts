// The per-driver bus of "glymur" v5/v6 (drivers/media/platform/qcom/iris/iris_vpu_bus.c)
// applied to every driver that needs context devices: each driver owns a built-in bus with
// its own .dma_configure, create helper and iommu_buses[] entry. Iris and host1x pass a
// function id through platform_data and map it with the parent's iommu-map; QDA's
// "qda-compute-cb" bus (QDA series, May 2026) configures the compute-cb's own node.
// The parent's compatible decides which driver, and so which bus, serves it.
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

/** Where a bus's .dma_configure finds the stream IDs of a context. */
type NodeSource = 'parent-iommu-map' | 'own-node';

interface DriverBus {
  /** the driver that owns the bus, and the compatibles its of_match_table lists */
  driver: string;
  compatibles: string[];
  bus: { name: string; dma_configure: (dev: device) => number };
  source: NodeSource;
  config: string;
  /** create helper, as exported by the series */
  helper: string;
  /** dev_name() of the n-th device */
  dev_name: (request: ContextRequest, n: number) => string;
  created: number;
}

/** .dma_configure of a bus in this pattern */
function vpu_bus_dma_configure(k: KernelSymbols, dev: device, source: NodeSource): number {
  if (source === 'own-node') {
    if (!dev.of_node) return -k.errno.ENODEV;
    return k.of_dma_configure(dev, dev.of_node, true);
  }
  const iommu_fid = k.dev_get_platdata(dev) as number | null;
  if (iommu_fid === null || !dev.parent?.of_node) return -k.errno.ENODEV;
  return k.of_dma_configure_id(dev, dev.parent.of_node, true, iommu_fid);
}

function driver_bus(k: KernelSymbols, spec: Omit<DriverBus, 'bus' | 'created'> & { bus_name: string }): DriverBus {
  const { bus_name, ...rest } = spec;
  return { ...rest, created: 0, bus: { name: bus_name, dma_configure: (dev) => vpu_bus_dma_configure(k, dev, spec.source) } };
}

function statics(k: KernelSymbols): DriverBus[] {
  return k.module_static<DriverBus[]>(() => [
    driver_bus(k, {
      driver: 'iris', bus_name: 'iris-vpu-bus', source: 'parent-iommu-map', config: 'CONFIG_QCOM_IRIS_VPU_BUS',
      compatibles: ['qcom,sm8250-venus', 'qcom,sm8550-iris', 'qcom,sm8650-iris', 'qcom,sm8750-iris', 'qcom,x1e80100-iris', 'qcom,qcs8300-iris', 'qcom,kaanapali-iris', 'qcom,glymur-iris'],
      helper: 'iris_vpu_bus_create_device', dev_name: (r) => r.name,
    }),
    driver_bus(k, {
      driver: 'host1x', bus_name: 'host1x-context', source: 'parent-iommu-map', config: 'CONFIG_TEGRA_HOST1X_CONTEXT_BUS',
      compatibles: ['nvidia,tegra186-host1x', 'nvidia,tegra194-host1x', 'nvidia,tegra234-host1x'],
      helper: 'host1x_context_bus_create_device', dev_name: (_r, n) => `host1x-ctx.${n}`,
    }),
    driver_bus(k, {
      driver: 'qda', bus_name: 'qda-compute-cb', source: 'own-node', config: 'CONFIG_DRM_ACCEL_QDA_COMPUTE_BUS',
      compatibles: ['qcom,fastrpc'],
      helper: 'create_qda_cb_device', dev_name: (r) => `qda-cb-${r.name}`,
    }),
  ]);
}

function bus_for_parent(k: KernelSymbols, parent: device): DriverBus | null {
  const np = parent.of_node;
  return statics(k).find((b) => np !== null && b.compatibles.some((c) => k.of_device_is_compatible(np, c))) ?? null;
}

/** The create helper of each bus: a bare device, named, masked, registered. */
function vpu_bus_create_device(k: KernelSymbols, b: DriverBus, parent: device, request: ContextRequest): device | number {
  const dev = k.kzalloc_device();
  dev.release = () => { /* kfree(dev) */ };
  dev.bus = b.bus;
  dev.parent = parent;
  dev.coherent_dma_mask = request.dma_mask;
  dev.dma_mask = request.dma_mask;
  if (b.source === 'own-node') dev.of_node = k.of_node_get(request.node);
  else dev.platform_data = request.id;
  k.dev_set_name(dev, b.dev_name(request, b.created++));
  const ret = k.device_register(dev);
  if (ret) {
    k.put_device(dev);
    return ret;
  }
  return dev;
}

function unsupported_request(b: DriverBus, request: ContextRequest): string | null {
  if (b.source === 'own-node' && !request.node) return `${b.bus.name} configures a context from its own DT node; an iommu-map function id needs another bus and another iommu_buses[] entry`;
  if (b.source === 'parent-iommu-map' && request.id === null) return `${b.bus.name} takes a function id through the parent's iommu-map; a context described by its own DT node needs another bus and another iommu_buses[] entry`;
  return null;
}

const variant: Variant = {
  name: 'iris-vpu-bus',
  summary: 'One built-in bus per driver (Iris, host1x, QDA), each with .dma_configure, a create helper and its own iommu_buses entry',
  series: [
    { subject: '[PATCH v6 01/14] media: iris: Add iris vpu bus support', link: 'https://lore.kernel.org/all/20260515-glymur-v6-1-f6a99cb43a24@oss.qualcomm.com/' },
    { subject: '[PATCH v8 02/12] iommu: Add iris-vpu-bus to iommu_buses', link: 'https://lore.kernel.org/all/20260610-glymur-v8-2-1c79b9d51fc0@oss.qualcomm.com/' },
    { subject: 'QDA series v1 04/15: the qda-compute-cb bus with .dma_configure and create_qda_cb_device()', link: 'https://lore.kernel.org/all/20260519-qda-series-v1-4-b2d984c297f8@oss.qualcomm.com/' },
    { subject: 'QDA series v1 05/15: add qda-compute-cb to iommu_buses', link: 'https://lore.kernel.org/all/20260519-qda-series-v1-5-b2d984c297f8@oss.qualcomm.com/' },
  ],
  expect: 'works',
  boot(k) {
    for (const b of statics(k)) {
      k.bus_register(b.bus);
      k.EXPORT_SYMBOL_GPL(b.helper);
      k.iommu_buses_add(b.bus, b.config);
    }
  },
  create_context(k, parent, request): CreateResult {
    const b = bus_for_parent(k, parent);
    if (!b) {
      const compat = parent.of_node ? k.of_find_property(parent.of_node, 'compatible')?.strings?.[0] ?? '?' : '?';
      return { unsupported: `no bus serves a parent with compatible "${compat}": it needs a new bus of its own and a new iommu_buses[] entry in drivers/iommu/iommu.c` };
    }
    const why = unsupported_request(b, request);
    if (why) return { unsupported: why };
    return vpu_bus_create_device(k, b, parent, request);
  },
  destroy_context(k, dev) {
    k.device_unregister(dev);
    k.of_node_put(dev.of_node);
  },
};

export default variant;
