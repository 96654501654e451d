// Context devices as DT child nodes on the platform bus: the design the threads settled on in
// July 2026 ("vpu_iommu_iova_handling" RFC, glymur v9). Each context is a child node with its
// own `iommus`, registered as a platform device under its parent; the platform bus's own
// .dma_configure gives it its IOMMU context. No new bus, no core edit; a context named only by
// an iommu-map function id has no place here until the device tree describes it as a node.
import type { CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

interface Statics {
  /** the platform_device of each context device */
  pdevs: Map<device, ReturnType<KernelSymbols['platform_device_alloc']>>;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({ pdevs: new Map() }));
}

const variant: Variant = {
  name: 'platform-subnodes',
  summary: 'Contexts as DT child nodes with their own iommus, registered as platform devices (no new bus)',
  series: [
    { subject: '[RFC PATCH 00/11] media: iris: describe the VPU streams as DT sub-nodes (vpu_iommu_iova_handling)', link: 'https://lore.kernel.org/all/20260709-vpu_iommu_iova_handling-v1-0-72bb62cb2dfd@oss.qualcomm.com/' },
    { subject: '[PATCH v9 00/14] glymur: drop the iris VPU bus, use sub-nodes', link: 'https://lore.kernel.org/all/20260715-glymur-v9-0-8cf2cbe12a07@oss.qualcomm.com/' },
  ],
  expect: 'works',
  boot() {
    // the platform bus is built in and already in iommu_buses[]
  },
  create_context(k, parent, request): CreateResult {
    if (!request.node) {
      return { unsupported: 'the context is named by an iommu-map function id; this design needs it described as a DT child node with its own iommus (a device-tree change)' };
    }
    // platform_device_register_full() with the child's fwnode, as iris_create_cb_dev() does
    const pdev = k.platform_device_alloc(request.name, -1);
    pdev.dev.parent = parent;
    pdev.dev.of_node = k.of_node_get(request.node);
    pdev.dev.coherent_dma_mask = request.dma_mask;
    pdev.dev.dma_mask = request.dma_mask;
    const ret = k.platform_device_add(pdev);
    if (ret) {
      k.platform_device_put(pdev);
      return ret;
    }
    statics(k).pdevs.set(pdev.dev, pdev);
    return pdev.dev;
  },
  destroy_context(k, dev) {
    const pdev = statics(k).pdevs.get(dev);
    if (!pdev) return;
    statics(k).pdevs.delete(dev);
    k.platform_device_unregister(pdev);
  },
};

export default variant;
