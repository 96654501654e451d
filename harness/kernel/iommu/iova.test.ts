// Pins down drivers/iommu/iova.c as modelled in iova.ts: init_iova_domain, alloc_iova
// (__alloc_and_insert_iova_range with its cached nodes and retry), alloc_iova_fast's rounding,
// find_iova, free_iova (__cached_rbnode_delete_update), reserve_iova, put_iova_domain.
import { describe, expect, it } from 'vitest';
import {
  IOVA_MAG_SIZE, alloc_iova, alloc_iova_fast, find_iova, free_iova, free_iova_fast, init_iova_domain, iova_domain_live,
  iova_ranges, put_iova_domain, reserve_iova,
} from './iova.ts';

const G = 4096;
const LIMIT32 = 0xfffff; // DMA_BIT_MASK(32) >> 12

describe('alloc_iova', () => {
  it('allocates top-down from limit_pfn', () => {
    const iovad = init_iova_domain(G, 1);
    expect([1, 2, 3].map(() => alloc_iova(iovad, 1, LIMIT32, true))).toEqual([0xfffff, 0xffffe, 0xffffd]);
    expect(iova_domain_live(iovad)).toBe(3);
  });

  it('an empty domain shares the anchor-only arrays; its first range gives it arrays of its own, and the other empty domains stay empty', () => {
    const [a, b, c] = [init_iova_domain(G, 1), init_iova_domain(G, 1), init_iova_domain(G, 1)];
    expect(a.pfn_lo).toBe(b.pfn_lo);
    expect(alloc_iova(a, 1, LIMIT32, true)).toBe(0xfffff);
    expect(a.pfn_lo).not.toBe(b.pfn_lo);
    expect(alloc_iova(b, 2, LIMIT32, true)).toBe(0xffffe);
    expect([find_iova(a, 0xfffff), find_iova(b, 0xfffff), find_iova(c, 0xfffff)]).toEqual([{ pfn_lo: 0xfffff, pfn_hi: 0xfffff }, { pfn_lo: 0xffffe, pfn_hi: 0xfffff }, null]);
    expect(iova_ranges(c)).toEqual(iova_ranges(init_iova_domain(G, 1)));
  });

  it('size-aligned: pfn_lo is a multiple of roundup_pow_of_two(size); unaligned packs tight', () => {
    const iovad = init_iova_domain(G, 1);
    expect(alloc_iova(iovad, 1, LIMIT32, true)).toBe(0xfffff);
    expect(alloc_iova(iovad, 3, LIMIT32, true)).toBe(0xffffc); // (0xfffff - 3) rounded down to 4
    expect(alloc_iova(iovad, 16, LIMIT32, true) % 16).toBe(0);
    const plain = init_iova_domain(G, 1);
    expect(alloc_iova(plain, 3, 0x1000, false)).toBe(0xffe);
  });

  it('respects the limit (a DMA mask) for every allocation', () => {
    const iovad = init_iova_domain(G, 1);
    const limit = 0xdffff; // a 0xe0000000 - 1 mask
    for (let i = 0; i < 50; i++) {
      const pfn = alloc_iova(iovad, 1 + (i % 5), limit, true);
      expect(pfn).toBeGreaterThan(0);
      expect(find_iova(iovad, pfn)!.pfn_hi).toBeLessThanOrEqual(limit);
    }
  });

  it('never goes below start_pfn: returns 0 when the window is full', () => {
    const iovad = init_iova_domain(G, 0x100);
    expect(alloc_iova(iovad, 4, 0x103, true)).toBe(0x100);
    expect(alloc_iova(iovad, 1, 0x103, true)).toBe(0);
    expect(alloc_iova(iovad, 1, 0xff, true)).toBe(0);
  });

  it('retries above the cached node when the walk below it fails', () => {
    const iovad = init_iova_domain(G, 0xff0);
    for (let i = 0; i < 16; i++) expect(alloc_iova(iovad, 1, 0xfff, false)).toBe(0xfff - i);
    expect(alloc_iova(iovad, 1, 0x1fff, false)).toBe(0x1fff);
  });

  it('allocations above 4 GiB use their own cached node', () => {
    const iovad = init_iova_domain(G, 1);
    const big = 2 ** 36 - 1; // 48-bit space
    expect(alloc_iova(iovad, 1, big, true)).toBe(big);
    expect(alloc_iova(iovad, 1, LIMIT32, true)).toBe(LIMIT32);
    expect(alloc_iova(iovad, 1, big, true)).toBe(big - 1);
  });
});

describe('alloc_iova_fast', () => {
  it('rounds sizes below 32 pages up to a power of two, and aligns', () => {
    const iovad = init_iova_domain(G, 1);
    const pfn = alloc_iova_fast(iovad, 3, LIMIT32);
    expect(find_iova(iovad, pfn)).toEqual({ pfn_lo: 0xffffc, pfn_hi: 0xfffff });
    const big = alloc_iova_fast(iovad, 33, LIMIT32);
    const r = find_iova(iovad, big)!;
    expect(r.pfn_hi - r.pfn_lo + 1).toBe(33);
    expect(r.pfn_lo % 64).toBe(0);
  });
});

describe('the rcache (free_iova_fast / alloc_iova_fast)', () => {
  it('a freed range is parked, not counted live, and handed back newest first for the same size order', () => {
    const iovad = init_iova_domain(G, 1);
    const a = alloc_iova_fast(iovad, 2, LIMIT32);
    const b = alloc_iova_fast(iovad, 2, LIMIT32);
    free_iova_fast(iovad, a, 2);
    free_iova_fast(iovad, b, 2);
    expect(iova_domain_live(iovad)).toBe(0);
    expect(find_iova(iovad, a)).not.toBeNull(); // still in the tree, as in the C
    expect(alloc_iova_fast(iovad, 2, LIMIT32)).toBe(b);
    expect(alloc_iova_fast(iovad, 2, LIMIT32)).toBe(a);
    expect(iova_domain_live(iovad)).toBe(2);
  });

  it('a parked range above the caller\'s limit is not used; ranges over 32 pages are never parked', () => {
    const iovad = init_iova_domain(G, 1);
    const high = alloc_iova_fast(iovad, 1, LIMIT32);
    free_iova_fast(iovad, high, 1);
    expect(alloc_iova_fast(iovad, 1, 0xfff)).toBe(0xfff);
    const big = alloc_iova_fast(iovad, 64, LIMIT32);
    free_iova_fast(iovad, big, 64);
    expect(find_iova(iovad, big)).toBeNull();
  });

  it('magazines spill into the depot and come back; a failed allocation flushes the rcache and retries', () => {
    const iovad = init_iova_domain(G, 1);
    const n = 0x3ff; // the whole window, one page each: more than three magazines
    expect(n).toBeGreaterThan(3 * IOVA_MAG_SIZE);
    const pfns = Array.from({ length: n }, () => alloc_iova_fast(iovad, 1, 0x3ff));
    expect(pfns.filter((p) => p === 0).length).toBe(0);
    for (const p of pfns) free_iova_fast(iovad, p, 1);
    const again = new Set(Array.from({ length: n }, () => alloc_iova_fast(iovad, 1, 0x3ff)));
    expect(again).toEqual(new Set(pfns));
    for (const p of again) free_iova_fast(iovad, p, 1);
    const one = alloc_iova_fast(iovad, 1, 0x3ff, false);
    expect(one).toBeGreaterThan(0);
    free_iova_fast(iovad, one, 1);
    // the window is all parked 1-page ranges: a 4-page request fits only once they are flushed back
    expect(alloc_iova_fast(iovad, 4, 0x3ff, false)).toBe(0);
    expect(alloc_iova_fast(iovad, 4, 0x3ff)).toBe(0x3fc);
    expect(iova_domain_live(iovad)).toBe(1);
  });
});

describe('free_iova and reuse', () => {
  it('frees by any pfn in the range; the freed space is found again first', () => {
    const iovad = init_iova_domain(G, 1);
    const a = alloc_iova(iovad, 4, LIMIT32, true);
    const b = alloc_iova(iovad, 4, LIMIT32, true);
    alloc_iova(iovad, 4, LIMIT32, true);
    expect(free_iova(iovad, b + 2)).toBe(true);
    expect(find_iova(iovad, b)).toBeNull();
    expect(alloc_iova(iovad, 4, LIMIT32, true)).toBe(b);
    expect(free_iova(iovad, a)).toBe(true);
    expect(alloc_iova(iovad, 4, LIMIT32, true)).toBe(a);
    expect(free_iova(iovad, 0x1234)).toBe(false);
    expect(iova_domain_live(iovad)).toBe(3);
  });

  it('reserve_iova keeps a window out of allocation, merging overlaps', () => {
    const iovad = init_iova_domain(G, 1);
    reserve_iova(iovad, 0xfff00, 0xfffff);
    expect(reserve_iova(iovad, 0xffef0, 0xfff10)).toEqual({ pfn_lo: 0xffef0, pfn_hi: 0xfffff });
    expect(alloc_iova(iovad, 1, LIMIT32, true)).toBe(0xffeef);
    put_iova_domain(iovad);
    expect(iova_domain_live(iovad)).toBe(0);
  });
});

describe('the tree under load', () => {
  it('random allocate/free keeps ranges disjoint, ordered and within bounds', () => {
    const iovad = init_iova_domain(G, 0x10);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const live: number[] = [];
    let bad_frees = 0;
    for (let step = 0; step < 6000; step++) {
      if (live.length && rnd(3) === 0) {
        const [pfn] = live.splice(rnd(live.length), 1);
        if (!free_iova(iovad, pfn!)) bad_frees++;
      } else {
        const limit = rnd(2) ? LIMIT32 : 0x3ffff;
        const pfn = alloc_iova_fast(iovad, 1 + rnd(40), limit);
        if (pfn) live.push(pfn);
      }
    }
    expect(bad_frees).toBe(0);
    const ranges = iova_ranges(iovad);
    expect(ranges.length).toBe(live.length);
    expect(iova_domain_live(iovad)).toBe(live.length);
    for (let i = 0; i < ranges.length; i++) {
      expect(ranges[i]!.pfn_lo).toBeGreaterThanOrEqual(0x10);
      expect(ranges[i]!.pfn_hi).toBeLessThanOrEqual(LIMIT32);
      if (i) expect(ranges[i]!.pfn_lo).toBeGreaterThan(ranges[i - 1]!.pfn_hi);
    }
    for (const pfn of live) expect(find_iova(iovad, pfn)!.pfn_lo).toBe(pfn);
  });

  it('holds 100,000 live ranges', () => {
    const iovad = init_iova_domain(G, 1);
    let ok = 0;
    for (let i = 0; i < 100_000; i++) if (alloc_iova_fast(iovad, 1, LIMIT32) === LIMIT32 - i) ok++;
    expect(ok).toBe(100_000);
    expect(iova_domain_live(iovad)).toBe(100_000);
    expect(free_iova(iovad, LIMIT32 - 50_000)).toBe(true);
    expect(alloc_iova_fast(iovad, 1, LIMIT32)).toBe(LIMIT32 - 50_000);
  });
});
