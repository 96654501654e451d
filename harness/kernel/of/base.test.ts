// Pins down of_map_id() of drivers/of/base.c as modelled in base.ts: the classic mainline rules
// (no map, first match wins, iommu-map-mask, -EFAULT for an id-base outside the mask, no match
// passes the id through, the target filter) and the multi-cell entries of the series
// "of: parsing of multi #{iommu,msi}-cells in maps" (Robin Murphy, Charan Teja Kalla,
// Vijayanand Jitta): entry = 3 + the target's #iommu-cells, length checked entry by entry,
// -EINVAL for a missing #cells or for a range of length > 1 with a multi-cell specifier.
// kernel-model.md 3.3.
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../kernel.ts';
import { EFAULT, EINVAL, ENODEV } from '../errno.ts';
import { of_map_id, type of_map_result } from './base.ts';
import { boot_dts, events_typed, node } from '../test-helpers.ts';

const DTS = `
  smmu1: iommu@1 { #iommu-cells = <1>; };
  smmu2: iommu@2 { #iommu-cells = <2>; };
  other: iommu@3 { #iommu-cells = <1>; };
  nocells: thing@4 { };
  msi: msi@5 { #msi-cells = <1>; };
  masters {
      nomap: nomap { };
      first: first {
          iommu-map = <0 &smmu1 0x100 4>, <2 &smmu1 0x200 4>;
      };
      masked: masked {
          /* PCI-style: drop the function bits */
          iommu-map = <0x100 &smmu1 0x40 8>;
          iommu-map-mask = <0xfff8>;
      };
      outside: outside {
          iommu-map = <0x0 &smmu1 0x10 1>, <0x100 &smmu1 0x20 1>;
          iommu-map-mask = <0xff>;
      };
      faultfirst: faultfirst {
          /* id-base outside the mask and a phandle that resolves to nothing: the mask wins */
          iommu-map = <0x100 0x999 0x20 1>;
          iommu-map-mask = <0xff>;
      };
      badlen: badlen {
          iommu-map = <0 &smmu1 0x100 1 5>;
      };
      qcom: qcom {
          /* Kaanapali iris style: <fid &apps_smmu SID MASK 1> */
          iommu-map = <0x100 &smmu2 0x1940 0x0 1>, <0x101 &smmu2 0x1943 0x20 1>;
      };
      mixed: mixed {
          iommu-map = <0 &smmu1 0x35 1>, <1 &smmu2 0x1940 0x0 1>, <2 &smmu1 0x36 1>;
      };
      range2: range2 {
          iommu-map = <0 &smmu2 0x1940 0x0 2>;
      };
      missing: missing {
          iommu-map = <0 &nocells 0x10 1>;
      };
      unresolved: unresolved {
          iommu-map = <0 0x999 0x10 1>;
      };
      targets: targets {
          iommu-map = <0 &other 0x10 1>, <0 &smmu1 0x20 1>;
      };
      targets2: targets2 {
          /* a mainline 4-cell map whose target has #iommu-cells = <2> */
          iommu-map = <0 &smmu2 0x1940 1>;
      };
      msimap: msimap {
          msi-map = <0 &msi 0x800 0x10>;
      };
  };`;

/** A kernel with the out-of-tree multi-cell series (patches.ts), or mainline */
function k(): Kernel {
  return boot_dts(DTS, { patches: ['of-map-multi-cell'] });
}

function mainline(): Kernel {
  return boot_dts(DTS);
}

function map(kk: Kernel, master: string, id: number, target: string | null = null, name = 'iommu-map'): of_map_result {
  return of_map_id(kk, node(kk, master), id, name, `${name}-mask`, target ? node(kk, target) : null);
}

describe('of_map_id() as mainline (drivers/of/base.c, without the multi-cell series)', () => {
  it('of_map_id(): mainline reads 4-cell entries; a 5-cell Qualcomm map is "Bad iommu-map length" and -EINVAL, whatever the id (drivers/of/base.c)', () => {
    const kk = mainline();
    const from = kk.log.events.length;
    expect(map(kk, 'qcom', 0x100)).toMatchObject({ ret: -EINVAL, target: null, id_out: [], error: '/masters/qcom: Error: Bad iommu-map length: 40' });
    expect(events_typed(kk, 'printk', from).some((e) => e.level === 'err' && e.message.includes('Bad iommu-map length: 40'))).toBe(true);
    // the length is checked before any entry, so even an id the first cells would match fails
    expect(map(kk, 'badlen', 0).ret).toBe(-EINVAL);
  });

  it('of_map_id(): mainline gives one output cell, so a 4-cell map to a 2-cell SMMU works (args_count 1) (drivers/of/base.c, drivers/iommu/of_iommu.c)', () => {
    const kk = mainline();
    expect(map(kk, 'first', 3)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x103] });
    expect(map(kk, 'targets2', 0)).toEqual({ ret: 0, target: node(kk, 'smmu2'), id_out: [0x1940] });
  });

  it('of_map_id(): mainline tests the range before it resolves the phandle, so an unresolved phandle of an entry that does not match is skipped (drivers/of/base.c)', () => {
    const kk = mainline();
    expect(map(kk, 'unresolved', 5).ret).toBe(0);
    expect(map(kk, 'unresolved', 0).ret).toBe(-ENODEV);
  });
});

describe('of_map_id() (drivers/of/base.c)', () => {
  it('of_map_id(): no map property means no translation: the id passes through, target NULL, 0 (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'nomap', 0x1234)).toEqual({ ret: 0, target: null, id_out: [0x1234] });
  });

  it('of_map_id(): no map property with a fixed target (filter_np) is -ENODEV (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'nomap', 0x1234, 'smmu1').ret).toBe(-ENODEV);
  });

  it('of_map_id(): out = id - id-base + out-base within [id-base, id-base + length) (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'first', 1)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x101] });
    expect(map(kk, 'first', 5)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x203] });
  });

  it('of_map_id(): entries are scanned in order and the first match wins (drivers/of/base.c)', () => {
    const kk = k();
    // id 2 and 3 fall in both [0, 4) and [2, 6)
    expect(map(kk, 'first', 2).id_out).toEqual([0x102]);
    expect(map(kk, 'first', 3).id_out).toEqual([0x103]);
  });

  it('of_map_id(): a match takes a reference on the target node (of_node_get) that the caller puts (drivers/of/base.c)', () => {
    const kk = k();
    const np = node(kk, 'smmu1');
    const before = np.refcount;
    map(kk, 'first', 1);
    expect(np.refcount).toBe(before + 1);
  });

  it('of_map_id(): iommu-map-mask is applied to the input id before matching (drivers/of/base.c)', () => {
    const kk = k();
    // 0x10105 & 0xfff8 = 0x100; every function of 0x100..0x107 maps to 0x40
    expect(map(kk, 'masked', 0x10105)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x40] });
    expect(map(kk, 'masked', 0x107).id_out).toEqual([0x40]);
  });

  it('of_map_id(): an id-base with bits outside iommu-map-mask is -EFAULT, even for an id an earlier entry would not match (drivers/of/base.c)', () => {
    const kk = k();
    const from = kk.log.events.length;
    expect(map(kk, 'outside', 0x55).ret).toBe(-EFAULT);
    expect(events_typed(kk, 'printk', from).some((e) => e.level === 'err' && e.message.includes('ignores id-base (0x100)'))).toBe(true);
    // an id matching the first entry returns before the bad entry is read
    expect(map(kk, 'outside', 0x0)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x10] });
  });

  it('of_map_id(): the id-base mask check comes before the phandle is resolved (-EFAULT, not -ENODEV) (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    expect(map(kk, 'faultfirst', 0x0).ret).toBe(-EFAULT);
  });

  it('of_map_id(): a phandle that resolves to nothing is -ENODEV (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'unresolved', 0).ret).toBe(-ENODEV);
  });

  it('of_map_id(): a length that is not a whole number of entries is -EINVAL ("Bad iommu-map length") when the scan reaches the tail (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    const from = kk.log.events.length;
    // 5 cells for a 1-cell target: one 4-cell entry and one stray cell
    expect(map(kk, 'badlen', 7)).toMatchObject({ ret: -EINVAL, target: null });
    expect(events_typed(kk, 'printk', from).some((e) => e.level === 'err' && e.message.includes('Bad iommu-map length: 20'))).toBe(true);
    // an id the first entry matches is translated before the stray cell is reached
    expect(map(kk, 'badlen', 0)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x100] });
  });

  it('of_map_id(): an entry is 3 + the target\'s #iommu-cells cells, and every output cell is returned (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    expect(map(kk, 'qcom', 0x100)).toEqual({ ret: 0, target: node(kk, 'smmu2'), id_out: [0x1940, 0x0] });
    expect(map(kk, 'qcom', 0x101)).toEqual({ ret: 0, target: node(kk, 'smmu2'), id_out: [0x1943, 0x20] });
  });

  it('of_map_id(): each entry takes its size from its own target, so one map may mix 1-cell and 2-cell targets (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    expect(map(kk, 'mixed', 0)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x35] });
    expect(map(kk, 'mixed', 1)).toEqual({ ret: 0, target: node(kk, 'smmu2'), id_out: [0x1940, 0x0] });
    expect(map(kk, 'mixed', 2)).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x36] });
  });

  it('of_map_id(): a range of length > 1 with a multi-cell specifier is -EINVAL, whatever the id (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    expect(map(kk, 'range2', 0).ret).toBe(-EINVAL);
    expect(map(kk, 'range2', 0x77).ret).toBe(-EINVAL);
  });

  it('of_map_id(): a target without #iommu-cells is -EINVAL ("missing #iommu-cells property") (drivers/of/base.c, multi-cell series)', () => {
    const kk = k();
    const from = kk.log.events.length;
    expect(map(kk, 'missing', 0).ret).toBe(-EINVAL);
    expect(events_typed(kk, 'printk', from).some((e) => e.message.includes('missing #iommu-cells property'))).toBe(true);
  });

  it('of_map_id(): no matching entry is not an error: the id passes through, target NULL, 0, with a "no iommu-map translation" notice (drivers/of/base.c)', () => {
    const kk = k();
    const from = kk.log.events.length;
    expect(map(kk, 'first', 9)).toEqual({ ret: 0, target: null, id_out: [9] });
    expect(events_typed(kk, 'printk', from).some((e) => e.level === 'info' && e.message.includes('no iommu-map translation for id 0x9'))).toBe(true);
  });

  it('of_map_id(): with a fixed target, entries pointing at other nodes are skipped; without one the first match wins (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'targets', 0)).toEqual({ ret: 0, target: node(kk, 'other'), id_out: [0x10] });
    expect(map(kk, 'targets', 0, 'smmu1')).toEqual({ ret: 0, target: node(kk, 'smmu1'), id_out: [0x20] });
    // a target no entry points at: no translation, the id passes through
    const none = map(kk, 'targets', 0, 'smmu2');
    expect(none.ret).toBe(0);
    expect(none.id_out).toEqual([0]);
  });

  it('of_map_id(): msi-map reads the target\'s #msi-cells (of_map_msi_id) (drivers/of/base.c)', () => {
    const kk = k();
    expect(map(kk, 'msimap', 3, null, 'msi-map')).toEqual({ ret: 0, target: node(kk, 'msi'), id_out: [0x803] });
  });
});
