import { describe, expect, it } from 'vitest';
import { parse_dts } from '../kernel/of/dts.ts';
import type { device_node, device_tree } from '../kernel/of/node.ts';
import { is_iommu_node, wired_streams } from './truth.ts';

const SMMUS = `
  smmu2: iommu@15000000 { compatible = "qcom,sm8550-smmu-500", "arm,mmu-500"; #iommu-cells = <2>; };
  smmu1: iommu@16000000 { compatible = "nvidia,smmu-500"; #iommu-cells = <1>; };
  masked: iommu@17000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; stream-match-mask = <0x7c00>; };
  off: iommu@18000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; status = "disabled"; };
`;

function tree(dev_body: string, extra = ''): { dt: device_tree; dev: device_node } {
  const dt = parse_dts(`${SMMUS}\ndev@1 { ${dev_body} ${extra} };`, new Map());
  const dev = dt.root.children.find((n) => n.full_name === 'dev@1')!;
  return { dt, dev };
}

/** The streams as (IOMMU label, sid, mask) triples, easy to compare. */
function by_id(dev_body: string, id: number): Array<[string, number, number]> {
  const { dt, dev } = tree(dev_body);
  return wired_streams(dt, dev, { id }).map((s) => [s.iommu.labels[0]!, s.sid, s.mask]);
}

function by_node(child_body: string): Array<[string, number, number]> {
  const { dt, dev } = tree('', `ctx { ${child_body} };`);
  const child = dev.children[0]!;
  return wired_streams(dt, dev, { node: child }).map((s) => [s.iommu.labels[0]!, s.sid, s.mask]);
}

describe('is_iommu_node', () => {
  it('matches the arm-smmu compatible strings, after SoC-specific ones', () => {
    const { dt, dev } = tree('compatible = "qcom,sm8550-iris";');
    expect(dt.root.children.filter(is_iommu_node).map((n) => n.labels[0])).toEqual(['smmu2', 'smmu1', 'masked', 'off']);
    expect(is_iommu_node(dev)).toBe(false);
  });

  it.each(['arm,smmu-v1', 'arm,smmu-v2', 'arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500', 'cavium,smmu-v2', 'nvidia,smmu-500', 'qcom,smmu-v2', 'qcom,smmu-500'])('%s', (c) => {
    const dt = parse_dts(`n { compatible = "vendor,x", "${c}"; };`, new Map());
    expect(is_iommu_node(dt.root.children[0]!)).toBe(true);
  });

  it('does not match the SMMUv3 or a node without compatible', () => {
    const dt = parse_dts('a { compatible = "arm,smmu-v3"; }; b { };', new Map());
    expect(dt.root.children.map(is_iommu_node)).toEqual([false, false]);
  });
});

describe('wired_streams by child node (iommus)', () => {
  it('takes SID and mask from a two-cell specifier', () => {
    expect(by_node('iommus = <&smmu2 0x1940 0x3>;')).toEqual([['smmu2', 0x1940, 3]]);
  });

  it('gives mask 0 with one cell, or the SMMU stream-match-mask', () => {
    expect(by_node('iommus = <&smmu1 0x35>;')).toEqual([['smmu1', 0x35, 0]]);
    expect(by_node('iommus = <&masked 0x35>;')).toEqual([['masked', 0x35, 0x7c00]]);
  });

  it('lists every entry, in order, across IOMMUs with different cell counts', () => {
    expect(by_node('iommus = <&smmu1 0x35>, <&smmu2 0x1947 0>, <&smmu1 0x36>;')).toEqual([['smmu1', 0x35, 0], ['smmu2', 0x1947, 0], ['smmu1', 0x36, 0]]);
  });

  it('wires nothing through a disabled IOMMU, and nothing without iommus', () => {
    expect(by_node('iommus = <&off 0x35>;')).toEqual([]);
    expect(by_node('iommus = <&off 0x35>, <&smmu1 0x36>;')).toEqual([['smmu1', 0x36, 0]]);
    expect(by_node('compatible = "x";')).toEqual([]);
  });

  it('reads the child, not the parent', () => {
    const { dt, dev } = tree('iommus = <&smmu1 0x99>;', 'ctx { iommus = <&smmu1 0x35>; };');
    expect(wired_streams(dt, dev, { node: dev.children[0]! }).map((s) => s.sid)).toEqual([0x35]);
  });
});

describe('wired_streams by input id (iommu-map)', () => {
  const iris = 'iommu-map = <0 &smmu2 0x1940 0x0 1>, <1 &smmu2 0x1947 0x3 1>;';

  it('picks the entry that covers the id, with its 5-cell specifier', () => {
    expect(by_id(iris, 0)).toEqual([['smmu2', 0x1940, 0]]);
    expect(by_id(iris, 1)).toEqual([['smmu2', 0x1947, 3]]);
  });

  it('offsets the SID by the id inside a range (id - base + out)', () => {
    const host1x = 'iommu-map = <0 &smmu1 0x35 8>, <8 &masked 0x35 8>;';
    expect(by_id(host1x, 0)).toEqual([['smmu1', 0x35, 0]]);
    expect(by_id(host1x, 7)).toEqual([['smmu1', 0x3c, 0]]);
    expect(by_id(host1x, 8)).toEqual([['masked', 0x35, 0x7c00]]);
    expect(by_id(host1x, 15)).toEqual([['masked', 0x3c, 0x7c00]]);
  });

  it('applies iommu-map-mask to the id first', () => {
    const map = 'iommu-map = <0 &smmu1 0x100 4>; iommu-map-mask = <0x3>;';
    expect(by_id(map, 0x12)).toEqual([['smmu1', 0x102, 0]]);
    expect(by_id('iommu-map = <0 &smmu1 0x100 4>;', 0x12)).toEqual([]);
  });

  it('lets the first matching entry win (several entries for one id are not mainline)', () => {
    const kaanapali = 'iommu-map = <0x100 &smmu2 0x1940 0 1>, <0x100 &smmu2 0x1a20 0 1>, <0x101 &smmu2 0x1943 0 1>;';
    expect(by_id(kaanapali, 0x100)).toEqual([['smmu2', 0x1940, 0]]);
    expect(by_id(kaanapali, 0x101)).toEqual([['smmu2', 0x1943, 0]]);
    expect(by_id('iommu-map = <0 &smmu1 0x10 8>, <2 &smmu1 0x90 1>;', 2)).toEqual([['smmu1', 0x12, 0]]);
  });

  it('wires nothing for an id no entry covers, without iommu-map, or through a disabled IOMMU', () => {
    expect(by_id(iris, 2)).toEqual([]);
    expect(by_id('compatible = "x";', 0)).toEqual([]);
    expect(by_id('iommu-map = <0 &off 0x35 1>;', 0)).toEqual([]);
  });

  it('ignores the own iommus of the parent', () => {
    expect(by_id(`iommus = <&smmu2 0x1 0x0>; ${iris}`, 1)).toEqual([['smmu2', 0x1947, 3]]);
  });

  it('does u32 arithmetic on the output id, as the C does', () => {
    expect(by_id('iommu-map = <0 &smmu1 0xffffffff 4>;', 2)).toEqual([['smmu1', 1, 0]]);
  });
});
