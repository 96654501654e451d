// The ARM SMMUv2 hardware that drivers/iommu/arm/arm-smmu/arm-smmu.c programs: its registers
// (SMRn, S2CRn, context banks with their fault syndrome registers, the global fault registers),
// its IOTLB and the translation of one device transaction. This is the device, not Linux: the
// driver (arm-smmu.ts) writes these registers the way the C writes MMIO, and the harness sends
// transactions through smmu_hw_translate(). Register and field names follow arm-smmu.h; the
// behaviour is the SMMUv2 architecture as the driver relies on it.
//
// The registers are the truth. Next to them the model keeps two caches of what the hardware
// computes from them, refreshed on every register write that changes the answer:
//   sid_to_sme / sid_route  what the SMR comparators answer for each of the 65536 stream IDs
//     (a transaction with stream ID s matches SMRn when n is valid and ((s ^ id) & ~mask &
//     0xffff) == 0), and where the matching S2CR sends it; kept up to date through two
//     per-stream-ID tallies (how many valid SMRs match it, and the sum of their indices + 1),
//     so that an SMR write costs the stream IDs it covers, not the number of SMRs;
//   cb_ctx                  per context bank, its ASID when SCTLR.M is set, else -1;
//   sid_asid                per stream ID, the ASID of the enabled bank it translates through
//     (cb_ctx of its sid_route), else -1: the one lookup of an IOTLB hit. A bank write reaches
//     its stream IDs through sme_cb / cb_smes, which say which stream map entries route to it.
// The IOTLB is direct-mapped, one 4 KiB page per entry, tagged by ASID and page.
import {
  ARM_LPAE_BLOCK_SIZE, ARM_LPAE_PTE_AP_RDONLY, ARM_LPAE_PTE_ATTR_MASK, ARM_LPAE_PTE_TYPE_BLOCK,
  ARM_LPAE_PTE_TYPE_MASK, ARM_LPAE_PTE_TYPE_PAGE, ARM_LPAE_PTE_TYPE_TABLE, arm_lpae_lvl_idx, iopte_deref, pte_read,
  type arm_lpae_pool,
} from './io-pgtable-arm.ts';

/** enum arm_smmu_s2cr_type (arm-smmu.h) */
export const S2CR_TYPE_TRANS = 0;
export const S2CR_TYPE_BYPASS = 1;
export const S2CR_TYPE_FAULT = 2;

/** What smmu_hw_translate() returns instead of a physical address. */
export const SMMU_FAULT_UNIDENTIFIED_STREAM = -1; // no SMR matches, sCR0.USFCFG set: sGFSR.USF
export const SMMU_FAULT_STREAM_MATCH_CONFLICT = -2; // two SMRs match: sGFSR.SMCF
export const SMMU_FAULT_S2CR = -3; // the matching S2CR is of type fault
export const SMMU_FAULT_TRANSLATION = -4; // context fault, FSR.TF: no valid descriptor
export const SMMU_FAULT_PERMISSION = -5; // context fault, FSR.PF: write to a read-only page

// Register bits (arm-smmu.h)
export const ARM_SMMU_CB_FSR_TF = 1 << 1;
export const ARM_SMMU_CB_FSR_PF = 1 << 3;
/** FSR.FORMAT = AArch64 (0b10 in bits 10:9): why real logs read fsr=0x402 */
export const ARM_SMMU_CB_FSR_FORMAT_AARCH64 = 2 << 9;
/** MULTI | SS | UUT | ASF | TLBLKF | TLBMCF | EF | PF | AFF | TF */
export const ARM_SMMU_CB_FSR_FAULT = 0xc00001fe;
export const ARM_SMMU_CB_FSYNR0_WNR = 1 << 4;
export const ARM_SMMU_sGFSR_USF = 1 << 1;
export const ARM_SMMU_sGFSR_SMCF = 1 << 2;
/** model-only sGFSR bit for a transaction stopped by an S2CR of type fault (not architectural) */
export const SMMU_sGFSR_MODEL_S2CR_FAULT = 1 << 16;

/** IOTLB entries (direct-mapped, one 4 KiB page each). */
export const SMMU_IOTLB_ENTRIES = 4096;

/** sid_route values below 0 (>= 0 is the context bank of a translating S2CR) */
const ROUTE_UNMATCHED = -1;
const ROUTE_CONFLICT = -2;
const ROUTE_S2CR_FAULT = -3;
const ROUTE_BYPASS = -4;

export interface arm_smmu_hw {
  name: string;
  num_mapping_groups: number;
  num_context_banks: number;
  /** sCR0.USFCFG: unmatched streams fault (true) or bypass (false) */
  usfcfg: boolean;
  // SMRn
  smr_id: Uint16Array;
  smr_mask: Uint16Array;
  smr_valid: Uint8Array;
  // S2CRn
  s2cr_type: Uint8Array;
  s2cr_cbndx: Uint16Array;
  // Context banks: SCTLR.M, the ASID, TTBR0 (the PGD's root in the pool), where the walk starts
  cb_m: Uint8Array;
  cb_asid: Uint16Array;
  cb_ttbr0: Int32Array;
  cb_start_level: Uint8Array;
  /** 2^ias: input addresses at or above fault (T0SZ) */
  cb_va_limit: Float64Array;
  // Context fault syndrome: FSR, FAR, FSYNR0, CBFRSYNRA (GR1)
  cb_fsr: Uint32Array;
  cb_far: Float64Array;
  cb_fsynr0: Uint32Array;
  cb_cbfrsynra: Uint32Array;
  // Global fault syndrome: sGFSR, sGFSYNR0..2, sGFAR
  gfsr: number;
  gfsynr0: number;
  gfsynr1: number;
  gfsynr2: number;
  gfar: number;
  /** the memory page tables live in */
  pool: arm_lpae_pool;
  /** cache: stream ID -> SME index, -1 none, -2 conflict */
  sid_to_sme: Int32Array;
  /** per stream ID: how many valid SMRs match it */
  sid_match_count: Uint16Array;
  /** per stream ID: the sum of (index + 1) of the valid SMRs that match it */
  sid_match_sum: Int32Array;
  /** cache: stream ID -> context bank, or ROUTE_* */
  sid_route: Int32Array;
  /** cache: context bank -> ASID when enabled, else -1 */
  cb_ctx: Int32Array;
  /** cache: stream ID -> ASID of the enabled bank it translates through, else -1 */
  sid_asid: Int32Array;
  /** cache: stream map entry -> the bank a valid translating entry routes to, else -1 */
  sme_cb: Int32Array;
  /** cache: context bank -> how many stream map entries route to it */
  cb_smes: Uint16Array;
  /**
   * The IOTLB, two doubles per entry: the tag (iotlb_tag(): page number * 65536 + ASID; -1 when
   * invalid) and the data: the page's physical address, or -1 - that address when read-only.
   */
  tlb: Float64Array;
  /** per ASID, 1 once a walk filled an entry for it since its last TLBIASID: the model's
   *  shortcut for TLBIASID of an ASID with nothing cached (a real SMMU does it in one go, the
   *  model would sweep every entry) */
  asid_filled: Uint8Array;
  /** IOTLB lookups that hit and that missed (the model's performance counters) */
  iotlb_hits: number;
  iotlb_misses: number;
  /** interrupt lines the driver requests (devm_request_irq) */
  context_fault_irq: ((cb: number) => void) | null;
  global_fault_irq: (() => void) | null;
  /** level of the last descriptor a walk read (FSYNR0.PLVL on a fault) */
  walk_level: number;
}

/** The SMMU out of reset: no valid SMR, S2CRs faulting, banks disabled, IOTLB empty. */
export function smmu_hw_alloc(name: string, num_mapping_groups: number, num_context_banks: number, pool: arm_lpae_pool): arm_smmu_hw {
  return {
    name, num_mapping_groups, num_context_banks, usfcfg: true,
    smr_id: new Uint16Array(num_mapping_groups), smr_mask: new Uint16Array(num_mapping_groups), smr_valid: new Uint8Array(num_mapping_groups),
    s2cr_type: new Uint8Array(num_mapping_groups).fill(S2CR_TYPE_FAULT), s2cr_cbndx: new Uint16Array(num_mapping_groups),
    cb_m: new Uint8Array(num_context_banks), cb_asid: new Uint16Array(num_context_banks), cb_ttbr0: new Int32Array(num_context_banks),
    cb_start_level: new Uint8Array(num_context_banks), cb_va_limit: new Float64Array(num_context_banks),
    cb_fsr: new Uint32Array(num_context_banks), cb_far: new Float64Array(num_context_banks),
    cb_fsynr0: new Uint32Array(num_context_banks), cb_cbfrsynra: new Uint32Array(num_context_banks),
    gfsr: 0, gfsynr0: 0, gfsynr1: 0, gfsynr2: 0, gfar: 0,
    pool,
    sid_to_sme: new Int32Array(65536).fill(-1),
    sid_match_count: new Uint16Array(65536), sid_match_sum: new Int32Array(65536),
    sid_route: new Int32Array(65536).fill(ROUTE_UNMATCHED),
    cb_ctx: new Int32Array(num_context_banks).fill(-1),
    sid_asid: new Int32Array(65536).fill(-1),
    sme_cb: new Int32Array(num_mapping_groups).fill(-1),
    cb_smes: new Uint16Array(num_context_banks),
    tlb: new Float64Array(2 * SMMU_IOTLB_ENTRIES).fill(-1),
    asid_filled: new Uint8Array(65536),
    iotlb_hits: 0, iotlb_misses: 0,
    context_fault_irq: null, global_fault_irq: null,
    walk_level: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Register writes (the driver's arm_smmu_write_smr / _s2cr / _context_bank end here)
// ---------------------------------------------------------------------------------------------

/** Every stream ID an SMR (id, mask) matches: id with the masked bits taking every value. */
function smr_matching_sids(id: number, mask: number, out: number[]): void {
  const base = id & ~mask & 0xffff;
  let sub = mask & 0xffff;
  for (;;) {
    out.push(base | sub);
    if (sub === 0) return;
    sub = (sub - 1) & mask;
  }
}

/** What the comparators answer for one stream ID: no valid SMR matches it (-1), one (its
 *  index), or several (-2, a conflict), read from the tallies. */
function smr_match(hw: arm_smmu_hw, sid: number): number {
  const n = hw.sid_match_count[sid]!;
  if (n === 0) return -1;
  return n === 1 ? hw.sid_match_sum[sid]! - 1 : -2;
}

/** Count SMR `idx` in (add = 1) or out (add = -1) of the tallies of the stream IDs it matches. */
function smr_tally(hw: arm_smmu_hw, idx: number, sids: number[], from: number, add: number): void {
  for (let i = from; i < sids.length; i++) {
    const sid = sids[i]!;
    hw.sid_match_count[sid] += add;
    hw.sid_match_sum[sid] += add * (idx + 1);
  }
}

/** Where a transaction matched to `sme` goes, as sid_route encodes it. */
function sme_route(hw: arm_smmu_hw, sme: number): number {
  if (sme === -1) return ROUTE_UNMATCHED;
  if (sme === -2) return ROUTE_CONFLICT;
  const type = hw.s2cr_type[sme]!;
  if (type === S2CR_TYPE_TRANS) return hw.s2cr_cbndx[sme]!;
  return type === S2CR_TYPE_BYPASS ? ROUTE_BYPASS : ROUTE_S2CR_FAULT;
}

/** The bank entry `idx` routes to changed or not: keep sme_cb and cb_smes in step. */
function sme_cb_update(hw: arm_smmu_hw, idx: number): void {
  const cb = hw.smr_valid[idx] && hw.s2cr_type[idx] === S2CR_TYPE_TRANS ? hw.s2cr_cbndx[idx]! : -1;
  const old = hw.sme_cb[idx]!;
  if (cb === old) return;
  if (old >= 0) hw.cb_smes[old]--;
  if (cb >= 0) hw.cb_smes[cb]++;
  hw.sme_cb[idx] = cb;
}

/** sid_asid of one stream ID, from its route and the bank's state. */
function sid_asid_update(hw: arm_smmu_hw, sid: number): void {
  const route = hw.sid_route[sid]!;
  hw.sid_asid[sid] = route >= 0 ? hw.cb_ctx[route]! : -1;
}

/** SMRn write (ARM_SMMU_GR0_SMR): refresh the caches for the IDs it covered and covers. */
export function smmu_hw_write_smr(hw: arm_smmu_hw, idx: number, id: number, mask: number, valid: boolean): void {
  const affected: number[] = [];
  if (hw.smr_valid[idx]) {
    smr_matching_sids(hw.smr_id[idx]!, hw.smr_mask[idx]!, affected);
    smr_tally(hw, idx, affected, 0, -1);
  }
  hw.smr_id[idx] = id;
  hw.smr_mask[idx] = mask;
  hw.smr_valid[idx] = valid ? 1 : 0;
  if (valid) {
    const from = affected.length;
    smr_matching_sids(id, mask, affected);
    smr_tally(hw, idx, affected, from, 1);
  }
  sme_cb_update(hw, idx);
  for (const sid of affected) {
    const sme = smr_match(hw, sid);
    hw.sid_to_sme[sid] = sme;
    hw.sid_route[sid] = sme_route(hw, sme);
    sid_asid_update(hw, sid);
  }
}

/** S2CRn write (ARM_SMMU_GR0_S2CR): re-route the stream IDs that resolve to this entry. */
export function smmu_hw_write_s2cr(hw: arm_smmu_hw, idx: number, type: number, cbndx: number): void {
  hw.s2cr_type[idx] = type;
  hw.s2cr_cbndx[idx] = cbndx;
  sme_cb_update(hw, idx);
  if (!hw.smr_valid[idx]) return;
  const sids: number[] = [];
  smr_matching_sids(hw.smr_id[idx]!, hw.smr_mask[idx]!, sids);
  for (const sid of sids) {
    if (hw.sid_to_sme[sid] !== idx) continue;
    hw.sid_route[sid] = sme_route(hw, idx);
    sid_asid_update(hw, sid);
  }
}

/** Context bank registers (SCTLR.M, TTBR0 with the ASID, TCR.T0SZ/SL0): enabled when pgd (the
 *  PGD's root) >= 0. */
export function smmu_hw_write_context_bank(hw: arm_smmu_hw, idx: number, pgd: number, asid: number, start_level: number, ias: number): void {
  hw.cb_m[idx] = pgd >= 0 ? 1 : 0;
  hw.cb_ttbr0[idx] = pgd >= 0 ? pgd : 0;
  hw.cb_asid[idx] = asid;
  hw.cb_start_level[idx] = start_level;
  hw.cb_va_limit[idx] = 2 ** ias;
  const ctx = pgd >= 0 ? asid : -1;
  if (hw.cb_ctx[idx] === ctx) return;
  hw.cb_ctx[idx] = ctx;
  // the stream IDs that translate through this bank (the driver points S2CRs at a bank after
  // enabling it and away before disabling it, so there are usually none)
  if (hw.cb_smes[idx] === 0) return;
  const sids: number[] = [];
  for (let sme = 0; sme < hw.num_mapping_groups; sme++) {
    if (hw.sme_cb[sme] !== idx) continue;
    sids.length = 0;
    smr_matching_sids(hw.smr_id[sme]!, hw.smr_mask[sme]!, sids);
    for (const sid of sids) if (hw.sid_to_sme[sid] === sme) sid_asid_update(hw, sid);
  }
}

/** sCR0 write: USFCFG decides what unmatched streams do. */
export function smmu_hw_write_scr0(hw: arm_smmu_hw, usfcfg: boolean): void {
  hw.usfcfg = usfcfg;
}

// ---------------------------------------------------------------------------------------------
// TLB maintenance (TLBIASID, TLBIVA, TLBIALL)
// ---------------------------------------------------------------------------------------------

/** The entry a page of an ASID lives in (direct-mapped, hashed by ASID): the tag's index. */
function iotlb_slot(asid: number, iova: number): number {
  return ((Math.floor(iova / 4096) ^ (asid * 0x9e5)) & (SMMU_IOTLB_ENTRIES - 1)) << 1;
}

/** The tag of a page of an ASID: page number * 65536 + ASID (exact below 2^52). */
function iotlb_tag(asid: number, iova: number): number {
  return Math.floor(iova / 4096) * 65536 + asid;
}

function iotlb_tag_asid(tag: number): number {
  return tag - Math.floor(tag / 65536) * 65536;
}

/** CB_S1_TLBIASID: drop every entry of one ASID */
export function smmu_hw_tlbi_asid(hw: arm_smmu_hw, asid: number): void {
  if (!hw.asid_filled[asid]) return;
  const tlb = hw.tlb;
  for (let i = 0; i < tlb.length; i += 2) if (tlb[i]! >= 0 && iotlb_tag_asid(tlb[i]!) === asid) tlb[i] = -1;
  hw.asid_filled[asid] = 0;
}

/** CB_S1_TLBIVA over [iova, iova + size): one write per page, or a sweep when that is cheaper */
export function smmu_hw_tlbi_va(hw: arm_smmu_hw, asid: number, iova: number, size: number): void {
  const tlb = hw.tlb;
  const start = iova - (iova % 4096);
  const end = iova + size;
  if ((end - start) / 4096 >= SMMU_IOTLB_ENTRIES) {
    for (let i = 0; i < tlb.length; i += 2) {
      const tag = tlb[i]!;
      if (tag < 0) continue;
      const a = iotlb_tag_asid(tag);
      const va = (tag - a) / 16;
      if (a === asid && va >= start && va < end) tlb[i] = -1;
    }
    return;
  }
  for (let va = start; va < end; va += 4096) {
    const i = iotlb_slot(asid, va);
    if (tlb[i] === iotlb_tag(asid, va)) tlb[i] = -1;
  }
}

/** TLBIALLNSNH: the whole IOTLB */
export function smmu_hw_tlbi_all(hw: arm_smmu_hw): void {
  for (let i = 0; i < hw.tlb.length; i += 2) hw.tlb[i] = -1;
  hw.asid_filled.fill(0);
}

// ---------------------------------------------------------------------------------------------
// Translation. smmu_hw_translate() is one transaction, written plainly: what the scenario
// replay and the tests send. smmu_hw_translate_burst() is a burst of transactions from one
// stream, as a DMA engine issues them for a buffer, with the same outcome for each as
// smmu_hw_translate() would give (a property test in arm-smmu.test.ts holds the two
// together): what the benchmarks send, millions at a time.
// ---------------------------------------------------------------------------------------------

/**
 * One transaction from stream `sid` at `iova`: the physical address (>= 0), or a negative
 * SMMU_FAULT_* code after the fault has been raised (syndrome registers + interrupt).
 * An unmatched stream with USFCFG clear, an S2CR of type bypass, or a disabled context bank
 * (SCTLR.M = 0) pass the address through untranslated.
 *
 * A translating bank looks the IOTLB up first (a hit counts in iotlb_hits); a miss (counted in
 * iotlb_misses) walks the table from TTBR0 and fills the entry with the leaf found, whatever
 * the access, as the SMMU caches a walk's result before checking permissions.
 */
export function smmu_hw_translate(hw: arm_smmu_hw, sid: number, iova: number, write: boolean): number {
  const route = sid >>> 16 ? ROUTE_UNMATCHED : hw.sid_route[sid]!;
  if (route < 0) return smmu_hw_route_fault(hw, route, sid, iova, write);
  const cb = route;
  const asid = hw.cb_ctx[cb]!;
  if (asid < 0) return iova; // SCTLR.M clear: no translation
  const i = iotlb_slot(asid, iova);
  const tag = iotlb_tag(asid, iova);
  let data: number;
  if (hw.tlb[i] === tag) {
    hw.iotlb_hits++;
    data = hw.tlb[i + 1]!;
  } else {
    hw.iotlb_misses++;
    const pte = smmu_hw_walk(hw, cb, iova);
    if (pte < 0) return smmu_hw_context_fault(hw, cb, SMMU_FAULT_TRANSLATION, sid, iova, write);
    const page = pte - (pte & ARM_LPAE_PTE_ATTR_MASK) + ((iova % ARM_LPAE_BLOCK_SIZE[hw.walk_level]!) - (iova % 4096));
    data = pte & ARM_LPAE_PTE_AP_RDONLY ? -1 - page : page;
    hw.tlb[i] = tag;
    hw.tlb[i + 1] = data;
    hw.asid_filled[asid] = 1;
  }
  if (data < 0 && write) {
    hw.walk_level = 3;
    return smmu_hw_context_fault(hw, cb, SMMU_FAULT_PERMISSION, sid, iova, write);
  }
  return (data < 0 ? -1 - data : data) + (iova % 4096);
}

/**
 * A burst from stream `sid`: transaction k at iovas[k], its outcome in out[k], each exactly
 * as smmu_hw_translate() gives it (counters, IOTLB fills and faults included).
 *
 * The runs of IOTLB hits and of misses that walk to a usable leaf, the common cases, go through
 * two loops that read typed arrays only and allocate nothing; whatever else a transaction
 * meets (a stream that does not translate, a fault) goes through smmu_hw_translate(). Each loop
 * matches the stream once, when it starts: nothing inside a burst writes a register, so every
 * transaction of the run matches as its first does. It looks the IOTLB up and walks per
 * transaction, keeps the arrays it reads in locals and its counts in a register until it
 * stops. Reading the stream's ASID once takes a typed array out of the loop, and with it a
 * check of that array per transaction: a hit costs about a seventh less. Numbers are written
 * as literals with the name in a comment, because in Node 20 each use of a module-level const
 * is a load from the module context.
 */
export function smmu_hw_translate_burst(hw: arm_smmu_hw, sid: number, iovas: Float64Array, out: Float64Array, write: boolean): void {
  const n = iovas.length;
  let k = 0;
  while (k < n) {
    const next = iotlb_miss_run(hw, sid, iovas, out, iotlb_hit_run(hw, sid, iovas, out, k, write), write);
    if (next > k) {
      k = next;
      continue;
    }
    out[k] = smmu_hw_translate(hw, sid, iovas[k]!, write);
    k++;
  }
}

/** Transactions from `k` on while each hits the IOTLB on a read-write page: the index of the
 *  first that does not (a read-only entry is left to smmu_hw_translate(), which checks the
 *  access). */
function iotlb_hit_run(hw: arm_smmu_hw, sid: number, iovas: Float64Array, out: Float64Array, k: number, write: boolean): number {
  const from = k;
  const asid = sid >>> 16 ? -1 : hw.sid_asid[sid]!; // stream match: the ASID of its enabled bank
  if (asid >= 0) {
    const tlb = hw.tlb;
    for (; k < iovas.length; k++) {
      const iova = iovas[k]!;
      const pn = Math.floor(iova * 2.44140625e-4 /* 2^-12 */);
      const i = (((pn | 0) ^ (asid * 0x9e5)) & 4095 /* SMMU_IOTLB_ENTRIES - 1 */) << 1;
      if (tlb[i] !== pn * 65536 + asid) break;
      const data = tlb[i + 1]!;
      if (data < 0) break; // read-only
      out[k] = data + (iova - pn * 4096);
    }
  }
  hw.iotlb_hits += k - from;
  return k;
}

/**
 * Transactions from `k` on while each misses the IOTLB and walks to a leaf that allows the
 * access: each walk fills its entry. The index of the first that does not (it hits, or needs
 * smmu_hw_translate(): nothing is counted or filled for it here).
 *
 * The walk is unrolled: level 0 (tables only), 1 and 2 (table or block), 3 (page). Its index
 * bits come from int32 arithmetic on the two halves of the (up to 48-bit) address; a table
 * descriptor keeps its address in the low word (io-pgtable-arm.ts), a leaf's high word is read
 * at the end only. It walks from level 0, as a bank with an input range over 39 bits does (a
 * 48-bit SMMU's); a bank that starts lower is left to smmu_hw_translate(), one transaction at
 * a time. With no start level to test, the loop is about 7% faster on translate-cold.
 */
function iotlb_miss_run(hw: arm_smmu_hw, sid: number, iovas: Float64Array, out: Float64Array, k: number, write: boolean): number {
  const from = k;
  const writing = write ? 1 : 0; // a number: a boolean argument is tested as any value in the loop
  const asid = sid >>> 16 ? -1 : hw.sid_asid[sid]!; // stream match: the ASID of its enabled bank
  if (asid >= 0) {
    const tlb = hw.tlb;
    const ptes = hw.pool.ptes; // two 32-bit words per descriptor, low word first
    // the bank's registers: nothing in a run writes registers, so they are read once
    const cb = Math.max(hw.sid_route[sid]!, 0);
    if (hw.cb_start_level[cb] !== 0) return k;
    const pgd = hw.pool.roots[hw.cb_ttbr0[cb]!]!;
    const va_limit = hw.cb_va_limit[cb]!;
    for (; k < iovas.length; k++) {
      const iova = iovas[k]!;
      const pn = Math.floor(iova * 2.44140625e-4 /* 2^-12 */);
      const i = (((pn | 0) ^ (asid * 0x9e5)) & 4095 /* SMMU_IOTLB_ENTRIES - 1 */) << 1;
      const tag = pn * 65536 + asid;
      if (tlb[i] === tag) break;
      if (!(iova >= 0 && iova < va_limit)) break; // outside the input range: T0SZ's fault
      let base = pgd;
      const lo = iova >>> 0;
      const hi = (iova * 2.3283064365386963e-10 /* 2^-32 */) | 0;
      let w = 0; // the low word of the descriptor read last
      let d = 0;
      let mask = 0xfff; // offset bits of the leaf found (block size - 1)
      walk: {
        w = ptes[(base + ((hi >>> 7) & 511)) << 1]!;
        if ((w & 3) !== 3 /* ARM_LPAE_PTE_TYPE_TABLE */) break;
        base = (w >>> 12) << 9;
        d = base + (((hi << 2) | (lo >>> 30)) & 511);
        w = ptes[d << 1]!;
        if ((w & 3) === 1 /* ARM_LPAE_PTE_TYPE_BLOCK */) {
          mask = 0x3fffffff;
          break walk;
        }
        if ((w & 3) !== 3) break;
        base = (w >>> 12) << 9;
        d = base + ((lo >>> 21) & 511);
        w = ptes[d << 1]!;
        if ((w & 3) === 1 /* ARM_LPAE_PTE_TYPE_BLOCK */) {
          mask = 0x1fffff;
          break walk;
        }
        if ((w & 3) !== 3) break;
        d = ((w >>> 12) << 9) + ((lo >>> 12) & 511);
        w = ptes[d << 1]!;
        if ((w & 3) !== 3 /* ARM_LPAE_PTE_TYPE_PAGE */) break;
      }
      // the page of iova inside the leaf: its offset within the block, less the page offset
      const page = ptes[(d << 1) + 1]! * 4294967296 + (((w & ~0xfff) | (lo & mask & ~0xfff)) >>> 0);
      const rdonly = (w >>> 7) & 1; /* ARM_LPAE_PTE_AP_RDONLY */
      if (rdonly & writing) break;
      tlb[i] = tag;
      tlb[i + 1] = page - rdonly * (2 * page + 1); // -1 - page when read-only, without a branch
      out[k] = page + (iova - pn * 4096);
    }
  }
  if (k > from) {
    hw.iotlb_misses += k - from;
    hw.asid_filled[asid] = 1;
  }
  return k;
}

/**
 * The page-table walker of the slow and quiet paths: the leaf descriptor that maps `iova` in
 * context bank `cb` (always > 0), with `hw.walk_level` set to its level; or
 * SMMU_FAULT_TRANSLATION, with `hw.walk_level` at the descriptor that stopped the walk.
 */
function smmu_hw_walk(hw: arm_smmu_hw, cb: number, iova: number): number {
  let lvl = hw.cb_start_level[cb]!;
  if (iova >= hw.cb_va_limit[cb]!) {
    hw.walk_level = lvl;
    return SMMU_FAULT_TRANSLATION;
  }
  const ptes = hw.pool.ptes;
  let base = hw.pool.roots[hw.cb_ttbr0[cb]!]!;
  for (; lvl < 3; lvl++) {
    const pte = pte_read(ptes, base + arm_lpae_lvl_idx(iova, lvl));
    const type = pte & ARM_LPAE_PTE_TYPE_MASK;
    if (type === ARM_LPAE_PTE_TYPE_TABLE) {
      base = iopte_deref(pte);
      continue;
    }
    hw.walk_level = lvl;
    return type === ARM_LPAE_PTE_TYPE_BLOCK && lvl > 0 ? pte : SMMU_FAULT_TRANSLATION;
  }
  const pte = pte_read(ptes, base + arm_lpae_lvl_idx(iova, 3));
  hw.walk_level = 3;
  return (pte & ARM_LPAE_PTE_TYPE_MASK) === ARM_LPAE_PTE_TYPE_PAGE ? pte : SMMU_FAULT_TRANSLATION;
}

/**
 * The same decision without side effects: no IOTLB lookup or fill, no counters, no fault
 * raised. For the harness's isolation sweep, which must not disturb what it measures.
 */
export function smmu_hw_translate_quiet(hw: arm_smmu_hw, sid: number, iova: number, write: boolean): number {
  const route = sid >>> 16 ? ROUTE_UNMATCHED : hw.sid_route[sid]!;
  if (route < 0) {
    if (route === ROUTE_BYPASS || (route === ROUTE_UNMATCHED && !hw.usfcfg)) return iova;
    return route === ROUTE_UNMATCHED ? SMMU_FAULT_UNIDENTIFIED_STREAM : route === ROUTE_CONFLICT ? SMMU_FAULT_STREAM_MATCH_CONFLICT : SMMU_FAULT_S2CR;
  }
  if (hw.cb_ctx[route]! < 0) return iova;
  const pte = smmu_hw_walk(hw, route, iova);
  if (pte < 0) return pte;
  if (write && (pte & ARM_LPAE_PTE_AP_RDONLY)) return SMMU_FAULT_PERMISSION;
  return pte - (pte & ARM_LPAE_PTE_ATTR_MASK) + (iova % ARM_LPAE_BLOCK_SIZE[hw.walk_level]!);
}

// ---------------------------------------------------------------------------------------------
// Cold path: raising faults. The syndrome goes into the registers, then the interrupt line.
// ---------------------------------------------------------------------------------------------

/** A stream the S2CRs do not send to a context bank: bypass, or a global fault. */
function smmu_hw_route_fault(hw: arm_smmu_hw, route: number, sid: number, iova: number, write: boolean): number {
  if (route === ROUTE_BYPASS || (route === ROUTE_UNMATCHED && !hw.usfcfg)) return iova;
  if (route === ROUTE_UNMATCHED) return smmu_hw_global_fault(hw, ARM_SMMU_sGFSR_USF, sid, iova, write);
  if (route === ROUTE_CONFLICT) return smmu_hw_global_fault(hw, ARM_SMMU_sGFSR_SMCF, sid, iova, write);
  return smmu_hw_global_fault(hw, SMMU_sGFSR_MODEL_S2CR_FAULT, sid, iova, write);
}

function smmu_hw_global_fault(hw: arm_smmu_hw, gfsr_bit: number, sid: number, iova: number, write: boolean): number {
  hw.gfsr |= gfsr_bit;
  hw.gfsynr0 = write ? 2 : 0; // sGFSYNR0.WNR
  hw.gfsynr1 = sid & 0xffff; // sGFSYNR1: the stream ID
  hw.gfsynr2 = 0;
  hw.gfar = iova;
  hw.global_fault_irq?.();
  if (gfsr_bit === ARM_SMMU_sGFSR_USF) return SMMU_FAULT_UNIDENTIFIED_STREAM;
  if (gfsr_bit === ARM_SMMU_sGFSR_SMCF) return SMMU_FAULT_STREAM_MATCH_CONFLICT;
  return SMMU_FAULT_S2CR;
}

function smmu_hw_context_fault(hw: arm_smmu_hw, cb: number, code: number, sid: number, iova: number, write: boolean): number {
  const bit = code === SMMU_FAULT_PERMISSION ? ARM_SMMU_CB_FSR_PF : ARM_SMMU_CB_FSR_TF;
  hw.cb_fsr[cb] = (hw.cb_fsr[cb]! | bit | ARM_SMMU_CB_FSR_FORMAT_AARCH64) >>> 0;
  hw.cb_far[cb] = iova;
  hw.cb_fsynr0[cb] = (write ? ARM_SMMU_CB_FSYNR0_WNR : 0) | (hw.walk_level & 3);
  hw.cb_cbfrsynra[cb] = sid & 0xffff;
  hw.context_fault_irq?.(cb);
  return code;
}

// Kept next to the walker so a change of descriptor format shows up as a type error here: the
// burst loops write these as literals.
void ([ARM_LPAE_PTE_TYPE_MASK, ARM_LPAE_PTE_TYPE_TABLE, ARM_LPAE_PTE_TYPE_BLOCK, ARM_LPAE_PTE_TYPE_PAGE, ARM_LPAE_PTE_ATTR_MASK] satisfies [3, 3, 1, 3, 0xfff]);
if (ARM_LPAE_PTE_AP_RDONLY !== 0x80) throw new Error('arm-smmu-hw.ts: the burst loops assume AP[2] (read-only) is bit 7');
