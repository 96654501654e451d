// Pins down drivers/iommu/arm/arm-smmu/arm-smmu.c as modelled in arm-smmu.ts (arm_smmu_of_xlate,
// arm_smmu_probe_device / arm_smmu_master_alloc_smes / arm_smmu_find_sme, arm_smmu_release_device,
// arm_smmu_device_group, arm_smmu_attach_dev / arm_smmu_init_domain_context, arm_smmu_domain_free,
// arm_smmu_iotlb_sync, arm_smmu_flush_iotlb_all, arm_smmu_context_fault, arm_smmu_global_fault)
// and the SMMUv2 hardware of arm-smmu-hw.ts (stream matching, S2CR, IOTLB, smmu_hw_translate,
// and smmu_hw_translate_burst, which must give each transaction of a burst the same outcome).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { device } from '../base/device.ts';
import { EINVAL, ENOSPC, ENOSYS } from '../errno.ts';
import { kernel_alloc, type Kernel, type smmu_hw_config } from '../kernel.ts';
import type { KEvent } from '../log.ts';
import type { device_node, device_tree, property } from '../of/node.ts';
import { IOMMU_READ, IOMMU_WRITE, type iommu_domain, type iommu_group, type iommu_iotlb_gather } from './iommu-types.ts';
import { SZ_2M, SZ_4K } from './io-pgtable-arm.ts';
import { arm_smmu_device_probe, arm_smmu_from_iommu, arm_smmu_leaks, type arm_smmu_device } from './arm-smmu.ts';
import {
  S2CR_TYPE_BYPASS, S2CR_TYPE_FAULT, S2CR_TYPE_TRANS, SMMU_FAULT_PERMISSION, SMMU_FAULT_S2CR, SMMU_FAULT_STREAM_MATCH_CONFLICT,
  SMMU_FAULT_TRANSLATION, SMMU_FAULT_UNIDENTIFIED_STREAM, SMMU_IOTLB_ENTRIES, smmu_hw_translate, smmu_hw_translate_burst,
  smmu_hw_translate_quiet, smmu_hw_write_context_bank, smmu_hw_write_s2cr, smmu_hw_write_smr,
} from './arm-smmu-hw.ts';
import { SZ_1G } from './io-pgtable-arm.ts';

const RW = IOMMU_READ | IOMMU_WRITE;

function node(name: string, props: Record<string, number[]> = {}): device_node {
  const properties = new Map<string, property>();
  for (const [k, cells] of Object.entries(props)) properties.set(k, { name: k, cells, strings: null, pos: 0, cellPos: cells.map(() => 0) });
  return { name: name.split('@')[0]!, full_name: name, path: `/soc/${name}`, labels: [], phandle: 1, parent: null, children: [], properties, pos: 0, refcount: 1 };
}

interface Bench {
  k: Kernel;
  smmu: arm_smmu_device;
  np: device_node;
  faults_reported: Array<{ iova: number; flags: number }>;
  groups: iommu_group[];
}

function bench(opts: { bypass?: boolean; hw?: Partial<smmu_hw_config>; props?: Record<string, number[]> } = {}): Bench {
  const np = node('iommu@15000000', opts.props);
  const root = node('');
  const dt: device_tree = { root, phandles: new Map([[1, np]]), labels: new Map() };
  const k = kernel_alloc({ flow: '6.15', patches: new Set(), bypass_unmatched_streams: opts.bypass ?? false, smmu_hw: new Map(), memory: { base: 0x8000_0000, size: 0x4000_0000 } }, dt);
  const faults_reported: Array<{ iova: number; flags: number }> = [];
  const groups: iommu_group[] = [];
  const iommu = arm_smmu_device_probe(k, np, { context_banks: 4, stream_match_groups: 8, va_bits: 48, ...opts.hw }, {
    generic_device_group: () => {
      const g: iommu_group = { id: groups.length, devices: [], default_domain: null, domain: null, owner_cnt: 0, freed: false };
      groups.push(g);
      return g;
    },
    report_iommu_fault: (_d, _dev, iova, flags) => { faults_reported.push({ iova, flags }); return -ENOSYS; },
  });
  const smmu = arm_smmu_from_iommu(iommu)!;
  return { k, smmu, np, faults_reported, groups };
}

let devid = 100;
function mkdev(b: Bench, name: string): device {
  const dev: device = {
    devid: devid++, init_name: name, name, id: 0, parent: null, bus: { name: 'platform' }, driver: null, of_node: null,
    platform_data: null, driver_data: null, dma_mask: null, coherent_dma_mask: 0n, bus_dma_limit: 0n, dma_parms: null, dma_coherent: false,
    dma_ops: 'direct', iommu: { fwspec: { iommu_fwnode: b.np, ids: [] }, iommu_dev: null, priv: null }, iommu_group: null,
    release: null, refcount: 1, p: null, dead: false, released: false, container: null,
  };
  return dev;
}

/** of_xlate each specifier, then probe_device: what of_iommu_configure + iommu_probe_device do */
function probe(b: Bench, name: string, specs: number[][]): { dev: device; ret: number } {
  const dev = mkdev(b, name);
  for (const args of specs) expect(b.smmu.ops.of_xlate(dev, args)).toBe(0);
  const r = b.smmu.ops.probe_device(dev);
  return { dev, ret: typeof r === 'number' ? r : 0 };
}

function attach_new_domain(b: Bench, dev: device): iommu_domain {
  const domain = b.smmu.ops.domain_alloc_paging(dev);
  if (typeof domain === 'number') throw new Error(`domain_alloc_paging: ${domain}`);
  domain.type = 'IOMMU_DOMAIN_DMA';
  expect(b.smmu.ops.attach_dev(domain, dev)).toBe(0);
  return domain;
}

function events<T extends KEvent['type']>(k: Kernel, type: T): Array<Extract<KEvent, { type: T }>> {
  return k.log.events.filter((e): e is Extract<KEvent, { type: T }> => e.type === type);
}

function gather(): iommu_iotlb_gather {
  return { start: Number.MAX_SAFE_INTEGER, end: 0, pgsize: 0 };
}

function unmap_sync(b: Bench, domain: iommu_domain, iova: number, size: number): number {
  const g = gather();
  const n = b.smmu.ops.unmap_pages(domain, iova, SZ_4K, size / SZ_4K, g);
  b.smmu.ops.iotlb_sync(domain, g);
  return n;
}

describe('arm_smmu_of_xlate: fwspec id = sid | mask << 16', () => {
  it('takes the mask from the second cell, else from stream-match-mask, else 0', () => {
    const b = bench({ props: { 'stream-match-mask': [0x7f80] } });
    const d1 = mkdev(b, 'a');
    b.smmu.ops.of_xlate(d1, [0x0c01, 0x20]);
    b.smmu.ops.of_xlate(d1, [0x35]);
    expect(d1.iommu!.fwspec!.ids).toEqual([0x0020_0c01, 0x7f80_0035]);
    const b2 = bench();
    const d2 = mkdev(b2, 'b');
    b2.smmu.ops.of_xlate(d2, [0x1940]);
    expect(d2.iommu!.fwspec!.ids).toEqual([0x1940]);
  });
});

describe('stream matching (SMR id/mask) and the S2CR', () => {
  it('an SMR with a mask matches every SID that differs only in masked bits', () => {
    const b = bench();
    const { dev } = probe(b, 'cb1', [[0x0c01, 0x20]]);
    const domain = attach_new_domain(b, dev);
    b.smmu.ops.map_pages(domain, 0x1000, 0x8000_1000, SZ_4K, 1, RW);
    expect(smmu_hw_translate(b.smmu.hw, 0x0c01, 0x1010, false)).toBe(0x8000_1010);
    expect(smmu_hw_translate(b.smmu.hw, 0x0c21, 0x1010, false)).toBe(0x8000_1010);
    expect(smmu_hw_translate(b.smmu.hw, 0x0c03, 0x1010, false)).toBe(SMMU_FAULT_UNIDENTIFIED_STREAM);
  });

  it('before attach the S2CR holds its init value: fault with bypass disabled, bypass otherwise', () => {
    const off = bench();
    probe(off, 'a', [[0x10]]);
    expect(off.smmu.s2crs[0]!.type).toBe(S2CR_TYPE_FAULT);
    expect(smmu_hw_translate(off.smmu.hw, 0x10, 0x5000, false)).toBe(SMMU_FAULT_S2CR);
    expect(events(off.k, 'fault')[0]!.kind).toBe('stream-fault');
    const on = bench({ bypass: true });
    probe(on, 'a', [[0x10]]);
    expect(on.smmu.s2crs[0]!.type).toBe(S2CR_TYPE_BYPASS);
    expect(smmu_hw_translate(on.smmu.hw, 0x10, 0x5000, false)).toBe(0x5000);
  });

  it('two valid SMRs matching one stream ID: a stream match conflict (the driver never programs one)', () => {
    const b = bench();
    smmu_hw_write_smr(b.smmu.hw, 0, 0x10, 0xf, true);
    smmu_hw_write_smr(b.smmu.hw, 1, 0x13, 0, true);
    expect(smmu_hw_translate_quiet(b.smmu.hw, 0x13, 0, false)).toBe(SMMU_FAULT_STREAM_MATCH_CONFLICT);
    expect(smmu_hw_translate(b.smmu.hw, 0x13, 0, false)).toBe(SMMU_FAULT_STREAM_MATCH_CONFLICT);
    expect(events(b.k, 'fault')[0]).toMatchObject({ kind: 'stream-fault', sid: 0x13, message: 'Unexpected global fault, this could be serious' });
    smmu_hw_write_smr(b.smmu.hw, 1, 0, 0, false);
    smmu_hw_write_s2cr(b.smmu.hw, 0, S2CR_TYPE_BYPASS, 0);
    expect(smmu_hw_translate(b.smmu.hw, 0x13, 0x777, false)).toBe(0x777);
  });

  it('release_device frees the entries: SMR invalid, S2CR back to its init value', () => {
    const b = bench();
    const { dev } = probe(b, 'a', [[0x10]]);
    attach_new_domain(b, dev);
    expect(b.smmu.s2crs[0]!.type).toBe(S2CR_TYPE_TRANS);
    b.smmu.ops.release_device(dev);
    expect(b.smmu.smrs[0]!.valid).toBe(false);
    expect(b.smmu.s2crs[0]).toEqual({ group: null, count: 0, type: S2CR_TYPE_FAULT, cbndx: 0 });
    expect(b.smmu.hw.sid_to_sme[0x10]).toBe(-1);
    expect(events(b.k, 'sme_free')).toEqual([{ type: 'sme_free', iommu: 'iommu@15000000', idx: 0, sid: 0x10, mask: 0 }]);
  });
});

describe('arm_smmu_find_sme via arm_smmu_master_alloc_smes', () => {
  it('reuses an entry that fully covers the new id/mask (count++)', () => {
    const b = bench();
    expect(probe(b, 'a', [[0x10, 0xf]]).ret).toBe(0);
    expect(probe(b, 'b', [[0x13, 0x3]]).ret).toBe(0);
    expect(b.smmu.s2crs[0]!.count).toBe(2);
    expect(b.smmu.smrs[1]!.valid).toBe(false);
    expect(events(b.k, 'sme_alloc').map((e) => e.reused)).toEqual([false, true]);
  });

  it('-EINVAL on a partial overlap, and what the device had claimed is given back', () => {
    const b = bench();
    probe(b, 'a', [[0x10, 0xf]]);
    const r = probe(b, 'c', [[0x40], [0x1f, 0x30]]);
    expect(r.ret).toBe(-EINVAL);
    expect(r.dev.iommu!.priv).toBeNull();
    expect(b.smmu.smrs.filter((s) => s.valid).length).toBe(1);
    expect(b.smmu.hw.sid_to_sme[0x40]).toBe(-1);
  });

  it('-ENOSPC when every stream match register is taken', () => {
    const b = bench({ hw: { stream_match_groups: 2 } });
    expect(probe(b, 'a', [[1]]).ret).toBe(0);
    expect(probe(b, 'b', [[2]]).ret).toBe(0);
    expect(probe(b, 'c', [[3]]).ret).toBe(-ENOSPC);
  });

  it('a stream ID beyond the stream ID bits is refused with -EINVAL (probe_device)', () => {
    const b = bench();
    b.smmu.streamid_mask = 0x7fff;
    expect(probe(b, 'a', [[0x8001]]).ret).toBe(-EINVAL);
    expect(events(b.k, 'printk').some((e) => e.message === 'stream ID 0x8001 out of range for SMMU (0x7fff)')).toBe(true);
  });
});

describe('arm_smmu_device_group', () => {
  it('devices sharing a stream map entry share the group recorded on it', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10, 0xf]]).dev;
    const c = probe(b, 'c', [[0x12]]).dev;
    const ga = b.smmu.ops.device_group(a);
    expect(b.smmu.ops.device_group(c)).toBe(ga);
    expect(b.groups.length).toBe(1);
  });

  it('-EINVAL when the entries carry two different groups', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const c = probe(b, 'c', [[0x20]]).dev;
    b.smmu.ops.device_group(a);
    b.smmu.ops.device_group(c);
    const both = probe(b, 'both', [[0x10], [0x20]]).dev;
    expect(b.smmu.ops.device_group(both)).toBe(-EINVAL);
  });
});

describe('context banks (arm_smmu_init_domain_context / arm_smmu_destroy_domain_context)', () => {
  it('a bank is taken on the first attach only, and given back on domain free with its tables', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const c = probe(b, 'c', [[0x20]]).dev;
    const domain = b.smmu.ops.domain_alloc_paging(a) as iommu_domain;
    expect(b.smmu.context_map.every((x) => x === 0)).toBe(true);
    expect(b.smmu.ops.attach_dev(domain, a)).toBe(0);
    expect(b.smmu.ops.attach_dev(domain, c)).toBe(0);
    expect(events(b.k, 'context_bank_alloc')).toEqual([{ type: 'context_bank_alloc', iommu: 'iommu@15000000', cb: 0, domain: domain.id }]);
    expect(b.smmu.s2crs[1]!.cbndx).toBe(0);
    b.smmu.ops.map_pages(domain, 0x1000, 0x8000_0000, SZ_4K, 1, RW);
    expect(b.smmu.pool.live_tables).toBe(4);
    b.smmu.ops.release_device(a);
    b.smmu.ops.release_device(c);
    b.smmu.ops.domain_free(domain);
    expect(events(b.k, 'context_bank_free').length).toBe(1);
    expect(b.smmu.pool.live_tables).toBe(0);
    expect(arm_smmu_leaks(b.smmu)).toEqual([]);
  });

  it('-ENOSPC when no bank is free; a freed bank is reused', () => {
    const b = bench({ hw: { context_banks: 1 } });
    const a = probe(b, 'a', [[0x10]]).dev;
    const c = probe(b, 'c', [[0x20]]).dev;
    const d1 = attach_new_domain(b, a);
    const d2 = b.smmu.ops.domain_alloc_paging(c) as iommu_domain;
    expect(b.smmu.ops.attach_dev(d2, c)).toBe(-ENOSPC);
    b.smmu.ops.release_device(a);
    b.smmu.ops.domain_free(d1);
    expect(b.smmu.ops.attach_dev(d2, c)).toBe(0);
  });

  it('__arm_smmu_alloc_bitmap (arm-smmu.h) takes the lowest free bank, over many bitmap words: in order, then the holes freed, then -ENOSPC', () => {
    const n = 300; // ten 32-bit words: the walk passes full words four at a time
    const b = bench({ hw: { context_banks: n, stream_match_groups: n } });
    const made = Array.from({ length: n }, (_, i) => {
      const dev = probe(b, `d${i}`, [[i]]).dev;
      return { dev, domain: attach_new_domain(b, dev) };
    });
    const cb = (d: iommu_domain): number => (d.priv as { cfg: { cbndx: number } }).cfg.cbndx;
    expect(made.map((m) => cb(m.domain))).toEqual(made.map((_m, i) => i));
    for (const i of [290, 37, 200, 161]) {
      b.smmu.ops.release_device(made[i]!.dev);
      b.smmu.ops.domain_free(made[i]!.domain);
    }
    const again = [37, 161, 200, 290].map((i) => attach_new_domain(b, probe(b, `again${i}`, [[i]]).dev));
    expect(again.map(cb)).toEqual([37, 161, 200, 290]);
    const late = probe(b, 'late', [[n]]);
    expect(late.ret).toBe(-ENOSPC); // no stream match entry left either
  });

  it('the leak summary names what is still held', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0, 0x8000_0000, SZ_2M, 1, RW);
    expect(arm_smmu_leaks(b.smmu)).toEqual([
      'iommu@15000000: SMR 0 (id 0x10 mask 0x0) still valid, 1 user(s)',
      'iommu@15000000: context bank 0 still in use (domain 1)',
      'iommu@15000000: 3 page-table page(s) not freed',
    ]);
  });
});

describe('faults raised by smmu_hw_translate', () => {
  it('unidentified stream with bypass disabled: the global fault report of arm_smmu_global_fault', () => {
    const b = bench();
    expect(smmu_hw_translate(b.smmu.hw, 0x1947, 0x1000, false)).toBe(SMMU_FAULT_UNIDENTIFIED_STREAM);
    expect(events(b.k, 'fault')).toEqual([{
      type: 'fault', iommu: 'iommu@15000000', kind: 'unidentified-stream', sid: 0x1947, iova: 0x1000, cb: null,
      message: 'Blocked unknown Stream ID 0x1947; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications',
    }]);
  });

  it('unidentified stream with bypass enabled passes through untranslated', () => {
    const b = bench({ bypass: true });
    expect(smmu_hw_translate(b.smmu.hw, 0x1947, 0x1234_5678, true)).toBe(0x1234_5678);
    expect(events(b.k, 'fault')).toEqual([]);
  });

  it('context fault after unmap, in the C\'s format, reported through report_iommu_fault', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x1940]]).dev;
    const d = attach_new_domain(b, a);
    expect(b.smmu.ops.map_pages(d, 0xfff0_0000, 0x8010_0000, SZ_4K, 1, RW).ret).toBe(0);
    expect(smmu_hw_translate(b.smmu.hw, 0x1940, 0xfff0_0040, true)).toBe(0x8010_0040);
    expect(unmap_sync(b, d, 0xfff0_0000, SZ_4K)).toBe(SZ_4K);
    expect(smmu_hw_translate(b.smmu.hw, 0x1940, 0xfff0_0040, true)).toBe(SMMU_FAULT_TRANSLATION);
    const f = events(b.k, 'fault');
    expect(f.length).toBe(1);
    expect(f[0]).toMatchObject({ kind: 'context', sid: 0x1940, iova: 0xfff0_0040, cb: 0 });
    expect(f[0]!.message).toBe('Unhandled context fault: fsr=0x402, iova=0xfff00040, fsynr=0x13, cbfrsynra=0x1940, cb=0');
    expect(b.faults_reported).toEqual([{ iova: 0xfff0_0040, flags: 1 }]);
    expect(b.smmu.hw.cb_fsr[0]).toBe(0);
  });

  it('permission fault: a write to a read-only mapping; reads still translate', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x21]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x4000, 0x9000_0000, SZ_4K, 1, IOMMU_READ);
    expect(smmu_hw_translate(b.smmu.hw, 0x21, 0x4008, false)).toBe(0x9000_0008);
    expect(smmu_hw_translate(b.smmu.hw, 0x21, 0x4008, true)).toBe(SMMU_FAULT_PERMISSION);
    expect(events(b.k, 'fault')[0]).toMatchObject({ kind: 'permission', message: expect.stringContaining('fsr=0x408') });
    // the same fault found by a walk rather than the IOTLB
    expect(smmu_hw_translate(b.smmu.hw, 0x21, 0x5000, true)).toBe(SMMU_FAULT_TRANSLATION);
    expect(smmu_hw_translate_quiet(b.smmu.hw, 0x21, 0x4010, true)).toBe(SMMU_FAULT_PERMISSION);
  });

  it('the quiet translation raises nothing and leaves the IOTLB and its counters alone', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x4000, 0x9000_0000, SZ_4K, 1, RW);
    expect(smmu_hw_translate_quiet(b.smmu.hw, 0x10, 0x4001, false)).toBe(0x9000_0001);
    expect(smmu_hw_translate_quiet(b.smmu.hw, 0x10, 0x8000, false)).toBe(SMMU_FAULT_TRANSLATION);
    expect(smmu_hw_translate_quiet(b.smmu.hw, 0x99, 0x8000, false)).toBe(SMMU_FAULT_UNIDENTIFIED_STREAM);
    expect([b.smmu.hw.iotlb_hits, b.smmu.hw.iotlb_misses]).toEqual([0, 0]);
    expect(b.smmu.hw.tlb.every((x, j) => j % 2 === 1 || x === -1)).toBe(true);
    expect(events(b.k, 'fault')).toEqual([]);
  });
});

describe('IOTLB (tagged by ASID, TLBIVA / TLBIASID)', () => {
  it('counts a miss then hits; no stale entry survives unmap + iotlb_sync', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x10_0000, 0x8000_0000, SZ_4K, 2, RW);
    const hw = b.smmu.hw;
    expect(smmu_hw_translate(hw, 0x10, 0x10_0000, false)).toBe(0x8000_0000);
    expect(smmu_hw_translate(hw, 0x10, 0x10_0ff0, false)).toBe(0x8000_0ff0);
    expect(smmu_hw_translate(hw, 0x10, 0x10_1000, false)).toBe(0x8000_1000);
    expect([hw.iotlb_hits, hw.iotlb_misses]).toEqual([1, 2]);
    // unmap without the sync: the IOTLB still answers (that is what a missing sync means)
    const g = gather();
    expect(b.smmu.ops.unmap_pages(d, 0x10_0000, SZ_4K, 1, g)).toBe(SZ_4K);
    expect(smmu_hw_translate(hw, 0x10, 0x10_0000, false)).toBe(0x8000_0000);
    b.smmu.ops.iotlb_sync(d, g);
    expect(smmu_hw_translate(hw, 0x10, 0x10_0000, false)).toBe(SMMU_FAULT_TRANSLATION);
    expect(smmu_hw_translate(hw, 0x10, 0x10_1000, false)).toBe(0x8000_1000);
    expect(events(b.k, 'tlb_inv')).toEqual([{ type: 'tlb_inv', iommu: 'iommu@15000000', asid: 0, iova: 0x10_0000, size: SZ_4K }]);
  });

  it('flush_iotlb_all (TLBIASID) drops only that ASID', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const c = probe(b, 'c', [[0x20]]).dev;
    const da = attach_new_domain(b, a);
    const dc = attach_new_domain(b, c);
    b.smmu.ops.map_pages(da, 0x1000, 0x8000_0000, SZ_4K, 1, RW);
    b.smmu.ops.map_pages(dc, 0x1000, 0x8800_0000, SZ_4K, 1, RW);
    const hw = b.smmu.hw;
    expect(smmu_hw_translate(hw, 0x10, 0x1000, false)).toBe(0x8000_0000);
    expect(smmu_hw_translate(hw, 0x20, 0x1000, false)).toBe(0x8800_0000);
    b.smmu.ops.flush_iotlb_all(da);
    smmu_hw_translate(hw, 0x10, 0x1000, false);
    smmu_hw_translate(hw, 0x20, 0x1000, false);
    expect([hw.iotlb_hits, hw.iotlb_misses]).toEqual([1, 3]);
  });

  it('the stream-to-ASID cache follows SMR, S2CR and context bank writes in any order (SCTLR.M clear passes through)', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10, 0x3]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x1000, 0x8000_0000, SZ_4K, 1, RW);
    const hw = b.smmu.hw;
    // every stream ID of the masked SMR translates
    for (const sid of [0x10, 0x11, 0x12, 0x13]) expect(smmu_hw_translate(hw, sid, 0x1040, false)).toBe(0x8000_0040);
    // the bank disabled under a live S2CR (the driver never does this): untranslated
    const cb = hw.sid_route[0x10]!;
    const ttbr0 = hw.cb_ttbr0[cb]!;
    smmu_hw_write_context_bank(hw, cb, -1, 0, 0, 48);
    expect(smmu_hw_translate(hw, 0x13, 0x1040, false)).toBe(0x1040);
    // enabled again: translating
    smmu_hw_write_context_bank(hw, cb, ttbr0, cb, 0, 48);
    expect(smmu_hw_translate(hw, 0x12, 0x1040, false)).toBe(0x8000_0040);
    // the S2CR turned to bypass, then the SMR invalidated: the caches follow each write
    smmu_hw_write_s2cr(hw, 0, S2CR_TYPE_BYPASS, 0);
    expect(smmu_hw_translate(hw, 0x11, 0x1040, false)).toBe(0x1040);
    smmu_hw_write_s2cr(hw, 0, S2CR_TYPE_TRANS, cb);
    expect(smmu_hw_translate(hw, 0x11, 0x1040, false)).toBe(0x8000_0040);
    smmu_hw_write_smr(hw, 0, 0x10, 0x3, false);
    expect(smmu_hw_translate(hw, 0x11, 0x1040, false)).toBe(SMMU_FAULT_UNIDENTIFIED_STREAM);
    expect(hw.sid_asid[0x11]).toBe(-1);
  });

  it('TLBIASID of an ASID that never filled an entry leaves the IOTLB alone; after a fill it drops that ASID', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x1000, 0x8000_0000, SZ_4K, 1, RW);
    const hw = b.smmu.hw;
    const asid = hw.sid_asid[0x10]!;
    expect(hw.asid_filled[asid]).toBe(0);
    smmu_hw_translate(hw, 0x10, 0x1000, false);
    expect(hw.asid_filled[asid]).toBe(1);
    b.smmu.ops.flush_iotlb_all(d);
    expect(hw.asid_filled[asid]).toBe(0);
    smmu_hw_translate(hw, 0x10, 0x1000, false);
    expect([hw.iotlb_hits, hw.iotlb_misses]).toEqual([0, 2]);
  });

  it('a 2 MiB block is cached page by page and invalidated whole by the gathered range', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, SZ_2M, 0x8020_0000, SZ_2M, 1, RW);
    const hw = b.smmu.hw;
    for (let off = 0; off < SZ_2M; off += 0x10_0000) expect(smmu_hw_translate(hw, 0x10, SZ_2M + off, true)).toBe(0x8020_0000 + off);
    const g = gather();
    expect(b.smmu.ops.unmap_pages(d, SZ_2M, SZ_2M, 1, g)).toBe(SZ_2M);
    b.smmu.ops.iotlb_sync(d, g);
    for (let off = 0; off < SZ_2M; off += 0x10_0000) expect(smmu_hw_translate(hw, 0x10, SZ_2M + off, true)).toBe(SMMU_FAULT_TRANSLATION);
  });

  it('a 1 GiB unmap invalidates by sweeping the IOTLB', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, SZ_1G, 0x4000_0000, SZ_1G, 1, RW);
    const hw = b.smmu.hw;
    const pages = [0, 0x1000, 0x3fff_f000];
    for (const off of pages) expect(smmu_hw_translate(hw, 0x10, SZ_1G + off, false)).toBe(0x4000_0000 + off);
    const g = gather();
    expect(b.smmu.ops.unmap_pages(d, SZ_1G, SZ_1G, 1, g)).toBe(SZ_1G);
    b.smmu.ops.iotlb_sync(d, g);
    for (const off of pages) expect(smmu_hw_translate(hw, 0x10, SZ_1G + off, false)).toBe(SMMU_FAULT_TRANSLATION);
  });

  it('iova_to_phys walks the domain\'s page table', () => {
    const b = bench();
    const a = probe(b, 'a', [[0x10]]).dev;
    const d = attach_new_domain(b, a);
    b.smmu.ops.map_pages(d, 0x7000, 0x8000_7000, SZ_4K, 1, RW);
    expect(b.smmu.ops.iova_to_phys(d, 0x7abc)).toBe(0x8000_7abc);
    expect(b.smmu.ops.iova_to_phys(d, 0x8000)).toBe(0);
  });
});

describe('smmu_hw_translate_burst: a burst is its transactions one by one', () => {
  /** Two streams with a domain each (the second's pages at the same IOVAs, so the two ASIDs
   *  share IOTLB entries), a third stream with no mapping. Pages: read-write, read-only, a
   *  2 MiB block, a 1 GiB block, a twin one IOTLB apart, and holes. The SMMU's input range
   *  decides where its walks start: level 0 at 48 bits, level 1 at 39 and 32 (a 4-entry PGD);
   *  a walk that started a level too high would read the 2 MiB block for the 1 GiB one. */
  function system(bypass: boolean, va_bits: number): Bench {
    const b = bench({ bypass, hw: { va_bits } });
    const a = probe(b, 'a', [[0x10]]).dev;
    const c = probe(b, 'c', [[0x20]]).dev;
    const da = attach_new_domain(b, a);
    const dc = attach_new_domain(b, c);
    for (const [d, pa, pa_1g] of [[da, 0x8000_0000, 0x4000_0000], [dc, 0x8800_0000, 0xc000_0000]] as const) {
      expect(b.smmu.ops.map_pages(d, SZ_1G, pa_1g, SZ_1G, 1, RW).ret).toBe(0);
      b.smmu.ops.map_pages(d, 0x10_0000, pa, SZ_4K, 4, RW);
      b.smmu.ops.map_pages(d, 0x10_4000, pa + 0x4000, SZ_4K, 1, IOMMU_READ);
      b.smmu.ops.map_pages(d, SZ_2M, pa + SZ_2M, SZ_2M, 1, RW);
      b.smmu.ops.map_pages(d, 0x10_0000 + SMMU_IOTLB_ENTRIES * SZ_4K, pa + 0x10_0000, SZ_4K, 1, RW);
      b.smmu.ops.map_pages(d, 0xfff0_0000, pa + 0x20_0000, SZ_4K, 1, RW);
    }
    return b;
  }
  const IOVAS = [SZ_1G + 0x1234_5678, 0x10_0000, 0x10_1040, 0x10_3ffc, 0x10_4008, 0x10_5000, SZ_2M, SZ_2M + 0x1_2345, 0x10_0000 + SMMU_IOTLB_ENTRIES * SZ_4K + 8, 0xfff0_0ff0, 0, 2 ** 47, 2 ** 48 + 0x10_0000, 0xfff0_0000 - 2 ** 32];
  const SIDS = [0x10, 0x20, 0x30];
  const burst_arb = fc.record({
    bypass: fc.boolean(),
    va_bits: fc.constantFrom(48, 39, 32),
    bursts: fc.array(fc.record({
      sid: fc.constantFrom(...SIDS),
      write: fc.boolean(),
      iovas: fc.array(fc.constantFrom(...IOVAS), { minLength: 1, maxLength: 24 }),
    }), { minLength: 1, maxLength: 6 }),
  });

  /** what a run leaves behind: outcomes, counters, IOTLB, fault registers and the event log */
  function trace(b: Bench, outs: number[][]): unknown {
    const hw = b.smmu.hw;
    const tlb: number[][] = [];
    for (let i = 0; i < hw.tlb.length; i += 2) if (hw.tlb[i] !== -1) tlb.push([i, hw.tlb[i]!, hw.tlb[i + 1]!]);
    const filled = [...hw.asid_filled.keys()].filter((asid) => hw.asid_filled[asid]);
    return { outs, hits: hw.iotlb_hits, misses: hw.iotlb_misses, tlb, filled, gfsr: hw.gfsr, fsr: [...hw.cb_fsr], far: [...hw.cb_far], events: b.k.log.events.slice() };
  }

  it('gives each transaction the outcome, counting, IOTLB fill and fault of smmu_hw_translate (property, 200 runs)', () => {
    const out = fc.check(fc.property(burst_arb, ({ bypass, va_bits, bursts }) => {
      const one = system(bypass, va_bits);
      const many = system(bypass, va_bits);
      const outs_one = bursts.map(({ sid, write, iovas }) => iovas.map((iova) => smmu_hw_translate(one.smmu.hw, sid, iova, write)));
      const outs_many = bursts.map(({ sid, write, iovas }) => {
        const res = new Float64Array(iovas.length);
        smmu_hw_translate_burst(many.smmu.hw, sid, Float64Array.from(iovas), res, write);
        return [...res];
      });
      expect(trace(many, outs_many)).toEqual(trace(one, outs_one));
    }), { seed: 20261124, numRuns: 200 });
    if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? 'property failed');
  });

  it('a read of a read-only page translates from the IOTLB; a write to it is a permission fault', () => {
    const b = system(false, 48);
    const hw = b.smmu.hw;
    const res = new Float64Array(3);
    smmu_hw_translate_burst(hw, 0x10, Float64Array.from([0x10_4008, 0x10_4010, 0x10_0004]), res, false);
    expect([...res]).toEqual([0x8000_4008, 0x8000_4010, 0x8000_0004]);
    expect([hw.iotlb_hits, hw.iotlb_misses]).toEqual([1, 2]);
    smmu_hw_translate_burst(hw, 0x10, Float64Array.from([0x10_0004, 0x10_4008]), res, true);
    expect([res[0], res[1]]).toEqual([0x8000_0004, SMMU_FAULT_PERMISSION]);
    expect(events(b.k, 'fault').map((e) => e.kind)).toEqual(['permission']);
  });
});
