// Kernel misuse is a finding, not a crash: what the C kernel WARNs about or oopses on is
// recorded as a 'warn' event with the kernel's message, and the model carries on. Through the
// exported-symbol table (what a variant can do): registering a device twice, a reference count
// going below zero, using a device after its release. Below it (no exported symbol reaches
// them; the harness's own replay or a future export could): freeing a domain still attached,
// unmapping what was never mapped. The end-to-end side (a variant doing this is a `fail` with
// a 'kernel-warning' failure) is in test/isolation.test.ts.
import { describe, expect, it } from 'vitest';
import type { Kernel } from './kernel.ts';
import type { device } from './base/device.ts';
import { kernel_symbols } from './exports.ts';
import { DMA_MAPPING_ERROR, dma_map_single, dma_unmap_single } from './dma-mapping.ts';
import { EINVAL } from './errno.ts';
import { iommu_domain_free } from './iommu/iommu.ts';
import { boot_dts, pdev_of, test_bus, warnings, SMMU_CLIENT_DTS } from './test-helpers.ts';

const DTS = SMMU_CLIENT_DTS;

const RAM = 0x8000_0000;
const SZ_4K = 0x1000;

/** A kernel, its exported symbols, and a registered device on a bus of its own. */
function registered(): { k: Kernel; syms: ReturnType<typeof kernel_symbols>; dev: device } {
  const bus = test_bus('misuse-bus');
  let syms: ReturnType<typeof kernel_symbols> | null = null;
  const k = boot_dts(DTS, { postcore_initcall: (kk) => { syms = kernel_symbols(kk); syms.bus_register(bus); } });
  const s = syms!;
  const dev = s.kzalloc_device();
  dev.bus = bus;
  dev.release = () => {};
  s.dev_set_name(dev, 'ctx0');
  expect(s.device_register(dev)).toBe(0);
  expect(warnings(k)).toEqual([]);
  return { k, syms: s, dev };
}

describe('device lifecycle misuse through the exported symbols (drivers/base/core.c, lib/refcount.c)', () => {
  it('device_add() of a registered device WARNs (kobject_add_internal: already registered) and fails with -EINVAL', () => {
    const { k, syms, dev } = registered();
    expect(syms.device_add(dev)).toBe(-EINVAL);
    expect(warnings(k)).toEqual([expect.stringMatching(/^kobject_add_internal failed for ctx0 \(error: -17 .*already registered/)]);
    // the device is still registered once and can be torn down normally
    syms.device_unregister(dev);
    expect(dev.released).toBe(true);
    expect(warnings(k)).toHaveLength(1);
  });

  it('put_device() once too often WARNs refcount_t: underflow; the release ran once', () => {
    const { k, syms, dev } = registered();
    let releases = 0;
    dev.release = () => { releases++; };
    syms.device_unregister(dev);
    expect(releases).toBe(1);
    syms.put_device(dev);
    expect(releases).toBe(1);
    expect(warnings(k)).toEqual([`refcount_t: underflow; use-after-free (put_device on 'ctx0')`]);
  });

  it('get_device(), device_add() and device_del() on a released device WARN use-after-free', () => {
    const { k, syms, dev } = registered();
    syms.device_unregister(dev);
    syms.get_device(dev);
    expect(syms.device_add(dev)).toBe(-EINVAL);
    syms.device_del(dev);
    expect(warnings(k)).toEqual([
      `refcount_t: addition on 0; use-after-free (get_device on 'ctx0')`,
      `refcount_t: addition on 0; use-after-free (device_add on released 'ctx0')`,
      `use-after-free: device_del on released 'ctx0'`,
    ]);
  });

  it('device_del() of a device never added WARNs instead of oopsing', () => {
    const { k, syms } = registered();
    const dev = syms.kzalloc_device();
    syms.device_initialize(dev);
    syms.dev_set_name(dev, 'never-added');
    syms.device_del(dev);
    expect(warnings(k)).toEqual([`device_del: 'never-added' is not registered`]);
  });
});

describe('IOMMU misuse below the exported symbols (drivers/iommu/iommu.c, drivers/iommu/dma-iommu.c)', () => {
  it('iommu_domain_free() of a domain still attached WARNs naming the device, frees it as the C does, and later DMA API calls fail cleanly', () => {
    const k = boot_dts(DTS);
    const client = pdev_of(k, 'client');
    const domain = client.iommu_group!.domain!;
    const iova = dma_map_single(k, client, RAM, SZ_4K, 'DMA_TO_DEVICE');
    expect(iova).not.toBe(DMA_MAPPING_ERROR);
    expect(() => iommu_domain_free(k, domain)).not.toThrow();
    expect(warnings(k)).toEqual([expect.stringMatching(new RegExp(`^iommu_domain_free: domain ${domain.id} is still attached to ${client.name}; `))]);
    expect(domain.freed).toBe(true);
    // the group still points at the freed domain: mapping fails, unmapping does nothing
    expect(dma_map_single(k, client, RAM + SZ_4K, SZ_4K, 'DMA_TO_DEVICE')).toBe(DMA_MAPPING_ERROR);
    expect(() => dma_unmap_single(k, client, iova, SZ_4K, 'DMA_TO_DEVICE')).not.toThrow();
    // a second free is a double free, WARNed and ignored
    iommu_domain_free(k, domain);
    expect(warnings(k).at(-1)).toBe(`iommu_domain_free: domain ${domain.id} freed twice (double free)`);
  });

  it('iommu_domain_free() of a detached domain does not WARN (the release path frees it when the group empties)', () => {
    const k = boot_dts(DTS);
    const client = pdev_of(k, 'client');
    const group = client.iommu_group!;
    const domain = group.domain!;
    group.domain = null;
    group.devices.length = 0;
    iommu_domain_free(k, domain);
    expect(warnings(k)).toEqual([]);
  });

  it('dma_unmap_single() of a DMA address never mapped WARNs (__iommu_dma_unmap: unmapped 0 of N bytes) and leaves other mappings alone', () => {
    const k = boot_dts(DTS);
    const client = pdev_of(k, 'client');
    const kept = dma_map_single(k, client, RAM, SZ_4K, 'DMA_BIDIRECTIONAL');
    expect(() => dma_unmap_single(k, client, 0x1000_0000, SZ_4K, 'DMA_BIDIRECTIONAL')).not.toThrow();
    // io-pgtable may WARN first (the C's __arm_lpae_unmap does), then dma-iommu's WARN_ON
    const first = warnings(k);
    expect(first).toContain('__iommu_dma_unmap: unmapped 0 of 4096 bytes at IOVA 0x10000000');
    // the real mapping is untouched: unmapping it WARNs nothing, a second time WARNs again
    dma_unmap_single(k, client, kept, SZ_4K, 'DMA_BIDIRECTIONAL');
    expect(warnings(k)).toEqual(first);
    dma_unmap_single(k, client, kept, SZ_4K, 'DMA_BIDIRECTIONAL');
    expect(warnings(k).slice(first.length)).toContain(`__iommu_dma_unmap: unmapped 0 of 4096 bytes at IOVA 0x${kept.toString(16)}`);
  });
});
