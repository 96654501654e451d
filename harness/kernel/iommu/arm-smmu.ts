// drivers/iommu/arm/arm-smmu/arm-smmu.c: the ARM SMMUv1/v2 IOMMU driver, its iommu_ops half.
// It keeps the C's software state (the smrs[] and s2crs[] shadow arrays with their use counts
// and group pointers, the context-bank bitmap) and writes the hardware registers of
// arm-smmu-hw.ts the way the C writes MMIO. Followed: Linux 6.15 (domain_alloc_paging, S2CR
// install on attach, lazy context bank on first attach). Modelled as stage-1 only, AArch64
// format, 4 KiB granule, no runtime PM, no impl hooks, no legacy "mmu-masters" binding.
//
// How it meets the IOMMU core: arm_smmu_device_probe() builds one instance and its
// iommu_device without registering it (the caller runs iommu_device_register()); the ops are
// per instance, so probe_device() finds its SMMU the way arm_smmu_get_by_fwnode() does, by the
// fwspec's fwnode being this instance's node.
import type { device } from '../base/device.ts';
import type { Kernel, smmu_hw_config } from '../kernel.ts';
import type { device_node } from '../of/node.ts';
import type { iommu_device, iommu_domain, iommu_group, iommu_iotlb_gather, iommu_ops } from './iommu-types.ts';
import { EEXIST, EINVAL, ENODEV, ENOMEM, ENOSPC } from '../errno.ts';
import {
  SZ_1G, SZ_2M, SZ_4K, arm_lpae_alloc_pgtable_s1, arm_lpae_pool_alloc, free_io_pgtable_ops,
  type arm_lpae_io_pgtable, type arm_lpae_pool, type iommu_flush_ops,
} from './io-pgtable-arm.ts';
import {
  ARM_SMMU_CB_FSR_FAULT, ARM_SMMU_CB_FSR_PF, ARM_SMMU_CB_FSYNR0_WNR, ARM_SMMU_sGFSR_USF,
  S2CR_TYPE_BYPASS, S2CR_TYPE_FAULT, S2CR_TYPE_TRANS, smmu_hw_alloc, smmu_hw_tlbi_all, smmu_hw_tlbi_asid,
  smmu_hw_tlbi_va, smmu_hw_write_context_bank, smmu_hw_write_s2cr, smmu_hw_write_scr0, smmu_hw_write_smr,
  type arm_smmu_hw,
} from './arm-smmu-hw.ts';

/** What the lead's IOMMU core hands the driver (the C calls these core functions directly). */
export interface ArmSmmuCoreHooks {
  generic_device_group(dev: device): iommu_group;
  report_iommu_fault(domain: iommu_domain, dev: device | null, iova: number, flags: number): number;
}

/** include/linux/iommu.h */
const IOMMU_FAULT_READ = 0;
const IOMMU_FAULT_WRITE = 1;
/** arm-smmu.h: INVALID_SMENDX */
const INVALID_SMENDX = -1;
/** arm-smmu.h: ARM_SMMU_SMR_ID GENMASK(15, 0), ARM_SMMU_SMR_MASK GENMASK(31, 16) */
const SMR_ID_MASK = 0xffff;

/** struct arm_smmu_smr */
export interface arm_smmu_smr { id: number; mask: number; valid: boolean }

/** struct arm_smmu_s2cr (privcfg left out) */
export interface arm_smmu_s2cr { group: iommu_group | null; count: number; type: number; cbndx: number }

/** An entry of smrs[] nobody claimed. The C's arrays hold one struct per entry; the model lets
 *  every free entry share one frozen value and gives an entry objects of its own when it is
 *  claimed (arm_smmu_claim_smr): a "what if" SMMU with 65,536 entries then costs two pointers
 *  an entry, not two objects. A write to a shared value throws. */
const SMR_INVALID: arm_smmu_smr = Object.freeze({ id: 0, mask: 0, valid: false });

/** struct arm_smmu_device */
export class arm_smmu_device {
  readonly smrs: arm_smmu_smr[];
  readonly s2crs: arm_smmu_s2cr[];
  /** s2cr_init_val for this instance (its type follows disable_bypass) */
  readonly s2cr_init: arm_smmu_s2cr;
  /** the bitmap of context banks in use (context_map), 32 banks a word */
  readonly context_map: Uint32Array;
  /** the model's index of smrs[]: which valid entry matches each stream ID (-1 none), and a
   *  bitmap of the valid entries; arm_smmu_find_sme() reads them instead of every entry */
  readonly sme_of_sid: Int32Array;
  readonly sme_map: Uint32Array;
  /** cbs[idx].cfg: which domain owns each bank */
  readonly cbs: Array<arm_smmu_domain | null>;
  readonly num_mapping_groups: number;
  readonly num_context_banks: number;
  readonly num_s2_context_banks = 0;
  /** ID0.NUMSIDB, or 16 bits with EXIDS; tests may narrow it */
  streamid_mask = 0xffff;
  smr_mask_mask = 0xffff;
  readonly va_size: number;
  readonly ipa_size = 48;
  readonly pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
  /** module parameter disable_bypass (from k.config at probe) */
  readonly disable_bypass: boolean;
  /** the memory this SMMU's page tables live in */
  readonly pool: arm_lpae_pool;
  readonly hw: arm_smmu_hw;
  readonly ops: iommu_ops;
  readonly iommu: iommu_device;
  /** faults raised, counted even when the event log is off (benchmarks) */
  faults = 0;
  /** where its page tables' WARN()s go: one function for every domain of this SMMU */
  readonly pgtable_warn = (message: string): void => this.k.log.record({ type: 'warn', dev: this.name, message });

  constructor(readonly k: Kernel, readonly node: device_node, cfg: smmu_hw_config, readonly core: ArmSmmuCoreHooks) {
    this.num_mapping_groups = cfg.stream_match_groups;
    this.num_context_banks = cfg.context_banks;
    this.va_size = cfg.va_bits;
    this.disable_bypass = !k.config.bypass_unmatched_streams;
    this.s2cr_init = Object.freeze({ group: null, count: 0, type: this.disable_bypass ? S2CR_TYPE_FAULT : S2CR_TYPE_BYPASS, cbndx: 0 });
    this.smrs = new Array<arm_smmu_smr>(cfg.stream_match_groups).fill(SMR_INVALID);
    this.s2crs = new Array<arm_smmu_s2cr>(cfg.stream_match_groups).fill(this.s2cr_init);
    this.context_map = bitmap_zalloc(cfg.context_banks);
    this.sme_of_sid = new Int32Array(65536).fill(-1);
    this.sme_map = bitmap_zalloc(cfg.stream_match_groups);
    this.cbs = new Array<arm_smmu_domain | null>(cfg.context_banks).fill(null);
    this.pool = arm_lpae_pool_alloc();
    this.hw = smmu_hw_alloc(node.full_name, cfg.stream_match_groups, cfg.context_banks, this.pool);
    // `static const struct iommu_ops arm_smmu_ops`: frozen, as its C counterpart is read-only
    this.ops = Object.freeze(arm_smmu_ops(this));
    this.iommu = { name: node.full_name, ops: this.ops, fwnode: node, ready: false, priv: this };
  }

  get name(): string {
    return this.node.full_name;
  }
}

/** struct arm_smmu_master_cfg: dev_iommu_priv_get(dev) */
export class arm_smmu_master_cfg {
  constructor(readonly smmu: arm_smmu_device, readonly smendx: number[]) {}
}

/** struct arm_smmu_cfg, the stage-1 part */
export interface arm_smmu_cfg { cbndx: number; asid: number }

/** struct arm_smmu_domain: domain->priv */
export class arm_smmu_domain {
  smmu: arm_smmu_device | null = null;
  pgtbl_ops: arm_lpae_io_pgtable | null = null;
  flush_ops: iommu_flush_ops | null = null;
  readonly cfg: arm_smmu_cfg = { cbndx: -1, asid: -1 };
  constructor(readonly domain: iommu_domain) {}
}

function hex(n: number): string {
  return n.toString(16);
}

/** dev_err/dev_notice on the SMMU device */
function smmu_printk(smmu: arm_smmu_device, level: 'err' | 'info', message: string): void {
  smmu.k.log.record({ type: 'printk', level, dev: smmu.name, message });
}

function master_cfg(dev: device): arm_smmu_master_cfg | null {
  const cfg = dev.iommu?.priv;
  return cfg instanceof arm_smmu_master_cfg ? cfg : null;
}

function to_smmu_domain(domain: iommu_domain): arm_smmu_domain {
  return domain.priv as arm_smmu_domain;
}

function fwid_sid(fwid: number): number {
  return fwid & SMR_ID_MASK;
}

function fwid_mask(fwid: number): number {
  return (fwid >>> 16) & SMR_ID_MASK;
}

// --- stream mapping ---------------------------------------------------------------------------

/** s2cr_init_val (arm-smmu.c): fault when bypass is disabled, bypass otherwise (the
 *  instance's one frozen value; see SMR_INVALID) */
function s2cr_init_val(smmu: arm_smmu_device): arm_smmu_s2cr {
  return smmu.s2cr_init;
}

/** arm_smmu_write_smr() (arm-smmu.c) */
function arm_smmu_write_smr(smmu: arm_smmu_device, idx: number): void {
  const smr = smmu.smrs[idx]!;
  smmu_hw_write_smr(smmu.hw, idx, smr.id, smr.mask, smr.valid);
}

/** arm_smmu_write_s2cr() (arm-smmu.c) */
function arm_smmu_write_s2cr(smmu: arm_smmu_device, idx: number): void {
  const s2cr = smmu.s2crs[idx]!;
  smmu_hw_write_s2cr(smmu.hw, idx, s2cr.type, s2cr.cbndx);
}

/** arm_smmu_write_sme() (arm-smmu.c): S2CR first, then the SMR that routes to it */
function arm_smmu_write_sme(smmu: arm_smmu_device, idx: number): void {
  arm_smmu_write_s2cr(smmu, idx);
  arm_smmu_write_smr(smmu, idx);
}

// --- bitmaps (include/linux/bitmap.h, lib/find_bit.c), 32 bits a word -----------------------

function bitmap_zalloc(nbits: number): Uint32Array {
  return new Uint32Array(Math.ceil(nbits / 32));
}

function test_bit(nr: number, map: Uint32Array): boolean {
  return ((map[nr >>> 5]! >>> (nr & 31)) & 1) !== 0;
}

function set_bit(nr: number, map: Uint32Array): void {
  map[nr >>> 5] = map[nr >>> 5]! | (1 << (nr & 31));
}

function clear_bit(nr: number, map: Uint32Array): void {
  map[nr >>> 5] = map[nr >>> 5]! & ~(1 << (nr & 31));
}

/** find_next_zero_bit(): the first clear bit in [start, end), or end. It walks the words as
 *  the C does (lib/find_bit.c); full words are passed four at a time, as a compiler unrolls
 *  the C's loop over 64-bit words: with 65,536 banks and 300,000 live contexts the walk passes
 *  over a thousand words, and one at a time it was a fifth of a context's creation. */
function find_next_zero_bit(map: Uint32Array, end: number, start: number): number {
  if (start >= end) return end;
  const last = (end - 1) >>> 5;
  let w = start >>> 5;
  let zeros = ~map[w]! & (-1 << (start & 31)); // the clear bits of the first word from start on
  while (zeros === 0) {
    w++;
    while (w + 3 <= last && (map[w]! & map[w + 1]! & map[w + 2]! & map[w + 3]!) === -1) w += 4;
    if (w > last) return end;
    zeros = ~map[w]!;
  }
  return Math.min(end, (w << 5) + (31 - Math.clz32(zeros & -zeros)));
}

// --- stream mapping (continued) ---------------------------------------------------------------

/** Every stream ID an (id, mask) pair matches; null when there are more than `limit`. */
function sme_sids(id: number, mask: number, limit: number): number[] | null {
  const m = mask & SMR_ID_MASK;
  let bits = 0;
  for (let x = m; x; x &= x - 1) bits++;
  if (2 ** bits > limit) return null;
  const out: number[] = [];
  const base = id & ~m & SMR_ID_MASK;
  for (let sub = m; ; sub = (sub - 1) & m) {
    out.push(base | sub);
    if (sub === 0) return out;
  }
}

/** smrs[idx] takes (id, mask) and becomes valid, and the entry's s2cr a copy of its own (it
 *  was the shared initial value): the index follows. */
function arm_smmu_claim_smr(smmu: arm_smmu_device, idx: number, id: number, mask: number): void {
  smmu.smrs[idx] = { id, mask, valid: true };
  smmu.s2crs[idx] = { ...smmu.s2crs[idx]! };
  set_bit(idx, smmu.sme_map);
  for (const sid of sme_sids(id, mask, 65536)!) smmu.sme_of_sid[sid] = idx;
}

/** smrs[idx] becomes invalid: the index follows. */
function arm_smmu_release_smr(smmu: arm_smmu_device, idx: number): void {
  const smr = smmu.smrs[idx]!;
  if (smr.valid) {
    for (const sid of sme_sids(smr.id, smr.mask, 65536)!) if (smmu.sme_of_sid[sid] === idx) smmu.sme_of_sid[sid] = -1;
  }
  smmu.smrs[idx] = SMR_INVALID;
  clear_bit(idx, smmu.sme_map);
}

/**
 * arm_smmu_find_sme() (arm-smmu.c): an existing entry that fully covers (id, mask) is reused;
 * any other overlap is -EINVAL (some stream ID would match two SMRs); else the first free
 * entry, or -ENOSPC.
 *
 * The C walks every entry. Valid entries never overlap (this function refuses any overlap),
 * so at most one entry can cover (id, mask), and none other then overlaps it: the answer does
 * not depend on the order of the walk. The model asks its index for the entries that match
 * the stream IDs of (id, mask), when those are fewer than the entries, and takes the first
 * free entry from the bitmap; with a wide mask it walks the entries as the C does.
 */
export function arm_smmu_find_sme(smmu: arm_smmu_device, id: number, mask: number): number {
  const sids = sme_sids(id, mask, smmu.num_mapping_groups);
  if (!sids) return arm_smmu_find_sme_walk(smmu, id, mask);
  for (const sid of sids) {
    const i = smmu.sme_of_sid[sid]!;
    if (i < 0) continue;
    const smr = smmu.smrs[i]!;
    if ((mask & smr.mask) === mask && !((id ^ smr.id) & ~smr.mask & SMR_ID_MASK)) return i;
    return -EINVAL;
  }
  const free_idx = find_next_zero_bit(smmu.sme_map, smmu.num_mapping_groups, 0);
  return free_idx < smmu.num_mapping_groups ? free_idx : -ENOSPC;
}

/** arm_smmu_find_sme() as the C writes it: every entry in order */
function arm_smmu_find_sme_walk(smmu: arm_smmu_device, id: number, mask: number): number {
  let free_idx = -ENOSPC;
  for (let i = 0; i < smmu.num_mapping_groups; i++) {
    const smr = smmu.smrs[i]!;
    if (!smr.valid) {
      if (free_idx < 0) free_idx = i;
      continue;
    }
    if ((mask & smr.mask) === mask && !((id ^ smr.id) & ~smr.mask & SMR_ID_MASK)) return i;
    if (!((id ^ smr.id) & ~(smr.mask | mask) & SMR_ID_MASK)) return -EINVAL;
  }
  return free_idx;
}

/** arm_smmu_free_sme() (arm-smmu.c): drop one user; the last one resets the entry */
function arm_smmu_free_sme(smmu: arm_smmu_device, idx: number): boolean {
  const s2cr = smmu.s2crs[idx]!;
  if (--s2cr.count) return false;
  smmu.s2crs[idx] = s2cr_init_val(smmu);
  arm_smmu_release_smr(smmu, idx);
  return true;
}

/** arm_smmu_master_alloc_smes() (arm-smmu.c): claim every entry first, then write the hardware */
function arm_smmu_master_alloc_smes(smmu: arm_smmu_device, cfg: arm_smmu_master_cfg, ids: number[]): number {
  const reused: boolean[] = [];
  for (let i = 0; i < ids.length; i++) {
    const sid = fwid_sid(ids[i]!);
    const mask = fwid_mask(ids[i]!);
    if (cfg.smendx[i] !== INVALID_SMENDX) return arm_smmu_alloc_smes_unwind(smmu, cfg, i, -EEXIST);
    const idx = arm_smmu_find_sme(smmu, sid, mask);
    if (idx < 0) return arm_smmu_alloc_smes_unwind(smmu, cfg, i, idx);
    const reuse = smmu.s2crs[idx]!.count > 0;
    reused.push(reuse);
    if (!reuse) arm_smmu_claim_smr(smmu, idx, sid, mask);
    smmu.s2crs[idx]!.count++;
    cfg.smendx[i] = idx;
  }
  for (let i = 0; i < ids.length; i++) {
    const idx = cfg.smendx[i]!;
    arm_smmu_write_sme(smmu, idx);
    const smr = smmu.smrs[idx]!;
    smmu.k.log.record({ type: 'sme_alloc', iommu: smmu.name, idx, sid: smr.id, mask: smr.mask, reused: reused[i]! });
  }
  return 0;
}

/** the out_err path of arm_smmu_master_alloc_smes(): give back what was claimed, hardware untouched */
function arm_smmu_alloc_smes_unwind(smmu: arm_smmu_device, cfg: arm_smmu_master_cfg, claimed: number, ret: number): number {
  for (let i = claimed - 1; i >= 0; i--) {
    arm_smmu_free_sme(smmu, cfg.smendx[i]!);
    cfg.smendx[i] = INVALID_SMENDX;
  }
  return ret;
}

/** arm_smmu_master_free_smes() (arm-smmu.c): an entry whose count drops to 0 is rewritten */
function arm_smmu_master_free_smes(smmu: arm_smmu_device, cfg: arm_smmu_master_cfg): void {
  for (let i = 0; i < cfg.smendx.length; i++) {
    const idx = cfg.smendx[i]!;
    if (idx === INVALID_SMENDX) continue;
    const { id, mask } = smmu.smrs[idx]!;
    if (arm_smmu_free_sme(smmu, idx)) {
      arm_smmu_write_sme(smmu, idx);
      smmu.k.log.record({ type: 'sme_free', iommu: smmu.name, idx, sid: id, mask });
    }
    cfg.smendx[i] = INVALID_SMENDX;
  }
}

/** arm_smmu_master_install_s2crs() (arm-smmu.c): route the master's entries to one bank */
function arm_smmu_master_install_s2crs(smmu: arm_smmu_device, cfg: arm_smmu_master_cfg, type: number, cbndx: number): void {
  for (const idx of cfg.smendx) {
    if (idx === INVALID_SMENDX) continue;
    const s2cr = smmu.s2crs[idx]!;
    if (s2cr.type === type && s2cr.cbndx === cbndx) continue;
    s2cr.type = type;
    s2cr.cbndx = cbndx;
    arm_smmu_write_s2cr(smmu, idx);
  }
}

// --- TLB maintenance (arm_smmu_s1_tlb_ops) ----------------------------------------------------

function log_tlb_inv(smmu: arm_smmu_device, asid: number, iova: number | null, size: number): void {
  if (smmu.k.log.enabled) smmu.k.log.record({ type: 'tlb_inv', iommu: smmu.name, asid, iova, size });
}

/** arm_smmu_tlb_inv_context_s1() (arm-smmu.c): TLBIASID, then sync */
function arm_smmu_tlb_inv_context_s1(smmu_domain: arm_smmu_domain): void {
  const smmu = smmu_domain.smmu;
  if (!smmu) return;
  smmu_hw_tlbi_asid(smmu.hw, smmu_domain.cfg.asid);
  log_tlb_inv(smmu, smmu_domain.cfg.asid, null, 0);
}

/** arm_smmu_tlb_inv_walk_s1() (arm-smmu.c): TLBIVA over the range, then sync */
function arm_smmu_tlb_inv_walk_s1(smmu_domain: arm_smmu_domain, iova: number, size: number): void {
  const smmu = smmu_domain.smmu;
  if (!smmu) return;
  smmu_hw_tlbi_va(smmu.hw, smmu_domain.cfg.asid, iova, size);
  log_tlb_inv(smmu, smmu_domain.cfg.asid, iova, size);
}

/**
 * arm_smmu_tlb_add_page_s1() (arm-smmu.c). The C writes TLBIVAL for the page here and only
 * waits for completion (TLBSYNC) in iotlb_sync; the model collects the range in the gather
 * (iommu_iotlb_gather_add_range semantics, end inclusive) and invalidates at iotlb_sync, the
 * point from which the C guarantees the entries are gone.
 */
function arm_smmu_tlb_add_page_s1(gather: iommu_iotlb_gather, iova: number, granule: number): void {
  const end = iova + granule - 1;
  if (gather.start > iova) gather.start = iova;
  if (gather.end < end) gather.end = end;
  gather.pgsize = granule;
}

/** arm_smmu_s1_tlb_ops (arm-smmu.c): one static table; the cookie is the arm_smmu_domain */
const arm_smmu_s1_tlb_ops: iommu_flush_ops = Object.freeze({
  tlb_flush_all: (cookie: unknown) => arm_smmu_tlb_inv_context_s1(cookie as arm_smmu_domain),
  tlb_flush_walk: (iova: number, size: number, _granule: number, cookie: unknown) => arm_smmu_tlb_inv_walk_s1(cookie as arm_smmu_domain, iova, size),
  tlb_add_page: (gather: iommu_iotlb_gather, iova: number, granule: number) => arm_smmu_tlb_add_page_s1(gather, iova, granule),
});

// --- context banks ----------------------------------------------------------------------------

/** __arm_smmu_alloc_bitmap() (arm-smmu.h): first clear bit in [start, end), or -ENOSPC */
function __arm_smmu_alloc_bitmap(map: Uint32Array, start: number, end: number): number {
  const idx = find_next_zero_bit(map, end, start);
  if (idx === end) return -ENOSPC;
  set_bit(idx, map);
  return idx;
}

/** arm_smmu_write_context_bank() (arm-smmu.c): a bank without a domain is just disabled */
function arm_smmu_write_context_bank(smmu: arm_smmu_device, idx: number): void {
  const smmu_domain = smmu.cbs[idx];
  const pgtbl = smmu_domain?.pgtbl_ops;
  if (!smmu_domain || !pgtbl) {
    smmu_hw_write_context_bank(smmu.hw, idx, -1, 0, 0, smmu.va_size);
    return;
  }
  smmu_hw_write_context_bank(smmu.hw, idx, pgtbl.root, smmu_domain.cfg.asid, pgtbl.start_level, pgtbl.ias);
}

/**
 * arm_smmu_init_domain_context() (arm-smmu.c): on a domain's first attach, take a context bank
 * (ASID = bank index), build its io-pgtable and program the bank. Later attaches return 0.
 */
function arm_smmu_init_domain_context(smmu_domain: arm_smmu_domain, smmu: arm_smmu_device): number {
  if (smmu_domain.smmu) return 0;
  const domain = smmu_domain.domain;
  const cbndx = __arm_smmu_alloc_bitmap(smmu.context_map, smmu.num_s2_context_banks, smmu.num_context_banks);
  if (cbndx < 0) return cbndx;
  smmu_domain.smmu = smmu;
  smmu_domain.cfg.cbndx = cbndx;
  smmu_domain.cfg.asid = cbndx;
  smmu_domain.flush_ops = arm_smmu_s1_tlb_ops;
  const pgtbl = arm_lpae_alloc_pgtable_s1({
    ias: smmu.va_size, oas: smmu.ipa_size, pgsize_bitmap: smmu.pgsize_bitmap, tlb: smmu_domain.flush_ops, cookie: smmu_domain,
    pool: smmu.pool, warn: smmu.pgtable_warn,
  });
  if (!pgtbl) {
    clear_bit(cbndx, smmu.context_map);
    smmu_domain.smmu = null;
    smmu_domain.flush_ops = null;
    return -ENOMEM;
  }
  domain.pgsize_bitmap = pgtbl.pgsize_bitmap;
  domain.geometry.aperture_end = 2 ** pgtbl.ias - 1;
  domain.geometry.force_aperture = true;
  smmu_domain.pgtbl_ops = pgtbl;
  smmu.cbs[cbndx] = smmu_domain;
  arm_smmu_write_context_bank(smmu, cbndx);
  smmu.k.log.record({ type: 'context_bank_alloc', iommu: smmu.name, cb: cbndx, domain: domain.id });
  return 0;
}

/**
 * arm_smmu_destroy_domain_context() (arm-smmu.c): disable the bank, free the page table (with
 * the TLBIASID free_io_pgtable_ops() does), then give the bank back.
 */
function arm_smmu_destroy_domain_context(smmu_domain: arm_smmu_domain): void {
  const smmu = smmu_domain.smmu;
  if (!smmu) return;
  const cbndx = smmu_domain.cfg.cbndx;
  smmu.cbs[cbndx] = null;
  arm_smmu_write_context_bank(smmu, cbndx);
  free_io_pgtable_ops(smmu_domain.pgtbl_ops);
  smmu_domain.pgtbl_ops = null;
  clear_bit(cbndx, smmu.context_map);
  smmu_domain.smmu = null;
  smmu.k.log.record({ type: 'context_bank_free', iommu: smmu.name, cb: cbndx, domain: smmu_domain.domain.id });
}

// --- fault interrupts -------------------------------------------------------------------------

/** arm_smmu_context_fault() (arm-smmu.c): read the syndrome, report, log if unhandled, clear FSR */
function arm_smmu_context_fault(smmu: arm_smmu_device, idx: number): void {
  const hw = smmu.hw;
  const fsr = hw.cb_fsr[idx]!;
  if (!(fsr & ARM_SMMU_CB_FSR_FAULT)) return;
  const fsynr = hw.cb_fsynr0[idx]!;
  const iova = hw.cb_far[idx]!;
  const cbfrsynra = hw.cb_cbfrsynra[idx]!;
  const smmu_domain = smmu.cbs[idx];
  if (smmu_domain) {
    smmu.core.report_iommu_fault(smmu_domain.domain, null, iova, fsynr & ARM_SMMU_CB_FSYNR0_WNR ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
  }
  // printed (rate-limited) when report_iommu_fault() returns -ENOSYS; always logged here
  const message = `Unhandled context fault: fsr=0x${hex(fsr)}, iova=0x${hex(iova).padStart(8, '0')}, fsynr=0x${hex(fsynr)}, cbfrsynra=0x${hex(cbfrsynra)}, cb=${idx}`;
  smmu.faults++;
  smmu.k.log.record({ type: 'fault', iommu: smmu.name, kind: fsr & ARM_SMMU_CB_FSR_PF ? 'permission' : 'context', sid: cbfrsynra, iova, cb: idx, message });
  hw.cb_fsr[idx] = 0;
}

/** arm_smmu_global_fault() (arm-smmu.c): unidentified streams and other global faults */
function arm_smmu_global_fault(smmu: arm_smmu_device): void {
  const hw = smmu.hw;
  const gfsr = hw.gfsr;
  if (!gfsr) return;
  const sid = hw.gfsynr1 & 0xffff;
  const usf = (gfsr & ARM_SMMU_sGFSR_USF) !== 0;
  const message = usf
    ? `Blocked unknown Stream ID 0x${hex(sid)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`
    : 'Unexpected global fault, this could be serious';
  const kind = usf ? 'unidentified-stream' : 'stream-fault';
  smmu.faults++;
  smmu.k.log.record({ type: 'fault', iommu: smmu.name, kind, sid, iova: hw.gfar, cb: null, message });
  hw.gfsr = 0;
}

// --- iommu_ops --------------------------------------------------------------------------------

/** arm_smmu_of_xlate() (arm-smmu.c): fwspec id = SID | mask << 16; mask from the 2nd cell or stream-match-mask */
function arm_smmu_of_xlate(smmu: arm_smmu_device, dev: device, args: number[]): number {
  let fwid = 0;
  if (args.length > 0) fwid = args[0]! & SMR_ID_MASK;
  let mask = 0;
  if (args.length > 1) mask = args[1]! & SMR_ID_MASK;
  else mask = (smmu.node.properties.get('stream-match-mask')?.cells?.[0] ?? 0) & SMR_ID_MASK;
  fwid += mask * 0x10000;
  // iommu_fwspec_add_ids()
  const fwspec = dev.iommu?.fwspec;
  if (!fwspec) return -EINVAL;
  fwspec.ids.push(fwid);
  return 0;
}

/** arm_smmu_probe_device() (arm-smmu.c): check the IDs, make the master cfg, claim stream map entries */
function arm_smmu_probe_device(smmu: arm_smmu_device, dev: device): iommu_device | number {
  const fwspec = dev.iommu?.fwspec;
  if (!dev.iommu || !fwspec || fwspec.iommu_fwnode !== smmu.node) return -ENODEV;
  for (const fwid of fwspec.ids) {
    const sid = fwid_sid(fwid);
    const mask = fwid_mask(fwid);
    if (sid & ~smmu.streamid_mask) {
      smmu.k.log.record({ type: 'printk', level: 'err', dev: dev.name, message: `stream ID 0x${hex(sid)} out of range for SMMU (0x${hex(smmu.streamid_mask)})` });
      return -EINVAL;
    }
    if (mask & ~smmu.smr_mask_mask) {
      smmu.k.log.record({ type: 'printk', level: 'err', dev: dev.name, message: `SMR mask 0x${hex(mask)} out of range for SMMU (0x${hex(smmu.smr_mask_mask)})` });
      return -EINVAL;
    }
  }
  const cfg = new arm_smmu_master_cfg(smmu, fwspec.ids.map(() => INVALID_SMENDX));
  dev.iommu.priv = cfg;
  const ret = arm_smmu_master_alloc_smes(smmu, cfg, fwspec.ids);
  if (ret) {
    dev.iommu.priv = null;
    return ret;
  }
  return smmu.iommu;
}

/** arm_smmu_release_device() (arm-smmu.c) */
function arm_smmu_release_device(smmu: arm_smmu_device, dev: device): void {
  const cfg = master_cfg(dev);
  if (!cfg || cfg.smmu !== smmu) return;
  arm_smmu_master_free_smes(smmu, cfg);
  dev.iommu!.priv = null;
}

/**
 * arm_smmu_device_group() (arm-smmu.c): the group already recorded on the device's S2CRs
 * (two different ones -> -EINVAL), else a new one remembered on every S2CR. As in the C, the
 * loop keeps the LAST entry's group, so a null after a group yields a fresh group.
 */
function arm_smmu_device_group(smmu: arm_smmu_device, dev: device): iommu_group | number {
  const cfg = master_cfg(dev);
  if (!cfg) return -ENODEV;
  let group: iommu_group | null = null;
  for (const idx of cfg.smendx) {
    if (idx === INVALID_SMENDX) continue;
    const g = smmu.s2crs[idx]!.group;
    if (group && g && group !== g) return -EINVAL;
    group = g;
  }
  if (group) return group;
  group = smmu.core.generic_device_group(dev);
  for (const idx of cfg.smendx) if (idx !== INVALID_SMENDX) smmu.s2crs[idx]!.group = group;
  return group;
}

/**
 * arm_smmu_domain_alloc_paging() (arm-smmu.c). The core sets the type; the C fills the geometry
 * at first attach, the model also here so the DMA layer sees the aperture before attach.
 */
function arm_smmu_domain_alloc_paging(smmu: arm_smmu_device, dev: device): iommu_domain | number {
  if (!master_cfg(dev)) return -ENODEV;
  const domain: iommu_domain = {
    id: smmu.k.next_domain_id++,
    type: 'IOMMU_DOMAIN_UNMANAGED',
    ops: smmu.ops,
    pgsize_bitmap: smmu.pgsize_bitmap,
    geometry: { aperture_start: 0, aperture_end: 2 ** smmu.va_size - 1, force_aperture: true },
    iova_cookie: null,
    priv: null,
    freed: false,
  };
  domain.priv = new arm_smmu_domain(domain);
  return domain;
}

/** arm_smmu_domain_free() (arm-smmu.c): assumes every device was detached */
function arm_smmu_domain_free(domain: iommu_domain): void {
  arm_smmu_destroy_domain_context(to_smmu_domain(domain));
}

/** arm_smmu_attach_dev() (arm-smmu.c): finalise the domain on this SMMU, then point the S2CRs at its bank */
function arm_smmu_attach_dev(domain: iommu_domain, dev: device): number {
  const smmu_domain = to_smmu_domain(domain);
  const cfg = master_cfg(dev);
  if (!cfg) return -ENODEV;
  const smmu = cfg.smmu;
  const ret = arm_smmu_init_domain_context(smmu_domain, smmu);
  if (ret < 0) return ret;
  if (smmu_domain.smmu !== smmu) return -EINVAL;
  arm_smmu_master_install_s2crs(smmu, cfg, S2CR_TYPE_TRANS, smmu_domain.cfg.cbndx);
  return 0;
}

/** arm_smmu_map_pages() (arm-smmu.c) */
function arm_smmu_map_pages(domain: iommu_domain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number): { ret: number; mapped: number } {
  const ops = to_smmu_domain(domain).pgtbl_ops;
  if (!ops) return { ret: -ENODEV, mapped: 0 };
  return ops.map_pages(iova, paddr, pgsize, pgcount, prot);
}

/** arm_smmu_unmap_pages() (arm-smmu.c) */
function arm_smmu_unmap_pages(domain: iommu_domain, iova: number, pgsize: number, pgcount: number, gather: iommu_iotlb_gather): number {
  const ops = to_smmu_domain(domain).pgtbl_ops;
  if (!ops) return 0;
  return ops.unmap_pages(iova, pgsize, pgcount, gather);
}

/** arm_smmu_iova_to_phys() (arm-smmu.c): the software walk (no ATOS) */
function arm_smmu_iova_to_phys(domain: iommu_domain, iova: number): number {
  if (domain.type === 'IOMMU_DOMAIN_IDENTITY') return iova;
  const ops = to_smmu_domain(domain).pgtbl_ops;
  return ops ? ops.iova_to_phys(iova) : 0;
}

/** arm_smmu_iotlb_sync() (arm-smmu.c): the gathered range is invalidated by VA for the ASID */
function arm_smmu_iotlb_sync(domain: iommu_domain, gather: iommu_iotlb_gather): void {
  const smmu_domain = to_smmu_domain(domain);
  const smmu = smmu_domain.smmu;
  if (!smmu || gather.end < gather.start) return;
  const size = gather.end - gather.start + 1;
  smmu_hw_tlbi_va(smmu.hw, smmu_domain.cfg.asid, gather.start, size);
  log_tlb_inv(smmu, smmu_domain.cfg.asid, gather.start, size);
}

/** arm_smmu_flush_iotlb_all() (arm-smmu.c): TLBIASID */
function arm_smmu_flush_iotlb_all(domain: iommu_domain): void {
  const smmu_domain = to_smmu_domain(domain);
  if (smmu_domain.flush_ops) smmu_domain.flush_ops.tlb_flush_all(smmu_domain);
}

/** static struct iommu_ops arm_smmu_ops (arm-smmu.c), bound to one instance */
function arm_smmu_ops(smmu: arm_smmu_device): iommu_ops {
  return {
    name: 'arm-smmu',
    pgsize_bitmap: smmu.pgsize_bitmap,
    of_xlate: (dev, args) => arm_smmu_of_xlate(smmu, dev, args),
    probe_device: (dev) => arm_smmu_probe_device(smmu, dev),
    release_device: (dev) => arm_smmu_release_device(smmu, dev),
    device_group: (dev) => arm_smmu_device_group(smmu, dev),
    domain_alloc_paging: (dev) => arm_smmu_domain_alloc_paging(smmu, dev),
    domain_free: arm_smmu_domain_free,
    attach_dev: arm_smmu_attach_dev,
    map_pages: arm_smmu_map_pages,
    unmap_pages: arm_smmu_unmap_pages,
    iova_to_phys: arm_smmu_iova_to_phys,
    iotlb_sync: arm_smmu_iotlb_sync,
    flush_iotlb_all: arm_smmu_flush_iotlb_all,
  };
}

// --- probe ------------------------------------------------------------------------------------

/** arm_smmu_device_cfg_probe() (arm-smmu.c): what the ID registers say, as the C logs it */
function arm_smmu_device_cfg_probe(smmu: arm_smmu_device): void {
  smmu_printk(smmu, 'info', 'probing hardware configuration...');
  smmu_printk(smmu, 'info', 'SMMUv2 with:');
  smmu_printk(smmu, 'info', '\tstage 1 translation');
  smmu_printk(smmu, 'info', `\tstream matching with ${smmu.num_mapping_groups} register groups`);
  smmu_printk(smmu, 'info', `\t${smmu.num_context_banks} context banks (${smmu.num_s2_context_banks} stage-2 only)`);
  smmu_printk(smmu, 'info', `\tSupported page sizes: 0x${hex(smmu.pgsize_bitmap).padStart(8, '0')}`);
  smmu_printk(smmu, 'info', `\tStage-1: ${smmu.va_size}-bit VA -> ${smmu.ipa_size}-bit IPA`);
}

/** arm_smmu_device_reset() (arm-smmu.c): every SME to its init value, banks off, TLB clean, sCR0 */
function arm_smmu_device_reset(smmu: arm_smmu_device): void {
  for (let i = 0; i < smmu.num_mapping_groups; i++) arm_smmu_write_sme(smmu, i);
  for (let i = 0; i < smmu.num_context_banks; i++) {
    arm_smmu_write_context_bank(smmu, i);
    smmu.hw.cb_fsr[i] = 0;
  }
  smmu_hw_tlbi_all(smmu.hw);
  smmu_hw_write_scr0(smmu.hw, smmu.disable_bypass);
}

/** Most context banks and stream match groups the model takes: 128 is the C's ARM_SMMU_MAX_CBS
 *  and real parts stay at or below it; up to 65,536 (every 16-bit stream ID an entry, every
 *  16-bit ASID a bank) lets scale scenarios ask "what if". */
export const ARM_SMMU_MODEL_MAX = 65_536;

/**
 * arm_smmu_device_probe() (arm-smmu.c) up to, not including, iommu_device_register(): the
 * instance, its fault interrupts, the reset. Counts outside 1..ARM_SMMU_MODEL_MAX throw:
 * that is a scenario error, not a kernel path.
 */
export function arm_smmu_device_probe(k: Kernel, node: device_node, hw: smmu_hw_config, core: ArmSmmuCoreHooks): iommu_device {
  for (const [what, n] of [['context_banks', hw.context_banks], ['stream_match_groups', hw.stream_match_groups]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > ARM_SMMU_MODEL_MAX) throw new RangeError(`${node.full_name}: ${what} = ${n}, the model allows 1..${ARM_SMMU_MODEL_MAX}`);
  }
  if (!Number.isInteger(hw.va_bits) || hw.va_bits < 32 || hw.va_bits > 48) throw new RangeError(`${node.full_name}: va_bits = ${hw.va_bits}, expected 32..48`);
  const smmu = new arm_smmu_device(k, node, hw, core);
  arm_smmu_device_cfg_probe(smmu);
  smmu.hw.context_fault_irq = (cb) => arm_smmu_context_fault(smmu, cb);
  smmu.hw.global_fault_irq = () => arm_smmu_global_fault(smmu);
  arm_smmu_device_reset(smmu);
  return smmu.iommu;
}

/** The driver instance behind a registered iommu_device (dev_get_drvdata of the SMMU). */
export function arm_smmu_from_iommu(iommu: iommu_device): arm_smmu_device | null {
  return iommu.priv instanceof arm_smmu_device ? iommu.priv : null;
}

/** What an instance still holds at teardown: valid SMRs, banks in use, live page-table pages. */
export function arm_smmu_leaks(smmu: arm_smmu_device): string[] {
  const leaks: string[] = [];
  smmu.smrs.forEach((smr, idx) => {
    if (smr.valid) leaks.push(`${smmu.name}: SMR ${idx} (id 0x${hex(smr.id)} mask 0x${hex(smr.mask)}) still valid, ${smmu.s2crs[idx]!.count} user(s)`);
  });
  for (let cb = 0; cb < smmu.num_context_banks; cb++) {
    if (test_bit(cb, smmu.context_map)) leaks.push(`${smmu.name}: context bank ${cb} still in use (domain ${smmu.cbs[cb]?.domain.id ?? '?'})`);
  }
  if (smmu.pool.live_tables) leaks.push(`${smmu.name}: ${smmu.pool.live_tables} page-table page(s) not freed`);
  return leaks;
}
