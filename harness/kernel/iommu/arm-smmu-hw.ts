// The ARM SMMUv2 hardware that drivers/iommu/arm/arm-smmu/arm-smmu.c programs: its registers
// (SMRn, S2CRn, context banks with their fault syndrome registers, the global fault registers),
// its IOTLB and the translation of one device transaction. This is the device, not Linux: the
// driver (arm-smmu.ts) writes these registers the way the C writes MMIO, and the harness sends
// transactions through smmu_hw_translate(). Register and field names follow arm-smmu.h; the
// behaviour is the SMMUv2 architecture as the driver relies on it.
//
// Stream matching: a transaction with stream ID s matches SMRn when n is valid and
// ((s ^ id) & ~mask & 0xffff) == 0. The hardware compares all SMRs at once; the model keeps
// `sid_to_sme`, an Int16Array(65536) cache of those comparators' answer (-1 no match, -2 more
// than one = stream match conflict), updated whenever an SMR is written.
import {
  ARM_LPAE_BLOCK_SIZE, ARM_LPAE_MAX_LEVELS, ARM_LPAE_PTE_AP_RDONLY, ARM_LPAE_PTE_ATTR_MASK,
  ARM_LPAE_PTE_TYPE_BLOCK, ARM_LPAE_PTE_TYPE_MASK, ARM_LPAE_PTE_TYPE_PAGE, ARM_LPAE_PTE_TYPE_TABLE,
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
const IOTLB_MASK = SMMU_IOTLB_ENTRIES - 1;
const PAGE_MASK = 0xfff;

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
  s2cr_cbndx: Uint8Array;
  /** cache of the SMR comparators: stream ID -> SME index, -1 none, -2 conflict */
  sid_to_sme: Int16Array;
  // Context banks: SCTLR.M, the ASID, TTBR0 (pool offset of the PGD), where the walk starts
  cb_m: Uint8Array;
  cb_asid: Uint16Array;
  cb_ttbr0: Float64Array;
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
  // IOTLB: tag (ASID, page VA), data (page PA, writable); asid -1 = invalid
  tlb_asid: Int32Array;
  tlb_va: Float64Array;
  tlb_pa: Float64Array;
  tlb_writable: Uint8Array;
  iotlb_hits: number;
  iotlb_misses: number;
  /** interrupt lines the driver requests (devm_request_irq) */
  context_fault_irq: ((cb: number) => void) | null;
  global_fault_irq: (() => void) | null;
  /** level of the descriptor that stopped the last failed walk (FSYNR0.PLVL) */
  walk_level: number;
}

/** The SMMU out of reset: no valid SMR, S2CRs faulting, banks disabled, IOTLB empty. */
export function smmu_hw_alloc(name: string, num_mapping_groups: number, num_context_banks: number, pool: arm_lpae_pool): arm_smmu_hw {
  const hw: arm_smmu_hw = {
    name, num_mapping_groups, num_context_banks, usfcfg: true,
    smr_id: new Uint16Array(num_mapping_groups), smr_mask: new Uint16Array(num_mapping_groups), smr_valid: new Uint8Array(num_mapping_groups),
    s2cr_type: new Uint8Array(num_mapping_groups).fill(S2CR_TYPE_FAULT), s2cr_cbndx: new Uint8Array(num_mapping_groups),
    sid_to_sme: new Int16Array(65536).fill(-1),
    cb_m: new Uint8Array(num_context_banks), cb_asid: new Uint16Array(num_context_banks), cb_ttbr0: new Float64Array(num_context_banks),
    cb_start_level: new Uint8Array(num_context_banks), cb_va_limit: new Float64Array(num_context_banks),
    cb_fsr: new Uint32Array(num_context_banks), cb_far: new Float64Array(num_context_banks),
    cb_fsynr0: new Uint32Array(num_context_banks), cb_cbfrsynra: new Uint32Array(num_context_banks),
    gfsr: 0, gfsynr0: 0, gfsynr1: 0, gfsynr2: 0, gfar: 0,
    pool,
    tlb_asid: new Int32Array(SMMU_IOTLB_ENTRIES).fill(-1), tlb_va: new Float64Array(SMMU_IOTLB_ENTRIES),
    tlb_pa: new Float64Array(SMMU_IOTLB_ENTRIES), tlb_writable: new Uint8Array(SMMU_IOTLB_ENTRIES),
    iotlb_hits: 0, iotlb_misses: 0,
    context_fault_irq: null, global_fault_irq: null,
    walk_level: 0,
  };
  return hw;
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

/** What the comparators answer for one stream ID. */
function smr_match(hw: arm_smmu_hw, sid: number): number {
  let found = -1;
  for (let i = 0; i < hw.num_mapping_groups; i++) {
    if (!hw.smr_valid[i] || ((sid ^ hw.smr_id[i]!) & ~hw.smr_mask[i]! & 0xffff)) continue;
    if (found >= 0) return -2;
    found = i;
  }
  return found;
}

/** SMRn write (ARM_SMMU_GR0_SMR): refresh the comparator cache for the IDs it covered and covers. */
export function smmu_hw_write_smr(hw: arm_smmu_hw, idx: number, id: number, mask: number, valid: boolean): void {
  const affected: number[] = [];
  if (hw.smr_valid[idx]) smr_matching_sids(hw.smr_id[idx]!, hw.smr_mask[idx]!, affected);
  hw.smr_id[idx] = id;
  hw.smr_mask[idx] = mask;
  hw.smr_valid[idx] = valid ? 1 : 0;
  if (valid) smr_matching_sids(id, mask, affected);
  for (const sid of affected) hw.sid_to_sme[sid] = smr_match(hw, sid);
}

/** S2CRn write (ARM_SMMU_GR0_S2CR) */
export function smmu_hw_write_s2cr(hw: arm_smmu_hw, idx: number, type: number, cbndx: number): void {
  hw.s2cr_type[idx] = type;
  hw.s2cr_cbndx[idx] = cbndx;
}

/** Context bank registers (SCTLR.M, TTBR0 with the ASID, TCR.T0SZ/SL0): enabled when pgd >= 0. */
export function smmu_hw_write_context_bank(hw: arm_smmu_hw, idx: number, pgd: number, asid: number, start_level: number, ias: number): void {
  hw.cb_m[idx] = pgd >= 0 ? 1 : 0;
  hw.cb_ttbr0[idx] = pgd >= 0 ? pgd : 0;
  hw.cb_asid[idx] = asid;
  hw.cb_start_level[idx] = start_level;
  hw.cb_va_limit[idx] = 2 ** ias;
}

/** sCR0 write: USFCFG decides what unmatched streams do. */
export function smmu_hw_write_scr0(hw: arm_smmu_hw, usfcfg: boolean): void {
  hw.usfcfg = usfcfg;
}

// ---------------------------------------------------------------------------------------------
// TLB maintenance (TLBIASID, TLBIVA, TLBIALL)
// ---------------------------------------------------------------------------------------------

function iotlb_index(asid: number, iova: number): number {
  return ((iova >>> 12) ^ (asid * 0x9e5)) & IOTLB_MASK;
}

/** CB_S1_TLBIASID: drop every entry of one ASID */
export function smmu_hw_tlbi_asid(hw: arm_smmu_hw, asid: number): void {
  const tags = hw.tlb_asid;
  for (let i = 0; i < SMMU_IOTLB_ENTRIES; i++) if (tags[i] === asid) tags[i] = -1;
}

/** CB_S1_TLBIVA over [iova, iova + size): one write per page, or a sweep when that is cheaper */
export function smmu_hw_tlbi_va(hw: arm_smmu_hw, asid: number, iova: number, size: number): void {
  const start = iova - (iova % 4096);
  const end = iova + size;
  if ((end - start) / 4096 >= SMMU_IOTLB_ENTRIES) {
    for (let i = 0; i < SMMU_IOTLB_ENTRIES; i++) {
      if (hw.tlb_asid[i] === asid && hw.tlb_va[i]! >= start && hw.tlb_va[i]! < end) hw.tlb_asid[i] = -1;
    }
    return;
  }
  for (let va = start; va < end; va += 4096) {
    const i = iotlb_index(asid, va);
    if (hw.tlb_asid[i] === asid && hw.tlb_va[i] === va) hw.tlb_asid[i] = -1;
  }
}

/** TLBIALLNSNH: the whole IOTLB */
export function smmu_hw_tlbi_all(hw: arm_smmu_hw): void {
  hw.tlb_asid.fill(-1);
}

// ---------------------------------------------------------------------------------------------
// HOT PATH: one device transaction.
// This section is written differently from the rest of the model on purpose: benchmarks send
// millions of transactions through it, so it touches only typed arrays and numbers, allocates
// nothing, and keeps the fault reporting (strings, log events, driver callbacks) in separate
// cold functions. See toolchain.md for the measured cost of objects and Maps here.
// ---------------------------------------------------------------------------------------------

/**
 * The page-table walker: the leaf descriptor's output for `iova` in context bank `cb`, or a
 * negative fault code with `hw.walk_level` set. Also the IOTLB fill when `fill` is true.
 */
function smmu_hw_walk(hw: arm_smmu_hw, cb: number, iova: number, write: boolean, fill: boolean): number {
  if (iova >= hw.cb_va_limit[cb]!) {
    hw.walk_level = hw.cb_start_level[cb]!;
    return SMMU_FAULT_TRANSLATION;
  }
  const ptes = hw.pool.ptes;
  let base = hw.cb_ttbr0[cb]!;
  for (let lvl = hw.cb_start_level[cb]!; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
    const size = ARM_LPAE_BLOCK_SIZE[lvl]!;
    const pte = ptes[base + ((iova / size) & 511)]!;
    const type = pte & ARM_LPAE_PTE_TYPE_MASK;
    const leaf = lvl === 3 ? type === ARM_LPAE_PTE_TYPE_PAGE : type === ARM_LPAE_PTE_TYPE_BLOCK;
    if (leaf) {
      const attrs = pte & ARM_LPAE_PTE_ATTR_MASK;
      const phys = pte - attrs + (iova % size);
      const writable = (attrs & ARM_LPAE_PTE_AP_RDONLY) === 0;
      if (fill) {
        const asid = hw.cb_asid[cb]!;
        const i = iotlb_index(asid, iova);
        const off = iova & PAGE_MASK;
        hw.tlb_asid[i] = asid;
        hw.tlb_va[i] = iova - off;
        hw.tlb_pa[i] = phys - off;
        hw.tlb_writable[i] = writable ? 1 : 0;
      }
      if (write && !writable) {
        hw.walk_level = lvl;
        return SMMU_FAULT_PERMISSION;
      }
      return phys;
    }
    if (lvl === 3 || type !== ARM_LPAE_PTE_TYPE_TABLE) {
      hw.walk_level = lvl;
      return SMMU_FAULT_TRANSLATION;
    }
    base = (pte >>> 12) * 512;
  }
  return SMMU_FAULT_TRANSLATION;
}

/**
 * One transaction from stream `sid` at `iova`: the physical address (>= 0), or a negative
 * SMMU_FAULT_* code after the fault has been raised (syndrome registers + interrupt).
 * An unmatched stream with USFCFG clear, an S2CR of type bypass, or a disabled context bank
 * (SCTLR.M = 0) pass the address through untranslated.
 */
export function smmu_hw_translate(hw: arm_smmu_hw, sid: number, iova: number, write: boolean): number {
  const sme = sid >>> 16 ? -1 : hw.sid_to_sme[sid]!;
  if (sme < 0) {
    if (sme === -1 && !hw.usfcfg) return iova;
    return smmu_hw_global_fault(hw, sme === -1 ? ARM_SMMU_sGFSR_USF : ARM_SMMU_sGFSR_SMCF, sid, iova, write);
  }
  const type = hw.s2cr_type[sme]!;
  if (type !== S2CR_TYPE_TRANS) {
    if (type === S2CR_TYPE_BYPASS) return iova;
    return smmu_hw_global_fault(hw, SMMU_sGFSR_MODEL_S2CR_FAULT, sid, iova, write);
  }
  const cb = hw.s2cr_cbndx[sme]!;
  if (!hw.cb_m[cb]) return iova;
  const asid = hw.cb_asid[cb]!;
  const i = iotlb_index(asid, iova);
  const off = iova & PAGE_MASK;
  if (hw.tlb_asid[i] === asid && hw.tlb_va[i] === iova - off) {
    hw.iotlb_hits++;
    if (write && !hw.tlb_writable[i]) {
      hw.walk_level = 3;
      return smmu_hw_context_fault(hw, cb, SMMU_FAULT_PERMISSION, sid, iova, write);
    }
    return hw.tlb_pa[i]! + off;
  }
  hw.iotlb_misses++;
  const phys = smmu_hw_walk(hw, cb, iova, write, true);
  if (phys < 0) return smmu_hw_context_fault(hw, cb, phys, sid, iova, write);
  return phys;
}

/**
 * The same decision without side effects: no IOTLB lookup or fill, no counters, no fault
 * raised. For the harness's isolation sweep, which must not disturb what it measures.
 */
export function smmu_hw_translate_quiet(hw: arm_smmu_hw, sid: number, iova: number, write: boolean): number {
  const sme = sid >>> 16 ? -1 : hw.sid_to_sme[sid]!;
  if (sme < 0) {
    if (sme === -1 && !hw.usfcfg) return iova;
    return sme === -1 ? SMMU_FAULT_UNIDENTIFIED_STREAM : SMMU_FAULT_STREAM_MATCH_CONFLICT;
  }
  const type = hw.s2cr_type[sme]!;
  if (type === S2CR_TYPE_BYPASS) return iova;
  if (type !== S2CR_TYPE_TRANS) return SMMU_FAULT_S2CR;
  const cb = hw.s2cr_cbndx[sme]!;
  if (!hw.cb_m[cb]) return iova;
  return smmu_hw_walk(hw, cb, iova, write, false);
}

// ---------------------------------------------------------------------------------------------
// Cold path: raising faults. The syndrome goes into the registers, then the interrupt line.
// ---------------------------------------------------------------------------------------------

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
