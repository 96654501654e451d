// What the scenarios do not exercise in host1x_memory_context_list_init()
// (drivers/gpu/host1x/context.c): it makes one context per 4-cell iommu-map entry and
// configures context i with input id i, so a map whose ids have a hole leaves a context with
// no IOMMU; host1x then fails its probe ("Context device N has no IOMMU!", -EINVAL) and
// unregisters the contexts it made before (the unreg_devices label).
import { describe, expect, it } from 'vitest';
import { load_scenario } from '../../harness/scenario/load.ts';
import { replay_boot, replay_step } from '../../harness/scenario/replay.ts';
import variant from './index.ts';

function host1x(map: string) {
  const scn = load_scenario('host1x.yaml', `scenario: host1x
summary: host1x probes
devicetree: |
  smmu: iommu@12000000 {
      compatible = "nvidia,tegra234-smmu", "nvidia,smmu-500";
      #iommu-cells = <1>;
  };
  host1x: host1x@13e00000 {
      compatible = "nvidia,tegra234-host1x";
      iommu-map = ${map};
  };
steps:
  - probe: host1x
`);
  const st = replay_boot(scn, variant);
  for (const step of scn.steps) replay_step(st, step);
  const contexts = st.k.all_devices.filter((d) => d.bus?.name === 'host1x-context');
  const errors = st.k.log.events.flatMap((e) => (e.type === 'printk' && e.level === 'err' ? [e.message] : []));
  return { st, contexts, errors };
}

describe('host1x-context-bus: host1x_memory_context_list_init() at probe', () => {
  it('one context per 4-cell entry, named host1x-ctx.<i>, 38-bit mask, each in an IOMMU group', () => {
    const { st, contexts } = host1x('<0 &smmu 0x35 1>, <1 &smmu 0x36 1>, <2 &smmu 0x37 1>');
    expect(st.failures).toEqual([]);
    expect(contexts.map((d) => d.name)).toEqual(['host1x-ctx.0', 'host1x-ctx.1', 'host1x-ctx.2']);
    for (const d of contexts) {
      expect(d.dma_mask).toBe((1n << 38n) - 1n);
      expect(d.iommu_group).not.toBeNull();
    }
  });

  it('a hole in the map ids: context 2 is configured with id 2, gets no IOMMU, and the probe fails', () => {
    const { st, contexts, errors } = host1x('<0 &smmu 0x35 1>, <1 &smmu 0x36 1>, <8 &smmu 0x3d 1>');
    expect(errors).toContain('Context device 2 has no IOMMU!');
    expect(st.failures.map((f) => f.message)).toContainEqual(expect.stringContaining('probe: expected ok, got error'));
    // unreg_devices: every context made, the failing one included, is unregistered
    expect(contexts).toHaveLength(3);
    for (const d of contexts) {
      expect(d.p?.on_bus ?? false).toBe(false);
      expect(d.iommu_group).toBeNull();
    }
  });
});
