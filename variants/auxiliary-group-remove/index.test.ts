// What the scenarios cannot say about this design: iommu_group_remove_device() from the client
// driver does the whole release iommu_release_device() would have done (drivers/iommu/iommu.c:
// __iommu_group_remove_device() -> iommu_deinit_device() -> arm_smmu_release_device(), which
// frees the stream-map entries), so the next device with the same stream ID gets a group of
// its own; and the call is logged as a client driver's.
import { describe, expect, it } from 'vitest';
import { load_scenario } from '../../harness/scenario/load.ts';
import { replay_boot, replay_step } from '../../harness/scenario/replay.ts';
import variant from './index.ts';

const SCN = load_scenario('sid-reuse.yaml', `scenario: sid-reuse
summary: a context destroyed, the next one on the same stream ID
devicetree: |
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x200 1>;
  };
steps:
  - probe: host
  - create_context: { parent: host, name: first, id: 0 }
  - destroy_context: first
  - create_context: { parent: host, name: next, id: 0 }
`);

function replay() {
  const st = replay_boot(SCN, variant);
  for (const step of SCN.steps) replay_step(st, step);
  const [first, next] = st.created;
  return { st, first: first!.dev, next: next!.dev };
}

describe('auxiliary-group-remove: iommu_group_remove_device() before auxiliary_device_delete()', () => {
  it('iommu_deinit_device(): the destroyed context leaves its group, which is freed, and loses dev->iommu', () => {
    const { first } = replay();
    expect(first.released).toBe(true);
    expect(first.iommu_group).toBeNull();
    expect(first.iommu).toBeNull();
  });

  it('the stream ID is free again: the next context gets a group of its own', () => {
    const { st, first, next } = replay();
    const groups = st.k.log.events.filter((e) => e.type === 'group_alloc');
    expect(groups).toHaveLength(2);
    expect(next.iommu_group).not.toBeNull();
    expect(next.iommu_group!.devices).toEqual([next]);
    expect(st.k.all_groups.filter((g) => g.devices.includes(first))).toEqual([]);
  });

  it('the log names the caller: a client driver, not an IOMMU driver', () => {
    const { st, first } = replay();
    const calls = st.k.log.events.filter((e) => e.type === 'iommu_group_remove_device' && e.devid === first.devid);
    expect(calls).toEqual([expect.objectContaining({ caller: 'client driver' })]);
  });
});
