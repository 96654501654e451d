// Each benchmark measures what its name says, checked through the model's own counters and
// state, never through timing: translate-hot only hits the IOTLB, translate-cold only misses it
// and walks every level, translate-cold-sparse spreads over the IOVA space, dma-map-unmap
// leaves its domain as it found it, context-create-destroy makes and frees a whole context
// each time, and the scaling fixtures hold the live objects they claim.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Scenario, Step } from '../scenario/types.ts';
import type { Variant } from '../variant.ts';
import { load_scenario, load_scenario_file } from '../scenario/load.ts';
import { load_variant } from '../variants.ts';
import { smmu_hw_translate_quiet } from '../kernel/iommu/arm-smmu-hw.ts';
import { iommu_dma_live_iovas } from '../kernel/iommu/dma-iommu.ts';
import { iommu_iova_to_phys } from '../kernel/iommu/iommu.ts';
import { arm_smmu_from_iommu } from '../kernel/iommu/arm-smmu.ts';
import { smmu_of_node } from '../scenario/hardware.ts';
import type { arm_lpae_io_pgtable } from '../kernel/iommu/io-pgtable-arm.ts';
import type { iommu_domain } from '../kernel/iommu/iommu-types.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { wired_streams } from '../scenario/truth.ts';
import { SCALING, scale_op_id } from './bench-tasks.ts';
import {
  BATCH_CONTEXT, BATCH_DMA, BATCH_STEP_CYCLES, BATCH_TRANSLATE, COLD_WINDOW, FixtureError, SPARSE_MAPPINGS, banks_in_use,
  batch_context, batch_dma, batch_flat, batch_translate, cold_fixture, context_fixture,
  dma_fixture, fixture_base, hot_fixture, scale_context_fixture, scale_dma_fixture, scale_step_fixture, sparse_fixture,
  verify_context, verify_dma, verify_steps, verify_walk, type Walk,
} from './bench-fixtures.ts';

const never = (): number => 0;
let scn: Scenario;
let works: Variant;
let fails: Variant;

beforeAll(async () => {
  scn = load_scenario_file('scenarios/iris-sm8550.yaml');
  works = (await load_variant('variants/dma-context-bus')).variant!;
  fails = (await load_variant('variants/auxiliary-bus')).variant!;
});

/** hits and misses of the walk's SMMU across fn() */
function counted(w: Walk, fn: () => void): { hits: number; misses: number } {
  const [h, m] = [w.hw.iotlb_hits, w.hw.iotlb_misses];
  fn();
  return { hits: w.hw.iotlb_hits - h, misses: w.hw.iotlb_misses - m };
}

function pgtable_of(domain: iommu_domain): arm_lpae_io_pgtable {
  return (domain.priv as { pgtbl_ops: arm_lpae_io_pgtable }).pgtbl_ops;
}

describe('translate-hot and flat-lookup', () => {
  it('after the warm-up (verification), a batch hits the IOTLB on every transaction and reaches the right bytes', () => {
    const { walk, flat } = hot_fixture(fixture_base(scn, works));
    expect(verify_walk(walk)).toBeNull();
    expect(counted(walk, () => batch_translate(walk, never))).toEqual({ hits: BATCH_TRANSLATE, misses: 0 });
    expect(counted(walk, () => { expect(verify_walk(walk)).toBeNull(); })).toEqual({ hits: BATCH_TRANSLATE, misses: 0 });
    // the floor walks the same addresses
    expect(flat.iovas).toBe(walk.iovas);
    expect(batch_flat(flat, never).overriddenIterationCost).toBe(0);
  });

  it('a batch reports the per-operation duration and the batch cost (toolchain.md)', () => {
    const { walk } = hot_fixture(fixture_base(scn, works));
    let t = 0;
    const clock = (): number => (t += 2);
    expect(batch_translate(walk, clock)).toEqual({ overriddenDuration: 2 / BATCH_TRANSLATE, overriddenIterationCost: 2 });
  });
});

describe('translate-cold', () => {
  it('every transaction of a batch misses the IOTLB, in every batch, and still reaches its byte', () => {
    const walk = cold_fixture(fixture_base(scn, works));
    expect(counted(walk, () => { expect(verify_walk(walk)).toBeNull(); })).toEqual({ hits: 0, misses: BATCH_TRANSLATE });
    for (let i = 0; i < 3; i++) expect(counted(walk, () => batch_translate(walk, never))).toEqual({ hits: 0, misses: BATCH_TRANSLATE });
  });

  it('each miss walks all four levels down to a level-3 page, over dense mappings', () => {
    const b = fixture_base(scn, works);
    const walk = cold_fixture(b);
    const cb = walk.hw.sid_route[walk.sid]!;
    expect(walk.hw.cb_start_level[cb]).toBe(0);
    const pages = new Set<number>();
    for (const iova of walk.iovas) {
      expect(smmu_hw_translate_quiet(walk.hw, walk.sid, iova, false)).toBeGreaterThan(0);
      expect(walk.hw.walk_level).toBe(3);
      pages.add(Math.floor(iova / 4096));
    }
    // two windows of adjacent pages, one IOTLB size apart
    const sorted = [...pages].sort((x, y) => x - y);
    expect(sorted.length).toBe(2 * COLD_WINDOW);
    expect(sorted[COLD_WINDOW - 1]! - sorted[0]!).toBe(COLD_WINDOW - 1);
    expect(sorted[COLD_WINDOW]! - sorted[0]!).toBe(4096);
  });
});

describe('translate-cold-sparse', () => {
  it('its mappings are scattered over the input range and every transaction misses', () => {
    const walk = sparse_fixture(fixture_base(scn, works));
    expect(verify_walk(walk)).toBeNull();
    const pages = [...new Set([...walk.iovas].map((a) => Math.floor(a / 4096)))];
    expect(pages.length).toBe(SPARSE_MAPPINGS);
    const lo = Math.min(...walk.iovas);
    const hi = Math.max(...walk.iovas);
    expect(hi - lo).toBeGreaterThan(2 ** 46);
    // not a dense run: the median gap between neighbours is far beyond a table's reach (2 MiB)
    const gaps = pages.sort((x, y) => x - y).slice(1).map((p, i) => p - pages[i]!).sort((x, y) => x - y);
    expect(gaps[gaps.length >> 1]! * 4096).toBeGreaterThan(2 ** 30);
    expect(counted(walk, () => batch_translate(walk, never))).toEqual({ hits: 0, misses: BATCH_TRANSLATE });
  });
});

describe('dma-map-unmap', () => {
  it('a batch maps and unmaps 4 KiB buffers and leaves the domain as it found it', () => {
    const f = dma_fixture(fixture_base(scn, works));
    const domain = f.dev.iommu_group!.domain!;
    const pgtbl = pgtable_of(domain);
    const live = iommu_dma_live_iovas(domain);
    expect(verify_dma(f)).toBeNull();
    const tables = pgtbl.live_tables;
    const events = f.k.log.events.length;
    for (let i = 0; i < 3; i++) batch_dma(f, never);
    expect(iommu_dma_live_iovas(domain)).toBe(live);
    expect(pgtbl.live_tables).toBe(tables);
    for (const dma of f.dma) expect(iommu_iova_to_phys(domain, dma)).toBe(0);
    // BATCH_DMA distinct IOVAs, each mapped, then gone
    expect(new Set(f.dma).size).toBe(BATCH_DMA);
    // the log is off while it runs, and on again after
    expect(f.k.log.events.length).toBe(events);
    expect(f.k.log.enabled).toBe(true);
  });
});

/** Stream map entries in use on every SMMU of the kernel. */
function smes_in_use(k: Kernel): number {
  return k.iommu_device_list.reduce((n, i) => n + (arm_smmu_from_iommu(i)?.smrs.filter((s) => s.valid).length ?? 0), 0);
}

describe('context-create-destroy', () => {
  it('each operation makes a device, a group, a DMA domain, a context bank and a stream map entry, and frees them', () => {
    const f = context_fixture(fixture_base(scn, works, true));
    const k = f.st.k;
    expect(verify_context(f)).toBeNull();
    const before = { banks: banks_in_use(k), smes: smes_in_use(k), groups: k.next_group_id, domains: k.next_domain_id, devid: k.next_devid };
    const bus = [...k.buses.values()].find((sp) => sp.bus.name === 'dma-context-bus')!;
    const on_bus = bus.devices.size;
    const tables = arm_smmu_from_iommu(k.iommu_device_list[0]!)!.pool.live_tables;
    batch_context(f, never);
    expect(k.next_group_id - before.groups).toBe(BATCH_CONTEXT);
    expect(k.next_domain_id - before.domains).toBe(BATCH_CONTEXT);
    expect(k.next_devid - before.devid).toBe(BATCH_CONTEXT);
    expect({ banks: banks_in_use(k), smes: smes_in_use(k), on_bus: bus.devices.size }).toEqual({ banks: before.banks, smes: before.smes, on_bus });
    expect(arm_smmu_from_iommu(k.iommu_device_list[0]!)!.pool.live_tables).toBe(tables);
  });

  it('a context that shares its group with the parent is not used: it would make no group, domain or bank', () => {
    // non-pixel shares stream ID 0x1940 with the Iris parent; pixel (0x1947) is alone
    const shared = context_fixture(fixture_base(scn, works));
    expect(verify_context(shared)).toMatch(/made no IOMMU group, domain and context bank of its own/);
    expect(context_fixture(fixture_base(scn, works, true)).request.id).toBe(1);
  });

  it('a variant whose contexts get no IOMMU context cannot be measured', () => {
    expect(() => fixture_base(scn, fails)).toThrow(FixtureError);
  });
});

describe('scaling fixtures', () => {
  const SMALL_SCALE = `scenario: small-scale
summary: a parent with 600 ids over two SMMUs
devicetree: |
  smmu_a: iommu@10000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  smmu_b: iommu@11000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  host1x: host1x@13e00000 {
      compatible = "nvidia,tegra234-host1x";
      iommu-map = <0 &smmu_a 0x0 300>, <300 &smmu_b 0x0 300>;
  };
hardware:
  smmu_a: { context_banks: 512, stream_match_groups: 512 }
  smmu_b: { context_banks: 512, stream_match_groups: 512 }
steps:
  - probe: host1x
  - repeat:
      times: 3
      steps:
        - create_context: { parent: host1x, name: "ctx.{i}", id: "{i}", dma_mask: 40 }
  - dma_map: { context: ctx.0, buffer: buf.0, size: 0x1000 }
  - dma: { context: ctx.0, buffer: buf.0, offset: 0x10, write: true }
  - dma_unmap: { context: ctx.0, buffer: buf.0 }
`;

  it('hold the live context devices and mappings they claim, and the measured operation makes and frees its own', () => {
    const small = load_scenario('small-scale.yaml', SMALL_SCALE);
    const f = scale_context_fixture(small, works, 400, 550);
    const k = f.st.k;
    expect(k.all_groups.filter((g) => !g.freed).length).toBe(400);
    expect(banks_in_use(k)).toBe(400);
    expect(verify_context(f)).toBeNull();
    expect(f.wired).toEqual([expect.objectContaining({ sid: 250 })]);
    const d = scale_dma_fixture(small, works, 1000);
    const domain = d.dev.iommu_group!.domain!;
    expect(iommu_dma_live_iovas(domain)).toBe(1000);
    expect(verify_dma(d)).toBeNull();
    batch_dma(d, never);
    expect(iommu_dma_live_iovas(domain)).toBe(1000);
  });

  it('replay-step: the fixture has replayed the steps it claims, and a batch replays its cycles through the SMMU and leaves the log as it found it', () => {
    const small = load_scenario('small-scale.yaml', SMALL_SCALE);
    const f = scale_step_fixture(small, works, 3000);
    const k = f.st.k;
    expect(f.st.steps_run).toBeGreaterThan(3000 - f.cycle.length);
    expect(f.st.steps_run).toBeLessThanOrEqual(3000);
    expect(f.cycle.map((s) => s.kind)).toEqual(['dma_map', 'dma', 'dma_unmap']);
    // the log was on: every step of the cycle logged its map, IOVA and unmap
    let maps = 0;
    k.log.each(['dma_map'], () => { maps++; });
    expect(maps).toBe((f.st.steps_run - 2) / 3);
    const hw = smmu_of_node(k, f.st.scn.iommus[0]!)!;
    const [log, steps, sent] = [k.log.length, f.st.steps_run, hw.iotlb_hits + hw.iotlb_misses];
    expect(verify_steps(f)).toBeNull();
    // each cycle's dma step sent its transaction through the SMMU model
    expect(hw.iotlb_hits + hw.iotlb_misses - sent).toBe(BATCH_STEP_CYCLES);
    expect([k.log.length, f.st.steps_run]).toEqual([log, steps]);
    expect(f.st.failures).toEqual([]);
  });

  it('refuse an operation id the parent does not map', () => {
    const small = load_scenario('small-scale.yaml', SMALL_SCALE);
    expect(() => scale_context_fixture(small, works, 10, 600)).toThrow(/does not cover id 600/);
  });

  it('scenarios/scale.yaml has room for every context scaling row: ids up to the largest operation id wired, a context bank for each', () => {
    const scale = load_scenario_file('scenarios/scale.yaml');
    const parent = scale.steps.find((s): s is Step & { kind: 'create_context' } => s.kind === 'create_context')!.parent;
    const banks = [...scale.hardware.values()].reduce((n, hw) => n + hw.context_banks, 0);
    for (const row of SCALING.filter((r) => r.name === 'context-create-destroy' || r.name === 'many-contexts')) {
      const op = scale_op_id(row.large);
      expect(wired_streams(scale.dt, parent, { id: op }).length, row.name).toBe(1);
      expect(banks, row.name).toBeGreaterThan(op);
    }
  });
});
