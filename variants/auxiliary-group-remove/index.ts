// auxiliary-by-hand plus the one call that undoes its hand-made IOMMU probe: the parent driver
// calls iommu_group_remove_device() on each context before auxiliary_device_delete(). That
// EXPORT_SYMBOL_GPL is documented as "called by an iommu driver"; from a client driver it
// reaches __iommu_group_remove_device() -> iommu_deinit_device(), which releases the device
// from the IOMMU fully, as iommu_release_device() would have. Mechanically it works.
import type { ContextRequest, CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

type auxiliary_device = ReturnType<KernelSymbols['kzalloc_auxiliary_device']>;

interface Statics {
  /** the ida the parent driver numbers its auxiliary devices with */
  next_id: number;
  /** container_of(dev, struct auxiliary_device, dev) */
  auxdevs: Map<device, auxiliary_device>;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({ next_id: 0, auxdevs: new Map() }));
}

/** The context's IOMMU set-up, made by the parent driver once the device is added. */
function configure_context(k: KernelSymbols, dev: device, parent: device, request: ContextRequest): number {
  if (request.node) return k.of_dma_configure(dev, request.node, true);
  if (!parent.of_node) return -k.errno.ENODEV;
  return k.of_dma_configure_id(dev, parent.of_node, true, request.id);
}

function ctx_auxdev_create(k: KernelSymbols, parent: device, request: ContextRequest): device | number {
  const s = statics(k);
  const auxdev = k.kzalloc_auxiliary_device(request.name, s.next_id++, parent);
  auxdev.dev.release = () => { /* kfree(auxdev) */ };
  let ret = k.auxiliary_device_init(auxdev);
  if (ret) return ret;
  // the driver provides the mask storage, as drivers with bare devices do
  auxdev.dev.dma_mask = request.dma_mask;
  auxdev.dev.coherent_dma_mask = request.dma_mask;
  ret = k.auxiliary_device_add(auxdev, parent.driver?.name ?? 'ctx');
  if (ret) {
    k.auxiliary_device_uninit(auxdev);
    return ret;
  }
  ret = configure_context(k, auxdev.dev, parent, request);
  if (!ret) ret = k.dma_set_mask_and_coherent(auxdev.dev, request.dma_mask);
  if (ret) {
    k.iommu_group_remove_device(auxdev.dev);
    k.auxiliary_device_delete(auxdev);
    k.auxiliary_device_uninit(auxdev);
    return ret;
  }
  s.auxdevs.set(auxdev.dev, auxdev);
  return auxdev.dev;
}

const variant: Variant = {
  name: 'auxiliary-group-remove',
  summary: 'auxiliary-by-hand plus iommu_group_remove_device() from the client driver before auxiliary_device_delete()',
  series: [
    { subject: 'iommu_group_remove_device() (drivers/iommu/iommu.c, EXPORT_SYMBOL_GPL; its kernel-doc: "called by an iommu driver")', link: 'https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/drivers/iommu/iommu.c' },
    { subject: 'Re: [PATCH v2 02/13] drivers: base: Add generic dma context bus (Greg Kroah-Hartman: why not the auxiliary bus?)', link: 'https://lore.kernel.org/all/2026042428-blemish-helpline-7d8d@gregkh/' },
    { subject: 'Re: [PATCH v2 02/13] (Vishnu Reddy: aux bus has no .dma_configure, is not in iommu_buses, iommu_release_device is static)', link: 'https://lore.kernel.org/all/1e039dd5-da3f-19b2-ef98-29e64fdd925d@oss.qualcomm.com/' },
    { subject: 'Re: [PATCH 5/7] media: iris: add context bank devices using iommu-map (Robin Murphy: of_dma_configure is for bus code)', link: 'https://lore.kernel.org/all/02b3d0f5-f94c-43cd-93af-97cfcf7751b1@arm.com/' },
  ],
  expect: 'works',
  boot() {
    // nothing to register: the auxiliary bus is part of the driver core
  },
  create_context(k, parent, request): CreateResult {
    return ctx_auxdev_create(k, parent, request);
  },
  destroy_context(k, dev) {
    const auxdev = statics(k).auxdevs.get(dev);
    if (!auxdev) return;
    statics(k).auxdevs.delete(dev);
    // what no notifier of the auxiliary bus does: take the device out of the IOMMU
    k.iommu_group_remove_device(dev);
    k.auxiliary_device_delete(auxdev);
    k.auxiliary_device_uninit(auxdev);
  },
};

export default variant;
