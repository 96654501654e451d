// Pins down the DMA API as modelled in dma-mapping.ts and iommu/dma-iommu.ts:
// kernel/dma/mapping.c dma_map_page_attrs() (the NULL dma_mask WARN), kernel/dma/direct.c
// (the DMA address is the physical address, checked by dma_capable() against the mask and
// bus_dma_limit), and drivers/iommu/dma-iommu.c (IOVA allocated top-down below the device's
// limit, mapped through the domain; unmap invalidates the IOTLB in strict mode before the
// IOVA is freed). kernel-model.md "Choices" and 2.9.
import { describe, expect, it } from 'vitest';
import type { Kernel } from './kernel.ts';
import type { device } from './base/device.ts';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, dma_map_single, dma_mapping_error, dma_set_mask_and_coherent, dma_unmap_single } from './dma-mapping.ts';
import { iommu_from_fwnode } from './iommu/iommu.ts';
import { arm_smmu_from_iommu } from './iommu/arm-smmu.ts';
import { SMMU_FAULT_TRANSLATION, SMMU_FAULT_UNIDENTIFIED_STREAM, smmu_hw_translate } from './iommu/arm-smmu-hw.ts';
import { boot_dts, events_typed, node, pdev_of, test_device, warnings, SMMU_CLIENT_DTS } from './test-helpers.ts';

const DTS = `${SMMU_CLIENT_DTS}
  plain: plain@b000000 {
      compatible = "test,plain";
  };`;

const RAM = 0x8000_0000;
const SZ_4K = 0x1000;

/** One device transaction into the SMMU's input port (the hardware, not Linux): the physical
 *  address reached, or a negative SMMU_FAULT_* code after the SMMU raised the fault. */
function transaction(k: Kernel, sid: number, iova: number, write: boolean): number {
  const smmu = arm_smmu_from_iommu(iommu_from_fwnode(k, node(k, 'smmu'))!)!;
  return smmu_hw_translate(smmu.hw, sid, iova, write);
}

function bench(): { k: Kernel; client: device; plain: device } {
  const k = boot_dts(DTS);
  return { k, client: pdev_of(k, 'client'), plain: pdev_of(k, 'plain') };
}

describe('dma-direct (kernel/dma/direct.c)', () => {
  it('dma_direct_map_page(): a device without an IOMMU gets the physical address as its DMA address (kernel/dma/direct.c)', () => {
    const { k, plain } = bench();
    expect(plain.dma_ops).toBe('direct');
    expect(plain.iommu_group).toBeNull();
    const from = k.log.events.length;
    expect(dma_map_single(k, plain, RAM + 0x1234, 0x100, 'DMA_TO_DEVICE')).toBe(RAM + 0x1234);
    expect(events_typed(k, 'dma_map', from)).toMatchObject([{ devid: plain.devid, phys: RAM + 0x1234, dma: RAM + 0x1234, path: 'direct' }]);
    // unmapping is a no-op for dma-direct (no swiotlb here)
    dma_unmap_single(k, plain, RAM + 0x1234, 0x100, 'DMA_TO_DEVICE');
    expect(warnings(k)).toEqual([]);
  });

  it('dma_capable(): a buffer whose last byte is beyond the DMA mask is refused with DMA_MAPPING_ERROR (kernel/dma/direct.h, kernel/dma/direct.c)', () => {
    const { k, plain } = bench();
    // the platform default mask is 32 bits: the last byte must be <= 0xffffffff
    expect(dma_map_single(k, plain, 0xffff_f000, SZ_4K, 'DMA_FROM_DEVICE')).toBe(0xffff_f000);
    const from = k.log.events.length;
    expect(dma_map_single(k, plain, 0xffff_f000, SZ_4K + 1, 'DMA_FROM_DEVICE')).toBe(DMA_MAPPING_ERROR);
    expect(dma_map_single(k, plain, 0x1_0000_0000, SZ_4K, 'DMA_FROM_DEVICE')).toBe(DMA_MAPPING_ERROR);
    expect(dma_mapping_error(DMA_MAPPING_ERROR)).toBe(true);
    expect(events_typed(k, 'printk', from).filter((e) => e.level === 'err' && e.message.includes('overflow'))).toHaveLength(2);
    expect(events_typed(k, 'dma_map', from)).toEqual([]);
    // a wider mask reaches it
    expect(dma_set_mask_and_coherent(plain, DMA_BIT_MASK(36))).toBe(0);
    expect(dma_map_single(k, plain, 0x1_0000_0000, SZ_4K, 'DMA_FROM_DEVICE')).toBe(0x1_0000_0000);
  });

  it('dma_capable(): bus_dma_limit, when set, limits below the mask (kernel/dma/direct.h)', () => {
    const { k, plain } = bench();
    plain.bus_dma_limit = 0xbfff_ffffn;
    expect(dma_map_single(k, plain, 0xbfff_f000, SZ_4K, 'DMA_TO_DEVICE')).toBe(0xbfff_f000);
    expect(dma_map_single(k, plain, 0xc000_0000, SZ_4K, 'DMA_TO_DEVICE')).toBe(DMA_MAPPING_ERROR);
  });
});

describe('dma-iommu (drivers/iommu/dma-iommu.c)', () => {
  it('iommu_dma_alloc_iova(): IOVA is allocated top-down from the device\'s DMA limit, size-aligned, and keeps the offset within the page (drivers/iommu/dma-iommu.c, drivers/iommu/iova.c)', () => {
    const { k, client } = bench();
    expect(client.dma_ops).toBe('iommu');
    const a = dma_map_single(k, client, RAM, SZ_4K, 'DMA_BIDIRECTIONAL');
    const b = dma_map_single(k, client, RAM + 0x10_0000, SZ_4K, 'DMA_BIDIRECTIONAL');
    const c = dma_map_single(k, client, RAM + 0x20_0000, 4 * SZ_4K, 'DMA_BIDIRECTIONAL');
    const d = dma_map_single(k, client, RAM + 0x30_0010, 0x20, 'DMA_BIDIRECTIONAL');
    // the 32-bit platform default mask: the first page is the top page below 4 GiB
    expect(a).toBe(0xffff_f000);
    expect(b).toBe(0xffff_e000);
    expect(c).toBeLessThan(b);
    expect(c % (4 * SZ_4K)).toBe(0);
    expect(d % SZ_4K).toBe(0x10);
    expect(d).toBeLessThan(c);
    for (const e of events_typed(k, 'dma_map')) {
      if (e.devid === client.devid) expect(e.path).toBe('iommu');
    }
  });

  it('iommu_dma_alloc_iova(): a narrower DMA mask moves the IOVA below it (drivers/iommu/dma-iommu.c)', () => {
    const { k, client } = bench();
    expect(dma_set_mask_and_coherent(client, DMA_BIT_MASK(28))).toBe(0);
    const iova = dma_map_single(k, client, RAM + 0x5000, SZ_4K, 'DMA_TO_DEVICE');
    expect(iova).toBe(0x0fff_f000);
  });

  it('__iommu_dma_map(): the SMMU translates the IOVA from the device\'s stream to the buffer (drivers/iommu/dma-iommu.c, drivers/iommu/arm/arm-smmu/arm-smmu.c)', () => {
    const { k, client } = bench();
    const iova = dma_map_single(k, client, RAM + 0x7000 + 0x80, 0x100, 'DMA_BIDIRECTIONAL');
    expect(transaction(k, 0x100, iova, true)).toBe(RAM + 0x7080);
    // another stream ID reaches nothing: unidentified stream with bypass off
    expect(transaction(k, 0x101, iova, false)).toBe(SMMU_FAULT_UNIDENTIFIED_STREAM);
  });

  it('__iommu_dma_unmap(): unmap invalidates the IOTLB before freeing the IOVA, so a DMA through the SMMU after unmap faults (drivers/iommu/dma-iommu.c strict mode, drivers/iommu/iommu.c iommu_unmap)', () => {
    const { k, client } = bench();
    const iova = dma_map_single(k, client, RAM + 0x9000, SZ_4K, 'DMA_BIDIRECTIONAL');
    // a first transaction fills the IOTLB with the translation; the second hits it
    const hw = arm_smmu_from_iommu(iommu_from_fwnode(k, node(k, 'smmu'))!)!.hw;
    expect(transaction(k, 0x100, iova, false)).toBe(RAM + 0x9000);
    const hits = hw.iotlb_hits;
    expect(transaction(k, 0x100, iova + 0x10, false)).toBe(RAM + 0x9010);
    expect(hw.iotlb_hits).toBe(hits + 1);
    const from = k.log.events.length;
    dma_unmap_single(k, client, iova, SZ_4K, 'DMA_BIDIRECTIONAL');
    const kinds = k.log.events.slice(from).map((e) => e.type);
    expect(kinds.indexOf('unmap')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('tlb_inv')).toBeGreaterThan(kinds.indexOf('unmap'));
    expect(kinds.indexOf('iova_free')).toBeGreaterThan(kinds.indexOf('tlb_inv'));
    expect(transaction(k, 0x100, iova, false)).toBe(SMMU_FAULT_TRANSLATION);
    expect(events_typed(k, 'fault', from)).toMatchObject([{ kind: 'context', sid: 0x100, iova }]);
    expect(events_typed(k, 'fault', from)[0]?.message).toMatch(/^Unhandled context fault: fsr=0x402, iova=0x/);
    expect(warnings(k)).toEqual([]);
  });

  it('iommu_dma_free_iova(): an unmapped IOVA is given back and handed out again (drivers/iommu/dma-iommu.c, drivers/iommu/iova.c)', () => {
    const { k, client } = bench();
    const first = dma_map_single(k, client, RAM, SZ_4K, 'DMA_TO_DEVICE');
    dma_unmap_single(k, client, first, SZ_4K, 'DMA_TO_DEVICE');
    expect(dma_map_single(k, client, RAM + SZ_4K, SZ_4K, 'DMA_TO_DEVICE')).toBe(first);
  });
});

describe('dma_map_page_attrs() (kernel/dma/mapping.c)', () => {
  it('dma_map_page_attrs(): a device whose dma_mask pointer is NULL WARNs and gets DMA_MAPPING_ERROR (kernel/dma/mapping.c)', () => {
    const { k } = bench();
    const bare = test_device(k, { name: 'bare', bus: null, dma_bits: null });
    expect(bare.dma_mask).toBeNull();
    const from = k.log.events.length;
    expect(dma_map_single(k, bare, RAM, SZ_4K, 'DMA_TO_DEVICE')).toBe(DMA_MAPPING_ERROR);
    expect(warnings(k, from)).toEqual(['dma_map_page_attrs: device has no DMA mask (dev->dma_mask is NULL)']);
    expect(events_typed(k, 'dma_map', from)).toEqual([]);
  });
});
