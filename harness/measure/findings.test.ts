// Review findings and `needs`, read from the kernel's event log of real runs (findings.ts,
// needs.ts): what a variant does decides them, never what it says of itself.
import { describe, expect, it } from 'vitest';
import type { Variant, device } from '../variant.ts';
import { load_scenario } from '../scenario/load.ts';
import { run_scenario } from './run.ts';
import { run_with_needs, with_patches } from './needs.ts';
import { merge_findings, per_driver_cost } from './findings.ts';

const SCN = load_scenario('f.yaml', `scenario: f
summary: two contexts through a 5-cell iommu-map
devicetree: |
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x200 0x0 1>, <1 &smmu 0x201 0x0 1>;
  };
kernel: { patches: [of-map-multi-cell] }
steps:
  - probe: host
  - create_context: { parent: host, name: c0, id: 0 }
  - create_context: { parent: host, name: c1, id: 1 }
  - destroy_context: c1
`);

type K = Parameters<Variant['boot']>[0];

/** Auxiliary devices configured by the driver, optionally released with iommu_group_remove_device(). */
function by_hand(group_remove: boolean): Variant {
  const auxdevs = new Map<device, ReturnType<K['kzalloc_auxiliary_device']>>();
  let n = 0;
  return {
    name: group_remove ? 'aux-remove' : 'aux-hand', summary: 's', series: [], expect: 'works',
    boot() {},
    create_context(k, parent, request) {
      const aux = k.kzalloc_auxiliary_device('ctx', n++, parent);
      aux.dev.release = () => {};
      k.auxiliary_device_init(aux);
      aux.dev.dma_mask = request.dma_mask;
      aux.dev.coherent_dma_mask = request.dma_mask;
      k.auxiliary_device_add(aux, 'test');
      k.of_dma_configure_id(aux.dev, parent.of_node!, true, request.id);
      auxdevs.set(aux.dev, aux);
      return aux.dev;
    },
    destroy_context(k, dev) {
      if (group_remove) k.iommu_group_remove_device(dev);
      k.auxiliary_device_delete(auxdevs.get(dev)!);
      k.auxiliary_device_uninit(auxdevs.get(dev)!);
    },
  };
}

describe('review_findings() (harness/measure/findings.ts)', () => {
  it('driver code calling of_dma_configure_id() on its own devices, devices no driver binds, and a client calling iommu_group_remove_device() are findings, counted per device or call', () => {
    const r = run_scenario(SCN, by_hand(true));
    expect(r.verdict).toBe('pass');
    const kinds = Object.fromEntries(r.findings.map((f) => [f.kind, f.count]));
    expect(kinds).toEqual({ 'of_dma_configure_id-from-driver': 2, 'device-without-driver': 2, 'iommu-driver-api-from-client': 2 });
    // the same design without the exported call: the leak fails it, and that finding is gone
    const leak = run_scenario(SCN, by_hand(false));
    expect(leak.verdict).toBe('fail');
    expect(leak.findings.map((f) => f.kind)).not.toContain('iommu-driver-api-from-client');
  });

  it('merge_findings(): occurrences add up over runs; the design\'s shape (core edits, exports) counts once', () => {
    const merged = merge_findings([
      [{ kind: 'core-edit', message: 'm', count: 1 }, { kind: 'device-without-driver', message: 'd', count: 3 }],
      [{ kind: 'core-edit', message: 'm', count: 1 }, { kind: 'device-without-driver', message: 'd', count: 4 }],
    ]);
    expect(merged).toEqual([{ kind: 'core-edit', message: 'm', count: 1 }, { kind: 'device-without-driver', message: 'd', count: 7 }]);
  });

  it('per_driver_cost(): a bus only one driver used is that driver\'s own, with the core edit that lists it; a shared bus costs nothing more', () => {
    const cost = { bus_types: ['a-bus', 'b-bus'], core_edits: [{ file: 'drivers/iommu/iommu.c', what: 'iommu_buses[] += a-bus (X)', bus: 'a-bus' }, { file: 'drivers/iommu/iommu.c', what: 'iommu_buses[] += b-bus (Y)', bus: 'b-bus' }], exported_symbols: [], loc: 1, per_driver: null };
    const run = (served: Array<{ driver: string; buses: string[] }>) => ({ ...run_scenario(SCN, by_hand(true)), served });
    expect(per_driver_cost(cost, [run([{ driver: 'a', buses: ['a-bus'] }]), run([{ driver: 'b', buses: ['b-bus'] }])])).toEqual({ drivers: ['a', 'b'], buses: 1, core_edits: 1 });
    expect(per_driver_cost(cost, [run([{ driver: 'a', buses: ['a-bus'] }, { driver: 'b', buses: ['a-bus'] }])])).toEqual({ drivers: ['a', 'b'], buses: 0, core_edits: 0 });
  });
});

describe('run_with_needs() (harness/measure/needs.ts)', () => {
  it('a verdict that differs without a series needs it; mainline (no series) needs nothing and fails on the 5-cell map', () => {
    const r = run_with_needs(SCN, by_hand(true), { memory: false });
    expect(r.verdict).toBe('pass');
    expect(r.kernel).toEqual({ flow: '6.15', patches: ['of-map-multi-cell'] });
    expect(r.needs).toEqual(['of-map-multi-cell']);
    const mainline = run_with_needs(with_patches(SCN, []), by_hand(true), { memory: false });
    expect(mainline.verdict).toBe('fail');
    expect(mainline.needs).toEqual([]);
    expect(mainline.failures[0]!.message).toContain('Bad iommu-map length: 40');
  });

  it('a verdict that comes out the same without the series does not need it', () => {
    const r = run_with_needs(SCN, by_hand(false), { memory: false });
    expect(r.verdict).toBe('fail');
    expect(r.needs).toEqual([]);
  });
});
