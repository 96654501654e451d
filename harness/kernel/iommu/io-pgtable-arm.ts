// drivers/iommu/io-pgtable-arm.c: the LPAE stage-1 page-table format (AArch64, 4 KiB granule)
// that arm-smmu gives every translating domain.
//
// Shape: 4 levels (0..3), 9 bits each, 512 eight-byte descriptors per table; leaves are 1 GiB
// blocks at level 1, 2 MiB blocks at level 2 and 4 KiB pages at level 3; level 0 holds tables
// only. Like the C (arm_lpae_alloc_pgtable) the walk starts at the level the input size needs:
// ias 48 -> 4 levels (start 0), ias 39 -> 3 levels (start 1), ias 32 -> start 1 with a 4-entry
// PGD. Behaviour follows Linux 6.13+: unmapping part of a block is refused with a WARN and
// returns 0 (commit 33729a5fc0ca "Remove split on unmap behavior"); mapping a block where a
// table is unmaps and frees that table first (arm_lpae_init_pte), as the C still does.
//
// Data layout (why it does not look like the C): every table lives in ONE growable Int32Array
// pool, 512 descriptors per slot, shared by all page tables of one owner (arm-smmu keeps one
// pool per SMMU instance, the way its tables share one memory). A descriptor is the
// architectural 64-bit value as it sits in little-endian memory: two 32-bit words, the low one
// first (words 2d and 2d + 1 of descriptor d). Its value:
//   0                       invalid
//   slot * 4096 + 3         table at levels 0..2 (the table's "address" is its pool slot; the
//                           pool stays below 2^20 slots, so the high word of a table is 0)
//   paddr + attributes      leaf: type 1 (block) or 3 (page at level 3), AP, SH, AF, nG bits
// so the hardware walker (arm-smmu-hw.ts) reads the same bits a real SMMU would, with integer
// operations on the words. This file reads and writes whole descriptors as doubles (exact:
// output addresses stay below 2^48) through pte_read() / pte_write(). Freed slots go on a free
// list and are zeroed when reused; `live_tables` counts the tables the kernel holds, per page
// table and per pool, for the teardown leak check.
//
// PGDs: the C allocates a page for every PGD (a DMA domain's page table gets one at its first
// attach) and TTBR0 points at it. Most context devices of a large run never map anything, and
// 4 KiB of zeroes each made most of the memory of 10,000 contexts. So the model stores a PGD
// the way a kernel stores an untouched anonymous page: TTBR0 holds the PGD's root (a handle,
// like a physical address), the pool's `roots` say where that root's descriptors are, and a
// PGD nothing was written to reads the pool's zero table (slot 0, never handed out, never
// written). Its first descriptor gives it a slot of its own. The PGD is allocated and counted
// (live_tables) from arm_lpae_alloc_pgtable() to its free, as in the C; only where its zeroes
// are kept differs. The hardware walker resolves the root once per walk.
import { EEXIST, EINVAL, ERANGE } from '../errno.ts';
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, type iommu_iotlb_gather } from './iommu-types.ts';

export const SZ_4K = 0x1000;
export const SZ_2M = 0x200000;
export const SZ_1G = 0x40000000;

export const ARM_LPAE_MAX_LEVELS = 4;
export const ARM_LPAE_MAX_ADDR_BITS = 48;
export const ARM_LPAE_GRANULE = SZ_4K;
export const ARM_LPAE_PTES_PER_TABLE = 512;
const ARM_LPAE_BITS_PER_LEVEL = 9;
const ARM_LPAE_PG_SHIFT = 12;

/** ARM_LPAE_BLOCK_SIZE(lvl): what one descriptor at each level covers (also the index divisor) */
export const ARM_LPAE_BLOCK_SIZE = new Float64Array([2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12]);

// Descriptor bits (io-pgtable-arm.c / io-pgtable-arm.h), all in the low 12 bits.
export const ARM_LPAE_PTE_TYPE_MASK = 0x3;
export const ARM_LPAE_PTE_TYPE_BLOCK = 1;
export const ARM_LPAE_PTE_TYPE_TABLE = 3;
export const ARM_LPAE_PTE_TYPE_PAGE = 3;
export const ARM_LPAE_PTE_ATTRINDX_SHIFT = 2;
export const ARM_LPAE_PTE_AP_UNPRIV = 1 << 6;
export const ARM_LPAE_PTE_AP_RDONLY = 2 << 6;
export const ARM_LPAE_PTE_SH_OS = 2 << 8;
export const ARM_LPAE_PTE_SH_IS = 3 << 8;
export const ARM_LPAE_PTE_AF = 1 << 10;
export const ARM_LPAE_PTE_nG = 1 << 11;
export const ARM_LPAE_PTE_ATTR_MASK = 0xfff;
const ARM_LPAE_MAIR_ATTR_IDX_CACHE = 1;

/** struct iommu_flush_ops: how the page table asks its IOMMU driver to invalidate TLBs; as in
 *  the C, one static table per driver, and each call is given the page table's cookie */
export interface iommu_flush_ops {
  tlb_flush_all: (cookie: unknown) => void;
  tlb_flush_walk: (iova: number, size: number, granule: number, cookie: unknown) => void;
  tlb_add_page: (gather: iommu_iotlb_gather, iova: number, granule: number, cookie: unknown) => void;
}

/** struct io_pgtable_cfg, reduced to what ARM_64_LPAE_S1 uses, plus the model's pool */
export interface io_pgtable_cfg {
  /** input address bits (the SMMU's va_size), at most 48 */
  ias: number;
  /** output address bits; 48 when not given */
  oas?: number;
  /** restricted to SZ_4K | SZ_2M | SZ_1G by arm_lpae_restrict_pgsizes() */
  pgsize_bitmap?: number;
  tlb?: iommu_flush_ops | null;
  /** passed back to every tlb call (the driver's domain) */
  cookie?: unknown;
  /** the table pool to allocate from; a private one when not given */
  pool?: arm_lpae_pool;
  /** where WARN()s go (the driver records them in the kernel log) */
  warn?: (message: string) => void;
}

/** The table memory of one owner: 512-entry slots in one growable typed array. */
export interface arm_lpae_pool {
  /** two 32-bit words per descriptor, low word first */
  ptes: Int32Array;
  /** slots ever handed out (high-water mark), the zero table included */
  nr_slots: number;
  free_slots: Int32Array;
  nr_free: number;
  /** tables allocated (PGDs still on the zero table included) */
  live_tables: number;
  /** per PGD root (what TTBR0 holds): the pool offset of its descriptors, ARM_LPAE_ZERO_TABLE
   *  until its first descriptor is written */
  roots: Int32Array;
  /** roots ever handed out (high-water mark) */
  nr_roots: number;
  free_roots: Int32Array;
  nr_free_roots: number;
}

/** Pool offset of the zero table: slot 0, all invalid descriptors, never written. */
export const ARM_LPAE_ZERO_TABLE = 0;

/** A pool with room for `tables` tables (and as many PGD roots) before it first grows. */
export function arm_lpae_pool_alloc(tables = 64): arm_lpae_pool {
  const n = Math.max(2, tables + 1);
  return {
    ptes: new Int32Array(n * ARM_LPAE_PTES_PER_TABLE * 2), nr_slots: 1, free_slots: new Int32Array(n), nr_free: 0, live_tables: 0,
    roots: new Int32Array(n), nr_roots: 0, free_roots: new Int32Array(n), nr_free_roots: 0,
  };
}

/** Most tables one pool holds: a table descriptor's address must fit the low word. */
const ARM_LPAE_POOL_MAX_SLOTS = 2 ** 20;

/** READ_ONCE(*ptep): descriptor `d` of the pool, its 64-bit value as a double */
export function pte_read(ptes: Int32Array, d: number): number {
  return ptes[2 * d + 1]! * 4294967296 + (ptes[2 * d]! >>> 0);
}

/** WRITE_ONCE(*ptep, pte): descriptor `d` of the pool takes `pte` (below 2^48) */
export function pte_write(ptes: Int32Array, d: number, pte: number): void {
  ptes[2 * d] = pte >>> 0;
  ptes[2 * d + 1] = Math.floor(pte / 4294967296);
}

/** memset() of descriptors [from, to) to 0 */
function pte_clear(ptes: Int32Array, from: number, to: number): void {
  ptes.fill(0, 2 * from, 2 * to);
}

/** __arm_lpae_alloc_pages() (io-pgtable-arm.c): a zeroed table; returns its slot */
function __arm_lpae_alloc_pages(pool: arm_lpae_pool): number {
  pool.live_tables++;
  return pool_take_slot(pool);
}

/** __arm_lpae_free_pages() (io-pgtable-arm.c) */
function __arm_lpae_free_pages(pool: arm_lpae_pool, slot: number): void {
  pool.live_tables--;
  pool_put_slot(pool, slot);
}

/** A zeroed slot of the pool's memory for a table. */
function pool_take_slot(pool: arm_lpae_pool): number {
  let slot: number;
  if (pool.nr_free > 0) {
    slot = pool.free_slots[--pool.nr_free]!;
    // a table used before: zeroed here (a slot never handed out is still zero from its
    // allocation, and left untouched so that its memory is not written before it is used)
    const base = slot * ARM_LPAE_PTES_PER_TABLE;
    pte_clear(pool.ptes, base, base + ARM_LPAE_PTES_PER_TABLE);
  } else {
    const capacity = pool.ptes.length / (2 * ARM_LPAE_PTES_PER_TABLE);
    if (pool.nr_slots === capacity) {
      // a quarter more each time: still a constant cost per table, with at most a quarter of
      // the pool unused (doubling left a pool of 4,099 tables 16 MB larger than its tables)
      const more = Math.min(ARM_LPAE_POOL_MAX_SLOTS, capacity + Math.max(64, capacity >> 2));
      if (more === capacity) throw new RangeError(`io-pgtable pool: more than ${ARM_LPAE_POOL_MAX_SLOTS} tables`);
      const grown = new Int32Array(more * ARM_LPAE_PTES_PER_TABLE * 2);
      grown.set(pool.ptes);
      pool.ptes = grown;
      const free = new Int32Array(more);
      free.set(pool.free_slots);
      pool.free_slots = free;
    }
    slot = pool.nr_slots++;
  }
  return slot;
}

function pool_put_slot(pool: arm_lpae_pool, slot: number): void {
  pool.free_slots[pool.nr_free++] = slot;
}

/** The PGD of a new page table: allocated (counted) at once, kept on the zero table. */
function pgd_root_alloc(pool: arm_lpae_pool): number {
  pool.live_tables++;
  if (pool.nr_free_roots > 0) return pool.free_roots[--pool.nr_free_roots]!;
  if (pool.nr_roots === pool.roots.length) {
    const more = pool.roots.length + Math.max(64, pool.roots.length >> 2);
    const roots = new Int32Array(more);
    roots.set(pool.roots);
    pool.roots = roots;
    const free = new Int32Array(more);
    free.set(pool.free_roots);
    pool.free_roots = free;
  }
  pool.roots[pool.nr_roots] = ARM_LPAE_ZERO_TABLE;
  return pool.nr_roots++;
}

/** Where the descriptors of PGD `root` can be written: its own slot, taken on first use. */
function pgd_for_write(pool: arm_lpae_pool, root: number): number {
  const base = pool.roots[root]!;
  if (base !== ARM_LPAE_ZERO_TABLE) return base;
  return (pool.roots[root] = pool_take_slot(pool) * ARM_LPAE_PTES_PER_TABLE);
}

/** The PGD's free: its slot (if it took one) and its root go back. */
function pgd_root_free(pool: arm_lpae_pool, root: number): void {
  const base = pool.roots[root]!;
  if (base !== ARM_LPAE_ZERO_TABLE) pool_put_slot(pool, base / ARM_LPAE_PTES_PER_TABLE);
  pool.roots[root] = ARM_LPAE_ZERO_TABLE;
  pool.free_roots[pool.nr_free_roots++] = root;
  pool.live_tables--;
}

/** iopte_leaf() (io-pgtable-arm.c): a page at the last level, a block above it */
export function iopte_leaf(pte: number, lvl: number): boolean {
  const type = pte & ARM_LPAE_PTE_TYPE_MASK;
  return lvl === ARM_LPAE_MAX_LEVELS - 1 ? type === ARM_LPAE_PTE_TYPE_PAGE : type === ARM_LPAE_PTE_TYPE_BLOCK;
}

/** iopte_table() (io-pgtable-arm.c) */
export function iopte_table(pte: number, lvl: number): boolean {
  return lvl < ARM_LPAE_MAX_LEVELS - 1 && (pte & ARM_LPAE_PTE_TYPE_MASK) === ARM_LPAE_PTE_TYPE_TABLE;
}

/** iopte_deref(): the pool offset of the table a table descriptor points at */
export function iopte_deref(pte: number): number {
  return (pte >>> ARM_LPAE_PG_SHIFT) * ARM_LPAE_PTES_PER_TABLE;
}

/** ARM_LPAE_LVL_IDX(): the 9 index bits of `iova` at `lvl` (no bitwise shift: iova can exceed 2^32) */
export function arm_lpae_lvl_idx(iova: number, lvl: number): number {
  return (iova / ARM_LPAE_BLOCK_SIZE[lvl]!) & (ARM_LPAE_PTES_PER_TABLE - 1);
}

/** arm_lpae_prot_to_pte() (io-pgtable-arm.c), stage-1 part */
function arm_lpae_prot_to_pte(prot: number): number {
  let pte = ARM_LPAE_PTE_nG | ARM_LPAE_PTE_AP_UNPRIV | ARM_LPAE_PTE_AF;
  if (!(prot & IOMMU_WRITE) && (prot & IOMMU_READ)) pte |= ARM_LPAE_PTE_AP_RDONLY;
  if (prot & IOMMU_CACHE) pte |= (ARM_LPAE_MAIR_ATTR_IDX_CACHE << ARM_LPAE_PTE_ATTRINDX_SHIFT) | ARM_LPAE_PTE_SH_IS;
  else pte |= ARM_LPAE_PTE_SH_OS;
  return pte;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** struct arm_lpae_io_pgtable with its io_pgtable_ops (map_pages / unmap_pages / iova_to_phys). */
export class arm_lpae_io_pgtable {
  readonly pool: arm_lpae_pool;
  readonly ias: number;
  readonly oas: number;
  readonly pgsize_bitmap: number;
  readonly start_level: number;
  /** descriptors used in the PGD (2^pgd_bits) */
  readonly pgd_entries: number;
  /** the PGD's root in the pool (what TTBR0 points at) */
  readonly root: number;
  /** tables of this page table still allocated, the PGD included */
  live_tables = 1;
  freed = false;
  /** out-parameter of __arm_lpae_map (avoids allocating on the map path) */
  mapped_scratch = 0;
  readonly tlb: iommu_flush_ops | null;
  readonly cookie: unknown;
  readonly warn: (message: string) => void;
  private warned_split = false;

  constructor(cfg: io_pgtable_cfg, start_level: number, pgd_bits: number) {
    this.pool = cfg.pool ?? arm_lpae_pool_alloc();
    this.ias = cfg.ias;
    this.oas = cfg.oas ?? ARM_LPAE_MAX_ADDR_BITS;
    this.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
    this.start_level = start_level;
    this.pgd_entries = 2 ** pgd_bits;
    this.tlb = cfg.tlb ?? null;
    this.cookie = cfg.cookie ?? null;
    this.warn = cfg.warn ?? (() => {});
    this.root = pgd_root_alloc(this.pool);
  }

  /** pool offset of the PGD's descriptors, to read them (the zero table until written) */
  get pgd(): number {
    return this.pool.roots[this.root]!;
  }

  /** arm_lpae_map_pages() (io-pgtable-arm.c): maps up to the end of one table; the caller loops */
  map_pages(iova: number, paddr: number, pgsize: number, pgcount: number, prot: number): { ret: number; mapped: number } {
    this.mapped_scratch = 0;
    const ret = arm_lpae_map_pages(this, iova, paddr, pgsize, pgcount, prot);
    return { ret, mapped: this.mapped_scratch };
  }

  /** arm_lpae_unmap_pages() (io-pgtable-arm.c): bytes unmapped, 0 at a hole */
  unmap_pages(iova: number, pgsize: number, pgcount: number, gather: iommu_iotlb_gather | null): number {
    if (this.freed || !pgsize || (pgsize & this.pgsize_bitmap) !== pgsize || !pgcount) {
      this.warn(`arm_lpae_unmap_pages: bad page size 0x${pgsize.toString(16)} x ${pgcount}`);
      return 0;
    }
    if (iova < 0 || iova >= 2 ** this.ias) {
      this.warn(`arm_lpae_unmap_pages: iova ${hex(iova)} beyond ${this.ias}-bit input range`);
      return 0;
    }
    return __arm_lpae_unmap(this, gather, iova, pgsize, pgcount, this.start_level, this.pgd);
  }

  /** arm_lpae_iova_to_phys() (io-pgtable-arm.c): software walk, 0 if unmapped */
  iova_to_phys(iova: number): number {
    if (this.freed || iova < 0 || iova >= 2 ** this.ias) return 0;
    const ptes = this.pool.ptes;
    let base = this.pgd;
    for (let lvl = this.start_level; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
      const pte = pte_read(ptes, base + arm_lpae_lvl_idx(iova, lvl));
      if (iopte_leaf(pte, lvl)) {
        const size = ARM_LPAE_BLOCK_SIZE[lvl]!;
        return pte - (pte & ARM_LPAE_PTE_ATTR_MASK) + (iova % size);
      }
      if (!iopte_table(pte, lvl)) return 0;
      base = iopte_deref(pte);
    }
    return 0;
  }

  /** arm_lpae_free_pgtable() (io-pgtable-arm.c): every table, no TLB maintenance */
  free(): void {
    if (this.freed) return;
    __arm_lpae_free_tables_below(this, this.start_level, this.pgd);
    pgd_root_free(this.pool, this.root);
    this.live_tables--;
    this.freed = true;
  }

  /** WARN_ONCE(true, "Unmap of a partial large IOPTE is not allowed") */
  warn_split(): void {
    if (this.warned_split) return;
    this.warned_split = true;
    this.warn('Unmap of a partial large IOPTE is not allowed');
  }
}

/**
 * arm_64_lpae_alloc_pgtable_s1() via arm_lpae_alloc_pgtable() (io-pgtable-arm.c): the start
 * level and PGD size follow from ias; null (the C's NULL -> -ENOMEM) for an unsupported ias.
 */
export function arm_lpae_alloc_pgtable_s1(cfg: io_pgtable_cfg): arm_lpae_io_pgtable | null {
  if (cfg.ias > ARM_LPAE_MAX_ADDR_BITS || cfg.ias <= ARM_LPAE_PG_SHIFT || (cfg.oas ?? 48) > ARM_LPAE_MAX_ADDR_BITS) return null;
  const va_bits = cfg.ias - ARM_LPAE_PG_SHIFT;
  const levels = Math.ceil(va_bits / ARM_LPAE_BITS_PER_LEVEL);
  const start_level = ARM_LPAE_MAX_LEVELS - levels;
  const pgd_bits = va_bits - ARM_LPAE_BITS_PER_LEVEL * (levels - 1);
  return new arm_lpae_io_pgtable(cfg, start_level, pgd_bits);
}

/** free_io_pgtable_ops() (io-pgtable.c): flush the whole TLB context, then free the tables */
export function free_io_pgtable_ops(ops: arm_lpae_io_pgtable | null): void {
  if (!ops) return;
  ops.tlb?.tlb_flush_all(ops.cookie);
  ops.free();
}

/** arm_lpae_max_entries() (io-pgtable-arm.c): entries left in this table from index idx */
function arm_lpae_max_entries(data: arm_lpae_io_pgtable, lvl: number, idx: number): number {
  // a short PGD has fewer entries than a full table: never write past it
  const entries = lvl === data.start_level ? data.pgd_entries : ARM_LPAE_PTES_PER_TABLE;
  return entries - idx;
}

/** arm_lpae_map_pages() (io-pgtable-arm.c): argument checks, then __arm_lpae_map() */
function arm_lpae_map_pages(data: arm_lpae_io_pgtable, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number): number {
  // pgsize must be exactly one supported size (the C tests the bitmap; a single bit is implied)
  if (data.freed || !pgsize || (pgsize & data.pgsize_bitmap) !== pgsize || (pgsize & (pgsize - 1))) {
    data.warn(`arm_lpae_map_pages: unsupported page size 0x${pgsize.toString(16)}`);
    return -EINVAL;
  }
  if (iova < 0 || iova >= 2 ** data.ias || paddr < 0 || paddr >= 2 ** data.oas) {
    data.warn(`arm_lpae_map_pages: iova ${hex(iova)} / paddr ${hex(paddr)} out of range`);
    return -ERANGE;
  }
  if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
  // The C trusts iommu_map() to align both addresses to pgsize; the model checks it.
  if (iova % pgsize || paddr % pgsize) return -EINVAL;
  return __arm_lpae_map(data, iova, paddr, pgsize, pgcount, arm_lpae_prot_to_pte(prot), data.start_level, pgd_for_write(data.pool, data.root));
}

/** __arm_lpae_map() (io-pgtable-arm.c): walk down, making tables, until size matches a level */
function __arm_lpae_map(data: arm_lpae_io_pgtable, iova: number, paddr: number, size: number, pgcount: number, prot: number, lvl: number, base: number): number {
  for (;;) {
    const idx = arm_lpae_lvl_idx(iova, lvl);
    if (size === ARM_LPAE_BLOCK_SIZE[lvl]) {
      const num = Math.min(pgcount, arm_lpae_max_entries(data, lvl, idx));
      const ret = arm_lpae_init_pte(data, iova, paddr, prot, lvl, num, base, idx);
      if (!ret) data.mapped_scratch += num * size;
      return ret;
    }
    if (lvl >= ARM_LPAE_MAX_LEVELS - 1) {
      data.warn('__arm_lpae_map: no table below the last level');
      return -EINVAL;
    }
    let pte = pte_read(data.pool.ptes, base + idx);
    if (pte === 0) {
      const slot = __arm_lpae_alloc_pages(data.pool);
      data.live_tables++;
      pte = slot * ARM_LPAE_GRANULE + ARM_LPAE_PTE_TYPE_TABLE;
      pte_write(data.pool.ptes, base + idx, pte); // re-read: the pool may have grown
    }
    if (iopte_leaf(pte, lvl)) {
      // "We require an unmap first"
      data.warn(`__arm_lpae_map: iova ${hex(iova)} already mapped by a block at level ${lvl}`);
      return -EEXIST;
    }
    base = iopte_deref(pte);
    lvl++;
  }
}

/**
 * arm_lpae_init_pte() (io-pgtable-arm.c): -EEXIST on a mapped leaf; a table where a block goes
 * is unmapped and freed first; then __arm_lpae_init_pte() writes the leaves.
 */
function arm_lpae_init_pte(data: arm_lpae_io_pgtable, iova: number, paddr: number, prot: number, lvl: number, num: number, base: number, idx: number): number {
  const sz = ARM_LPAE_BLOCK_SIZE[lvl]!;
  const ptes = data.pool.ptes;
  for (let i = 0; i < num; i++) {
    const pte = pte_read(ptes, base + idx + i);
    if (iopte_leaf(pte, lvl)) {
      data.warn(`arm_lpae_init_pte: iova ${hex(iova + i * sz)} already mapped`);
      return -EEXIST;
    }
    if ((pte & ARM_LPAE_PTE_TYPE_MASK) === ARM_LPAE_PTE_TYPE_TABLE) {
      if (__arm_lpae_unmap(data, null, iova + i * sz, sz, 1, lvl, base) !== sz) {
        data.warn('arm_lpae_init_pte: could not free the table under a new block');
        return -EINVAL;
      }
    }
  }
  const type = lvl === ARM_LPAE_MAX_LEVELS - 1 ? ARM_LPAE_PTE_TYPE_PAGE : ARM_LPAE_PTE_TYPE_BLOCK;
  for (let i = 0; i < num; i++) pte_write(ptes, base + idx + i, paddr + i * sz + (prot | type));
  return 0;
}

/**
 * __arm_lpae_unmap() (io-pgtable-arm.c): clear `pgcount` entries of `size` at the level where
 * size matches, freeing tables found there; 0 for a hole or for part of a larger block.
 */
function __arm_lpae_unmap(data: arm_lpae_io_pgtable, gather: iommu_iotlb_gather | null, iova: number, size: number, pgcount: number, lvl: number, base: number): number {
  const ptes = data.pool.ptes;
  for (;;) {
    const idx = arm_lpae_lvl_idx(iova, lvl);
    const pte = pte_read(ptes, base + idx);
    if (pte === 0) {
      data.warn(`__arm_lpae_unmap: nothing mapped at iova ${hex(iova)}`);
      return 0;
    }
    if (size === ARM_LPAE_BLOCK_SIZE[lvl]) {
      const num = Math.min(pgcount, arm_lpae_max_entries(data, lvl, idx));
      let i = 0;
      for (; i < num; i++) {
        const p = pte_read(ptes, base + idx + i);
        if (p === 0) {
          data.warn(`__arm_lpae_unmap: nothing mapped at iova ${hex(iova + i * size)}`);
          break;
        }
        if (!iopte_leaf(p, lvl)) {
          // a table where a leaf of this size would be: drop it, and any partial walks cached
          pte_write(ptes, base + idx + i, 0);
          data.tlb?.tlb_flush_walk(iova + i * size, size, ARM_LPAE_GRANULE, data.cookie);
          __arm_lpae_free_pgtable(data, lvl + 1, iopte_deref(p));
        }
      }
      pte_clear(ptes, base + idx, base + idx + i);
      if (gather && data.tlb) for (let j = 0; j < i; j++) data.tlb.tlb_add_page(gather, iova + j * size, size, data.cookie);
      return i * size;
    }
    if (iopte_leaf(pte, lvl)) {
      data.warn_split();
      return 0;
    }
    if (lvl >= ARM_LPAE_MAX_LEVELS - 1) return 0;
    base = iopte_deref(pte);
    lvl++;
  }
}

/** __arm_lpae_free_pgtable() (io-pgtable-arm.c): children first, then the table itself */
function __arm_lpae_free_pgtable(data: arm_lpae_io_pgtable, lvl: number, base: number): void {
  __arm_lpae_free_tables_below(data, lvl, base);
  __arm_lpae_free_pages(data.pool, base / ARM_LPAE_PTES_PER_TABLE);
  data.live_tables--;
}

/** The first half of __arm_lpae_free_pgtable(): every table the table at `base` points at. */
function __arm_lpae_free_tables_below(data: arm_lpae_io_pgtable, lvl: number, base: number): void {
  if (lvl >= ARM_LPAE_MAX_LEVELS - 1) return;
  const entries = lvl === data.start_level ? data.pgd_entries : ARM_LPAE_PTES_PER_TABLE;
  const ptes = data.pool.ptes;
  for (let i = 0; i < entries; i++) {
    // every valid descriptor has its type in the low word: an empty one is skipped at once
    if (ptes[2 * (base + i)] === 0) continue;
    const pte = pte_read(ptes, base + i);
    if (iopte_table(pte, lvl)) __arm_lpae_free_pgtable(data, lvl + 1, iopte_deref(pte));
  }
}
