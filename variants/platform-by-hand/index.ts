// kaanapali-iris v1 patch 5/7 (26 Jan 2026), "media: iris: add context bank devices using
// iommu-map": each context bank is a platform device the driver allocates and adds without a
// DT node, then configures itself with of_dma_configure_id() on the parent's node and the
// bank's function id, and gives a DMA mask. No driver ever binds to it; it is unregistered as
// a platform device. Robin Murphy NAKed it the next day; mechanically it works, because the
// platform bus is in iommu_buses[] and so releases the IOMMU state at unregister.
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

type platform_device = ReturnType<KernelSymbols['platform_device_alloc']>;

interface Statics {
  /** cb->dev of each context bank: to_platform_device() for the unregister */
  pdevs: Map<device, platform_device>;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({ pdevs: new Map() }));
}

/** The bank's IOMMU set-up, made by the driver: the parent's iommu-map with the function id,
 *  or (the same pattern for a bank described by a child node) that node's own iommus. */
function configure_context_bank(k: KernelSymbols, pdev: platform_device, parent: device, request: ContextRequest): number {
  if (request.node) return k.of_dma_configure(pdev.dev, request.node, true);
  if (!parent.of_node) return -k.errno.ENODEV;
  return k.of_dma_configure_id(pdev.dev, parent.of_node, true, request.id);
}

/** iris_create_child_device_and_map() */
function iris_create_child_device_and_map(k: KernelSymbols, parent: device, request: ContextRequest): device | number {
  const pdev = k.platform_device_alloc(request.name, 0);
  // v1 leaves dev.parent NULL (the bank sits under /sys/devices/platform); the contract wants
  // a context under its parent, and nothing the IOMMU does depends on it
  pdev.dev.parent = parent;
  let ret = k.platform_device_add(pdev);
  if (ret) {
    k.platform_device_put(pdev);
    return ret;
  }
  ret = configure_context_bank(k, pdev, parent, request);
  if (!ret) ret = k.dma_set_mask_and_coherent(pdev.dev, request.dma_mask);
  if (ret) {
    // error_unregister
    k.platform_device_unregister(pdev);
    return ret;
  }
  statics(k).pdevs.set(pdev.dev, pdev);
  return pdev.dev;
}

const variant: Variant = {
  name: 'platform-by-hand',
  summary: 'kaanapali-iris v1: driver-made platform devices without DT nodes, configured with of_dma_configure_id from the driver',
  series: [
    { subject: '[PATCH 5/7] media: iris: add context bank devices using iommu-map', link: 'https://lore.kernel.org/all/20260126-kaanapali-iris-v1-5-e2646246bfc1@oss.qualcomm.com/' },
    { subject: 'Re: [PATCH 5/7] (Robin Murphy: of_dma_configure is for bus code; NAK)', link: 'https://lore.kernel.org/all/02b3d0f5-f94c-43cd-93af-97cfcf7751b1@arm.com/' },
  ],
  expect: 'works',
  boot() {
    // nothing: the platform bus is built in and in iommu_buses[]
  },
  create_context(k, parent, request): CreateResult {
    return iris_create_child_device_and_map(k, parent, request);
  },
  destroy_context(k, dev) {
    const pdev = statics(k).pdevs.get(dev);
    if (!pdev) return;
    statics(k).pdevs.delete(dev);
    // iris_remove(): platform_device_unregister(to_platform_device(dev))
    k.platform_device_unregister(pdev);
  },
};

export default variant;
