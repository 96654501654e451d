// Pins down drivers/iommu/io-pgtable-arm.c as modelled in io-pgtable-arm.ts: arm_lpae_map_pages,
// arm_lpae_unmap_pages, arm_lpae_iova_to_phys, arm_lpae_free_pgtable / free_io_pgtable_ops.
import { describe, expect, it } from 'vitest';
import { EEXIST, EINVAL, ERANGE } from '../errno.ts';
import { IOMMU_READ, IOMMU_WRITE, type iommu_iotlb_gather } from './iommu-types.ts';
import {
  SZ_1G, SZ_2M, SZ_4K, arm_lpae_alloc_pgtable_s1, arm_lpae_pool_alloc, free_io_pgtable_ops,
  type arm_lpae_io_pgtable, type io_pgtable_cfg,
} from './io-pgtable-arm.ts';

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(extra: Partial<io_pgtable_cfg> = {}): { pt: arm_lpae_io_pgtable; warnings: string[]; calls: string[] } {
  const warnings: string[] = [];
  const calls: string[] = [];
  const pt = arm_lpae_alloc_pgtable_s1({
    ias: 48,
    warn: (m) => warnings.push(m),
    tlb: {
      tlb_flush_all: () => calls.push('all'),
      tlb_flush_walk: (iova, size) => calls.push(`walk ${iova.toString(16)} ${size.toString(16)}`),
      tlb_add_page: (g, iova, granule) => { calls.push(`page ${iova.toString(16)}`); g.start = Math.min(g.start, iova); g.end = Math.max(g.end, iova + granule - 1); },
    },
    ...extra,
  });
  if (!pt) throw new Error('no page table');
  return { pt, warnings, calls };
}

function gather(): iommu_iotlb_gather {
  return { start: Number.MAX_SAFE_INTEGER, end: 0, pgsize: 0 };
}

describe('arm_lpae_alloc_pgtable (start level from ias)', () => {
  it('48-bit input starts at level 0, 39-bit at level 1, 32-bit at level 1 with a 4-entry PGD', () => {
    expect(arm_lpae_alloc_pgtable_s1({ ias: 48 })!.start_level).toBe(0);
    const s39 = arm_lpae_alloc_pgtable_s1({ ias: 39 })!;
    expect([s39.start_level, s39.pgd_entries]).toEqual([1, 512]);
    const s32 = arm_lpae_alloc_pgtable_s1({ ias: 32 })!;
    expect([s32.start_level, s32.pgd_entries]).toEqual([1, 4]);
    expect(arm_lpae_alloc_pgtable_s1({ ias: 52 })).toBeNull();
  });
});

describe('arm_lpae_map_pages / arm_lpae_iova_to_phys', () => {
  it('maps 4 KiB pages through four levels of tables', () => {
    const { pt } = setup();
    expect(pt.map_pages(0x1234_5000, 0x8000_0000, SZ_4K, 2, RW)).toEqual({ ret: 0, mapped: 2 * SZ_4K });
    expect(pt.live_tables).toBe(4);
    expect(pt.iova_to_phys(0x1234_5abc)).toBe(0x8000_0abc);
    expect(pt.iova_to_phys(0x1234_6004)).toBe(0x8000_1004);
    expect(pt.iova_to_phys(0x1234_7000)).toBe(0);
  });

  it('maps a 2 MiB block at level 2 and a 1 GiB block at level 1, no table below them', () => {
    const { pt } = setup();
    expect(pt.map_pages(0x4020_0000, 0x9020_0000, SZ_2M, 1, RW).ret).toBe(0);
    expect(pt.live_tables).toBe(3);
    expect(pt.iova_to_phys(0x4020_0000 + 0x1f_fff0)).toBe(0x9020_0000 + 0x1f_fff0);
    expect(pt.map_pages(0x80_0000_0000, 0x1_0000_0000, SZ_1G, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(0x80_0000_0000 + 0x3fff_ffff)).toBe(0x1_3fff_ffff);
  });

  it('addresses above 4 GiB keep every bit (no 32-bit truncation)', () => {
    const { pt } = setup();
    const iova = 0xffff_ffff_f000; // top page of a 48-bit space
    expect(pt.map_pages(iova, 0xabcd_1234_5000, SZ_4K, 1, RW).ret).toBe(0);
    expect(pt.iova_to_phys(iova + 0x10)).toBe(0xabcd_1234_5010);
  });

  it('-EEXIST on a mapped leaf, and on a page inside a mapped block', () => {
    const { pt, warnings } = setup();
    expect(pt.map_pages(0x10_0000, 0x20_0000, SZ_4K, 1, RW).ret).toBe(0);
    expect(pt.map_pages(0x10_0000, 0x30_0000, SZ_4K, 1, RW)).toEqual({ ret: -EEXIST, mapped: 0 });
    expect(pt.map_pages(0x40_0000, 0x40_0000, SZ_2M, 1, RW).ret).toBe(0);
    expect(pt.map_pages(0x40_1000, 0x50_0000, SZ_4K, 1, RW).ret).toBe(-EEXIST);
    expect(warnings.length).toBe(2);
    expect(pt.iova_to_phys(0x10_0000)).toBe(0x20_0000);
  });

  it('-EINVAL for an unsupported size, misalignment or no access; -ERANGE beyond ias', () => {
    const { pt } = setup();
    expect(pt.map_pages(0, 0, 0x2000, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(0x1000, 0, SZ_2M, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(0, 0x1000, SZ_2M, 1, RW).ret).toBe(-EINVAL);
    expect(pt.map_pages(0, 0, SZ_4K, 1, 0).ret).toBe(-EINVAL);
    expect(pt.map_pages(2 ** 48, 0, SZ_4K, 1, RW).ret).toBe(-ERANGE);
    expect(pt.live_tables).toBe(1);
  });

  it('maps no further than the end of one table: the caller (iommu_map) loops', () => {
    const { pt } = setup();
    const r = pt.map_pages(0x20_0000 - 0x1000 * 4, 0, SZ_4K, 10, RW);
    expect(r).toEqual({ ret: 0, mapped: 4 * SZ_4K });
  });

  it('a block where a table is: the table (and what it mapped) is unmapped and freed first', () => {
    const { pt, calls } = setup();
    expect(pt.map_pages(0x60_1000, 0x7000_0000, SZ_4K, 1, RW).ret).toBe(0);
    expect(pt.live_tables).toBe(4);
    expect(pt.map_pages(0x60_0000, 0x9000_0000, SZ_2M, 1, RW).ret).toBe(0);
    expect(pt.live_tables).toBe(3);
    expect(pt.iova_to_phys(0x60_1000)).toBe(0x9000_1000);
    expect(calls).toContain('walk 600000 200000');
  });
});

describe('arm_lpae_unmap_pages', () => {
  it('returns the bytes unmapped and gathers each page for the IOTLB', () => {
    const { pt, calls } = setup();
    pt.map_pages(0x1000, 0x5000, SZ_4K, 3, RW);
    const g = gather();
    expect(pt.unmap_pages(0x1000, SZ_4K, 3, g)).toBe(3 * SZ_4K);
    expect([g.start, g.end]).toEqual([0x1000, 0x3fff]);
    expect(calls.filter((c) => c.startsWith('page')).length).toBe(3);
    expect(pt.iova_to_phys(0x2000)).toBe(0);
  });

  it('0 for a hole (with the C\'s WARN)', () => {
    const { pt, warnings } = setup();
    expect(pt.unmap_pages(0x1000, SZ_4K, 1, gather())).toBe(0);
    expect(warnings.length).toBe(1);
  });

  it('stops at the first hole inside the run', () => {
    const { pt } = setup();
    pt.map_pages(0x1000, 0x5000, SZ_4K, 2, RW);
    expect(pt.unmap_pages(0x1000, SZ_4K, 4, gather())).toBe(2 * SZ_4K);
  });

  it('refuses to split a block: 0, one WARN, the block stays (6.13+, no split on unmap)', () => {
    const { pt, warnings } = setup();
    pt.map_pages(0x20_0000, 0x40_0000, SZ_2M, 1, RW);
    expect(pt.unmap_pages(0x20_1000, SZ_4K, 1, gather())).toBe(0);
    expect(pt.unmap_pages(0x20_2000, SZ_4K, 1, gather())).toBe(0);
    expect(warnings).toEqual(['Unmap of a partial large IOPTE is not allowed']);
    expect(pt.iova_to_phys(0x20_1000)).toBe(0x40_1000);
    expect(pt.unmap_pages(0x20_0000, SZ_2M, 1, gather())).toBe(SZ_2M);
  });

  it('a 1 GiB block unmaps whole', () => {
    const { pt } = setup();
    pt.map_pages(SZ_1G, 0, SZ_1G, 1, RW);
    expect(pt.unmap_pages(SZ_1G, SZ_1G, 1, gather())).toBe(SZ_1G);
    expect(pt.iova_to_phys(SZ_1G)).toBe(0);
  });
});

describe('table lifetime (arm_lpae_free_pgtable, free_io_pgtable_ops)', () => {
  it('free() returns every table; free_io_pgtable_ops flushes the TLB first', () => {
    const pool = arm_lpae_pool_alloc(4);
    const { pt, calls } = setup({ pool });
    pt.map_pages(0x1000, 0x1000, SZ_4K, 1, RW);
    pt.map_pages(0x80_0000_0000, 0, SZ_2M, 1, RW);
    pt.map_pages(0x40_0000_0000, 0, SZ_1G, 1, RW);
    expect(pt.live_tables).toBe(6);
    expect(pool.live_tables).toBe(6);
    free_io_pgtable_ops(pt);
    expect(calls).toContain('all');
    expect(pt.live_tables).toBe(0);
    expect(pool.live_tables).toBe(0);
  });

  it('unmapping leaves intermediate tables (as the C does) until free()', () => {
    const { pt } = setup();
    pt.map_pages(0x1000, 0x1000, SZ_4K, 1, RW);
    pt.unmap_pages(0x1000, SZ_4K, 1, gather());
    expect(pt.live_tables).toBe(4);
    pt.free();
    expect(pt.live_tables).toBe(0);
  });

  it('the pool grows past its first size and reuses freed slots', () => {
    const pool = arm_lpae_pool_alloc(2);
    const a = setup({ pool }).pt;
    for (let i = 0; i < 40; i++) expect(a.map_pages(i * SZ_1G, i * SZ_1G, SZ_4K, 1, RW).ret).toBe(0);
    for (let i = 0; i < 40; i++) expect(a.iova_to_phys(i * SZ_1G + 8)).toBe(i * SZ_1G + 8);
    const high = pool.nr_slots;
    a.free();
    const b = setup({ pool }).pt;
    for (let i = 0; i < 40; i++) b.map_pages(i * SZ_1G, 0, SZ_4K, 1, RW);
    expect(pool.nr_slots).toBe(high);
    expect(b.iova_to_phys(SZ_1G * 3)).toBe(0);
  });

  it('a PGD is allocated and counted from arm_lpae_alloc_pgtable() to its free; its zeroes take no pool slot until its first descriptor', () => {
    const pool = arm_lpae_pool_alloc(2);
    const tables = Array.from({ length: 100 }, () => setup({ pool }).pt);
    // a hundred PGDs allocated, none written: all read the zero table, no slot taken
    expect(pool.live_tables).toBe(100);
    expect(pool.nr_slots).toBe(1);
    expect(tables[7]!.iova_to_phys(0x1000)).toBe(0);
    expect(tables[7]!.unmap_pages(0x1000, SZ_4K, 1, gather())).toBe(0);
    // the first map gives that PGD a slot of its own (and its three tables below); the others stay zero
    expect(tables[7]!.map_pages(0x1000, 0x5000, SZ_4K, 1, RW).ret).toBe(0);
    expect(pool.nr_slots).toBe(5);
    expect(tables[7]!.iova_to_phys(0x1008)).toBe(0x5008);
    expect(tables[8]!.iova_to_phys(0x1008)).toBe(0);
    expect(tables[8]!.pgd).toBe(0);
    // freed: every table goes, written or not, and a new PGD reuses a root
    for (const pt of tables) free_io_pgtable_ops(pt);
    expect(pool.live_tables).toBe(0);
    const again = setup({ pool }).pt;
    expect(again.iova_to_phys(0x1008)).toBe(0);
    expect(pool.live_tables).toBe(1);
  });

  it('a 32-bit PGD never maps past its four entries', () => {
    const pt = arm_lpae_alloc_pgtable_s1({ ias: 32 })!;
    expect(pt.map_pages(3 * SZ_1G, 0, SZ_1G, 4, RW)).toEqual({ ret: 0, mapped: SZ_1G });
  });
});
