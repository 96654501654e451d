// What the scenarios show only as teardown leaks, pinned down directly: a context configured by
// hand on the auxiliary bus is never released from the IOMMU (iommu_release_device() is
// reached only from iommu_bus_notifier(), drivers/iommu/iommu.c, for a bus in iommu_buses[]),
// so the next device with its stream ID is matched to the stale stream-map entry by
// arm_smmu_find_sme() and handed the dead device's group by arm_smmu_device_group()
// (drivers/iommu/arm/arm-smmu/arm-smmu.c).
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

describe('auxiliary-by-hand: no IOMMU release at auxiliary_device_delete()', () => {
  it('iommu_probe_device() from of_iommu_configure(): the hand call gives the context a group', () => {
    const { st, next } = replay();
    expect(next.iommu_group).not.toBeNull();
    expect(st.k.log.events.some((e) => e.type === 'iommu_probe_device' && e.devid === next.devid && e.from === 'of_iommu_configure' && e.ret === 0)).toBe(true);
  });

  it('the freed device stays in its group, never reaching iommu_release_device()', () => {
    const { st, first } = replay();
    expect(first.released).toBe(true);
    expect(first.iommu_group).not.toBeNull();
    expect(first.iommu_group!.devices).toContain(first);
    expect(st.k.log.events.some((e) => e.type === 'iommu_release_device' && e.devid === first.devid)).toBe(false);
  });

  it('arm_smmu_find_sme() reuses the held entry: the next context joins the dead one\'s group', () => {
    const { first, next } = replay();
    expect(next.iommu_group).toBe(first.iommu_group);
    expect(next.iommu_group!.devices).toEqual([first, next]);
  });
});
