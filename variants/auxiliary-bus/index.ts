// Context devices as auxiliary devices (drivers/base/auxiliary.c), the alternative Greg
// Kroah-Hartman asked about in April 2026. The parent driver makes one auxiliary device per
// context with auxiliary_device_init() / auxiliary_device_add() and gives it a DMA mask. The
// auxiliary bus has no .dma_configure and is not in iommu_buses[], and iommu_release_device()
// is static: nothing in the kernel gives these devices an IOMMU context.
import type { CreateResult, KernelSymbols, Variant, device } from '../../harness/variant.ts';

interface Statics {
  /** the ida the parent driver numbers its auxiliary devices with */
  next_id: number;
  /** auxiliary_device of each context device */
  auxdevs: Map<device, ReturnType<KernelSymbols['kzalloc_auxiliary_device']>>;
}

function statics(k: KernelSymbols): Statics {
  return k.module_static<Statics>(() => ({ next_id: 0, auxdevs: new Map() }));
}

const variant: Variant = {
  name: 'auxiliary-bus',
  summary: 'Contexts as auxiliary devices: no .dma_configure, not in iommu_buses, so no IOMMU context',
  series: [
    { subject: 'Re: [PATCH v2 02/13] drivers: base: Add generic dma context bus (Greg Kroah-Hartman: why not the auxiliary bus?)', link: 'https://lore.kernel.org/all/2026042428-blemish-helpline-7d8d@gregkh/' },
    { subject: 'Re: [PATCH v2 02/13] (Vishnu Reddy: aux bus has no .dma_configure and is not in iommu_buses)', link: 'https://lore.kernel.org/all/1e039dd5-da3f-19b2-ef98-29e64fdd925d@oss.qualcomm.com/' },
    { subject: 'Re: [PATCH v2 02/13] (Greg Kroah-Hartman: agreed, make a custom bus type instead)', link: 'https://lore.kernel.org/all/2026042442-luxurious-antonym-f20c@gregkh/' },
  ],
  expect: 'fails',
  boot() {
    // nothing to register: the auxiliary bus is part of the driver core
  },
  create_context(k, parent, request): CreateResult {
    const s = statics(k);
    const auxdev = k.kzalloc_auxiliary_device(request.name, s.next_id++, parent);
    auxdev.dev.release = () => { /* kfree(auxdev) */ };
    let ret = k.auxiliary_device_init(auxdev);
    if (ret) return ret;
    // the parent driver points dma_mask at the coherent mask, as drivers with bare devices do
    auxdev.dev.dma_mask = 0n;
    k.dma_set_mask_and_coherent(auxdev.dev, request.dma_mask);
    auxdev.dev.platform_data = request.id;
    ret = k.auxiliary_device_add(auxdev, parent.driver?.name ?? 'ctx');
    if (ret) {
      k.auxiliary_device_uninit(auxdev);
      return ret;
    }
    s.auxdevs.set(auxdev.dev, auxdev);
    return auxdev.dev;
  },
  destroy_context(k, dev) {
    const auxdev = statics(k).auxdevs.get(dev);
    if (!auxdev) return;
    statics(k).auxdevs.delete(dev);
    k.auxiliary_device_delete(auxdev);
    k.auxiliary_device_uninit(auxdev);
  },
};

export default variant;
