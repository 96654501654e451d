// Pins down drivers/iommu/iommu.c and drivers/iommu/of_iommu.c as modelled in iommu.ts and
// of_iommu.ts: iommu_buses[] and iommu_bus_notifier, iommu_probe_device / iommu_init_device
// (the 6.15 flow that calls the bus's dma_configure, and the 6.8 flow that does not),
// iommu_release_device, bus_iommu_probe on IOMMU registration, iommu_fwspec_init's deferral,
// the replay probe in of_iommu_configure, groups shared through arm-smmu's device_group, and
// what the exported-symbol table leaves out. kernel-model.md section 2 and 3.2.
import { describe, expect, it } from 'vitest';
import type { bus_type, device } from '../base/device.ts';
import type { Kernel, KernelFlow } from '../kernel.ts';
import { ENODEV, EPROBE_DEFER, ETIMEDOUT } from '../errno.ts';
import { bus_register, bus_register_notifier, driver_register } from '../base/bus.ts';
import { device_add, device_del } from '../base/core.ts';
import { of_platform_device_create, of_platform_device_destroy } from '../base/platform.ts';
import { of_dma_configure, of_dma_configure_id } from '../of/device.ts';
import { kernel_symbols } from '../exports.ts';
import { arm_smmu_from_iommu, arm_smmu_leaks } from './arm-smmu.ts';
import { iommu_buses_add, iommu_from_fwnode } from './iommu.ts';
import { boot_dts, events_of, events_typed, node, pdev_of, test_bus, test_device, test_driver, trace, warnings } from '../test-helpers.ts';

const DTS = `
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  host: host@b000000 {
      compatible = "test,host";
      /* input id 0 -> SID 0x200, 1 -> SID 0x201 */
      iommu-map = <0 &smmu 0x200 0x0 1>, <1 &smmu 0x201 0x0 1>;
      ctx0: ctx@0 { iommus = <&smmu 0x300 0x0>; };
      ctx1: ctx@1 { iommus = <&smmu 0x301 0x0>; };
      ctx2: ctx@2 { iommus = <&smmu 0x300 0x0>; };
  };
  client: client@a000000 {
      compatible = "test,client";
      iommus = <&smmu 0x100 0x0>;
  };`;

interface Buses {
  /** in iommu_buses[], .dma_configure = of_dma_configure(own node) */
  listed: bus_type;
  /** in iommu_buses[], no .dma_configure (the host1x context bus) */
  bare: bus_type;
  /** not in iommu_buses[], with .dma_configure */
  unlisted: bus_type;
}

interface Bench { k: Kernel; buses: Buses }

function bench(opts: { flow?: KernelFlow; late?: boolean; client_driver?: boolean } = {}): Bench {
  let buses: Buses | null = null;
  const k = boot_dts(DTS, {
    flow: opts.flow ?? '6.15',
    patches: ['of-map-multi-cell'],
    late_iommus: opts.late ? ['smmu'] : [],
    postcore_initcall: (kk) => {
      const cfg = (dev: device) => (dev.of_node ? of_dma_configure(kk, dev, dev.of_node, true) : 0);
      buses = {
        listed: test_bus('ctx-listed', { dma_configure: cfg }),
        bare: test_bus('ctx-bare'),
        unlisted: test_bus('ctx-unlisted', { dma_configure: cfg }),
      };
      for (const bus of Object.values(buses)) expect(bus_register(kk, bus)).toBe(0);
      iommu_buses_add(kk, buses.listed, 'test');
      iommu_buses_add(kk, buses.bare, 'test');
      if (opts.client_driver) {
        driver_register(kk, test_driver('test-client', kk.platform_bus_type, { of_match_table: ['test,client'], probe: () => 0 }));
      }
    },
  });
  return { k, buses: buses! };
}

function ctx_device(b: Bench, name: string, bus: bus_type, np: string | null): device {
  return test_device(b.k, { name, bus, of_node: np ? node(b.k, np) : null, parent: pdev_of(b.k, 'host') });
}

/** printk at err/warn level and WARN()s about one device */
function noise(k: Kernel, dev: device, from: number): string[] {
  return k.log.events.slice(from).flatMap((e) => {
    if (e.type === 'warn' && e.dev === dev.name) return [`WARN ${e.message}`];
    if (e.type === 'printk' && e.dev === dev.name && (e.level === 'err' || e.level === 'warn')) return [`${e.level} ${e.message}`];
    return [];
  });
}

describe('iommu_bus_notifier() (drivers/iommu/iommu.c)', () => {
  it('iommu_probe_device() from iommu_bus_notifier at ADD_DEVICE: iommu_init_device() calls the bus dma_configure for a driverless device (6.15), which builds the fwspec; then group and DMA domain (drivers/iommu/iommu.c, bcb81ac6ae3c)', () => {
    const b = bench();
    const dev = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    const from = b.k.log.events.length;
    expect(device_add(b.k, dev)).toBe(0);
    expect(trace(b.k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'dma_configure', 'iommu_probe_device']);
    expect(events_typed(b.k, 'dma_configure', from)[0]).toMatchObject({ devid: dev.devid, bound: false, ret: 0 });
    expect(events_typed(b.k, 'of_dma_configure_id', from)[0]).toMatchObject({ devid: dev.devid, caller: 'bus dma_configure', id: null, ret: 0 });
    expect(events_typed(b.k, 'iommu_probe_device', from)[0]).toMatchObject({ devid: dev.devid, ret: 0, from: 'iommu_bus_notifier' });
    // NOTIFY_OK
    expect(events_typed(b.k, 'notifier_call', from)[0]).toMatchObject({ notifier: 'iommu_bus_notifier', event: 'BUS_NOTIFY_ADD_DEVICE', ret: 1 });
    expect(dev.iommu?.fwspec?.iommu_fwnode).toBe(node(b.k, 'smmu'));
    expect(dev.iommu?.fwspec?.ids).toEqual([0x300]);
    expect(dev.iommu_group?.devices).toEqual([dev]);
    expect(dev.iommu_group?.domain?.type).toBe('IOMMU_DOMAIN_DMA');
    expect(dev.iommu_group?.default_domain).toBe(dev.iommu_group?.domain);
    expect(dev.dma_ops).toBe('iommu');
    expect(dev.driver).toBeNull();
  });

  it('iommu_release_device() from iommu_bus_notifier at REMOVED_DEVICE, not DEL_DEVICE: group and DMA domain freed, dev->iommu and its fwspec gone (drivers/iommu/iommu.c, drivers/base/core.c)', () => {
    const b = bench();
    const smmu = arm_smmu_from_iommu(iommu_from_fwnode(b.k, node(b.k, 'smmu'))!)!;
    // what the boot-time client (SID 0x100) holds
    const held_before = arm_smmu_leaks(smmu);
    const dev = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    device_add(b.k, dev);
    expect(arm_smmu_leaks(smmu).length).toBeGreaterThan(held_before.length);
    const group = dev.iommu_group!;
    const domain = group.domain!;
    // a notifier registered after the IOMMU core's runs after it on the chain
    const seen: Array<[string, boolean]> = [];
    bus_register_notifier(b.k, b.buses.listed, { name: 'spy', notifier_call: (_k, event, d) => { seen.push([event, d.iommu_group !== null]); return 0; } });
    const from = b.k.log.events.length;
    device_del(b.k, dev);
    expect(seen).toEqual([['BUS_NOTIFY_DEL_DEVICE', true], ['BUS_NOTIFY_REMOVED_DEVICE', false]]);
    expect(trace(b.k, dev, from)).toEqual(['device_del', 'DEL_DEVICE', 'REMOVED_DEVICE', 'iommu_release_device']);
    const types = b.k.log.events.slice(from).map((e) => e.type);
    expect(types).toContain('group_free');
    expect(types).toContain('domain_free');
    expect(types).toContain('sme_free');
    expect(group.freed).toBe(true);
    expect(domain.freed).toBe(true);
    expect(dev.iommu).toBeNull();
    expect(dev.iommu_group).toBeNull();
    expect(dev.dma_ops).toBe('direct');
    // its stream-map entry, context bank and page tables are all given back
    expect(arm_smmu_leaks(smmu)).toEqual(held_before);
  });

  it('iommu_subsys_init(): a bus not in iommu_buses[] has no IOMMU notifier, so its devices get nothing at add or remove, even with a dma_configure (drivers/iommu/iommu.c)', () => {
    const b = bench();
    const dev = ctx_device(b, 'ctx0', b.buses.unlisted, 'ctx0');
    const from = b.k.log.events.length;
    device_add(b.k, dev);
    device_del(b.k, dev);
    expect(events_typed(b.k, 'bus_notify', from).every((e) => e.notifiers.length === 0)).toBe(true);
    expect(events_typed(b.k, 'notifier_call', from)).toEqual([]);
    expect(trace(b.k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'device_del', 'DEL_DEVICE', 'REMOVED_DEVICE']);
    expect(dev.iommu).toBeNull();
    expect(dev.iommu_group).toBeNull();
  });

  it('iommu_init_device(): on a listed bus without dma_configure a device with no fwspec fails with -ENODEV quietly (NOTIFY_DONE, no error printed) (drivers/iommu/iommu.c)', () => {
    const b = bench();
    const dev = ctx_device(b, 'host1x-ctx.0', b.buses.bare, null);
    const from = b.k.log.events.length;
    device_add(b.k, dev);
    expect(trace(b.k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'iommu_probe_device']);
    expect(events_typed(b.k, 'iommu_probe_device', from)[0]).toMatchObject({ ret: -ENODEV, from: 'iommu_bus_notifier' });
    expect(events_typed(b.k, 'notifier_call', from)[0]).toMatchObject({ notifier: 'iommu_bus_notifier', ret: 0 });
    expect(noise(b.k, dev, from)).toEqual([]);
    expect(dev.iommu).toBeNull();
    expect(dev.iommu_group).toBeNull();
  });
});

describe('of_iommu_configure() replay (drivers/iommu/of_iommu.c)', () => {
  it('of_iommu_configure(): driver code calling of_dma_configure_id() on a device not on the probe path makes it call iommu_probe_device() itself (the host1x pattern); the log names the caller "driver code" (drivers/iommu/of_iommu.c, drivers/of/device.c)', () => {
    const b = bench();
    const dev = ctx_device(b, 'host1x-ctx.1', b.buses.bare, null);
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 1)).toBe(0);
    expect(events_typed(b.k, 'of_dma_configure_id', from)[0]).toMatchObject({ devid: dev.devid, np: '/host@b000000', id: 1, ret: 0, caller: 'driver code' });
    expect(events_typed(b.k, 'iommu_probe_device', from)[0]).toMatchObject({ devid: dev.devid, ret: 0, from: 'of_iommu_configure' });
    expect(dev.iommu?.fwspec?.ids).toEqual([0x201]);
    expect(dev.iommu_group?.domain?.type).toBe('IOMMU_DOMAIN_DMA');
    expect(dev.dma_ops).toBe('iommu');
    // idempotent once the fwspec exists
    expect(of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 1)).toBe(0);
    expect(events_typed(b.k, 'iommu_probe_device', from)).toHaveLength(1);
    // and, the bus being listed, REMOVED_DEVICE releases it
    const group = dev.iommu_group!;
    device_del(b.k, dev);
    expect(group.freed).toBe(true);
    expect(dev.iommu).toBeNull();
    expect(warnings(b.k)).toEqual([]);
  });

  it('of_iommu_configure(): the replay probes a device on any bus (it only checks dev->bus), but only a bus in iommu_buses[] releases it at device_del: elsewhere the group outlives the device (drivers/iommu/of_iommu.c, drivers/iommu/iommu.c)', () => {
    const b = bench();
    const bare_unlisted = test_bus('ctx-elsewhere');
    bus_register(b.k, bare_unlisted);
    const dev = ctx_device(b, 'ctx-x', bare_unlisted, null);
    device_add(b.k, dev);
    expect(of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 0)).toBe(0);
    const group = dev.iommu_group;
    expect(group).not.toBeNull();
    const from = b.k.log.events.length;
    device_del(b.k, dev);
    expect(events_typed(b.k, 'iommu_release_device', from)).toEqual([]);
    expect(dev.iommu_group).toBe(group);
    expect(group!.freed).toBe(false);
  });

  it('__iommu_probe_device(): a replay for a device that already has a driver WARNs "late IOMMU probe at driver bind" in the 6.15 flow only (drivers/iommu/iommu.c, bcb81ac6ae3c)', () => {
    for (const flow of ['6.15', '6.8'] as const) {
      const b = bench({ flow });
      // a driver on the bare listed bus that configures its own device's DMA from its probe
      driver_register(b.k, test_driver('selfcfg', b.buses.bare, {
        probe: (dev) => of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 0),
      }));
      const dev = ctx_device(b, 'selfcfg0', b.buses.bare, null);
      const from = b.k.log.events.length;
      device_add(b.k, dev);
      expect(dev.driver?.name).toBe('selfcfg');
      expect(dev.iommu_group).not.toBeNull();
      expect(warnings(b.k, from)).toEqual(flow === '6.15' ? ['late IOMMU probe at driver bind, something fishy here!'] : []);
    }
  });
});

describe('bus_iommu_probe() and iommu_fwspec_init() (drivers/iommu/iommu.c)', () => {
  it('bus_iommu_probe(): an IOMMU registered after a device was added probes it then, on buses in iommu_buses[] only (drivers/iommu/iommu.c iommu_device_register)', () => {
    const b = bench({ late: true });
    const listed = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    const unlisted = ctx_device(b, 'ctx1', b.buses.unlisted, 'ctx1');
    let from = b.k.log.events.length;
    device_add(b.k, listed);
    device_add(b.k, unlisted);
    // at ADD_DEVICE the IOMMU is absent: fwspec_init defers inside dma_configure, the probe is -ENODEV
    expect(events_typed(b.k, 'fwspec_init', from).filter((e) => e.devid === listed.devid).map((e) => e.ret)).toEqual([-EPROBE_DEFER]);
    expect(events_typed(b.k, 'iommu_probe_device', from).map((e) => [e.devid, e.ret])).toEqual([[listed.devid, -ENODEV]]);
    expect(listed.iommu).toBeNull();
    from = b.k.log.events.length;
    const smmu = of_platform_device_create(b.k, node(b.k, 'smmu'), null);
    expect(smmu?.dev.driver?.name).toBe('arm-smmu');
    expect(events_typed(b.k, 'iommu_probe_device', from).filter((e) => e.devid === listed.devid)).toMatchObject([{ ret: 0, from: 'bus_iommu_probe' }]);
    expect(listed.iommu_group?.domain?.type).toBe('IOMMU_DOMAIN_DMA');
    expect(events_of(b.k, unlisted, from)).toEqual([]);
    expect(unlisted.iommu_group).toBeNull();
    expect(iommu_from_fwnode(b.k, node(b.k, 'smmu'))?.ready).toBe(true);
  });

  it('bus_iommu_probe(): devices found at registration get their default domain after the walk, one per group (drivers/iommu/iommu.c)', () => {
    const b = bench({ late: true });
    const a = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    const c = ctx_device(b, 'ctx2', b.buses.listed, 'ctx2');
    device_add(b.k, a);
    device_add(b.k, c);
    const from = b.k.log.events.length;
    of_platform_device_create(b.k, node(b.k, 'smmu'), null);
    expect(a.iommu_group).not.toBeNull();
    expect(c.iommu_group).toBe(a.iommu_group);
    const allocs = events_typed(b.k, 'domain_alloc', from).filter((e) => e.group === a.iommu_group!.id);
    expect(allocs).toHaveLength(1);
    const last_probe = b.k.log.events.findIndex((e, i) => i >= from && e.type === 'iommu_probe_device' && e.devid === c.devid);
    const alloc_at = b.k.log.events.findIndex((e, i) => i >= from && e.type === 'domain_alloc' && e.group === a.iommu_group!.id);
    expect(alloc_at).toBeGreaterThan(last_probe);
  });

  it('iommu_fwspec_init(): while the IOMMU is not registered it answers driver_deferred_probe_check_state(): -EPROBE_DEFER, and of_dma_configure_id() passes it up (drivers/iommu/iommu.c, drivers/of/device.c)', () => {
    const b = bench({ late: true });
    const dev = ctx_device(b, 'host1x-ctx.0', b.buses.bare, null);
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 0)).toBe(-EPROBE_DEFER);
    expect(events_typed(b.k, 'fwspec_init', from)).toMatchObject([{ devid: dev.devid, iommu: '/iommu@15000000', ret: -EPROBE_DEFER }]);
    expect(events_typed(b.k, 'iommu_probe_device', from)).toEqual([]);
    expect(dev.iommu).toBeNull();
  });

  it('iommu_fwspec_init(): once the deferred-probe timeout has expired it answers -ETIMEDOUT and of_dma_configure_id() carries on without an IOMMU (drivers/iommu/iommu.c, drivers/base/dd.c, drivers/of/device.c)', () => {
    const b = bench({ late: true });
    b.k.driver_deferred_probe_timeout = 0;
    const dev = ctx_device(b, 'host1x-ctx.0', b.buses.bare, null);
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(of_dma_configure_id(b.k, dev, node(b.k, 'host'), true, 0)).toBe(0);
    expect(events_typed(b.k, 'fwspec_init', from)[0]?.ret).toBe(-ETIMEDOUT);
    expect(dev.iommu).toBeNull();
    expect(dev.dma_ops).toBe('direct');
  });

  it('iommu_fwspec_init(): a registered IOMMU that is not yet ready defers a device off the probe path, but not one inside iommu_probe_device (dev->iommu set) (drivers/iommu/iommu.c, da33e87bd2bf)', () => {
    const b = bench();
    const iommu = iommu_from_fwnode(b.k, node(b.k, 'smmu'))!;
    iommu.ready = false; // as during iommu_device_register()'s bus_iommu_probe walk
    const outside = ctx_device(b, 'host1x-ctx.0', b.buses.bare, null);
    device_add(b.k, outside);
    expect(of_dma_configure_id(b.k, outside, node(b.k, 'host'), true, 0)).toBe(-EPROBE_DEFER);
    expect(outside.iommu).toBeNull();
    const inside = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    device_add(b.k, inside);
    expect(inside.iommu_group).not.toBeNull();
    iommu.ready = true;
  });
});

describe('groups (drivers/iommu/arm/arm-smmu/arm-smmu.c device_group, drivers/iommu/iommu.c)', () => {
  it('arm_smmu_device_group(): two devices presenting the same SMR share its stream-map entry and so one IOMMU group and its domain; the group goes with the last device (drivers/iommu/arm/arm-smmu/arm-smmu.c, drivers/iommu/iommu.c)', () => {
    const b = bench();
    const a = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    const c = ctx_device(b, 'ctx2', b.buses.listed, 'ctx2');
    const from = b.k.log.events.length;
    device_add(b.k, a);
    device_add(b.k, c);
    expect(c.iommu_group).toBe(a.iommu_group);
    expect(a.iommu_group!.devices).toEqual([a, c]);
    expect(events_typed(b.k, 'group_alloc', from)).toHaveLength(1);
    expect(events_typed(b.k, 'domain_alloc', from)).toHaveLength(1);
    expect(events_typed(b.k, 'sme_alloc', from).map((e) => [e.sid, e.reused])).toEqual([[0x300, false], [0x300, true]]);
    // c joined a group that already had a domain: attached to it directly
    expect(events_typed(b.k, 'domain_attach', from).map((e) => [e.devid, e.domain])).toEqual([
      [a.devid, a.iommu_group!.domain!.id], [c.devid, a.iommu_group!.domain!.id],
    ]);
    const group = a.iommu_group!;
    device_del(b.k, a);
    expect(group.freed).toBe(false);
    expect(group.devices).toEqual([c]);
    device_del(b.k, c);
    expect(group.freed).toBe(true);
    expect(group.default_domain).toBeNull();
  });

  it('platform_dma_configure() / platform_dma_cleanup(): the default domain is claimed (iommu_device_use_default_domain) only with a driver bound, and released at unbind (drivers/base/platform.c, drivers/iommu/iommu.c)', () => {
    const b = bench({ client_driver: true });
    const client = pdev_of(b.k, 'client');
    expect(client.driver?.name).toBe('test-client');
    const group = client.iommu_group!;
    expect(group.owner_cnt).toBe(1);
    // the driverless dma_configure of iommu_init_device claimed nothing
    const host = pdev_of(b.k, 'host');
    expect(host.driver).toBeNull();
    of_platform_device_destroy(b.k, node(b.k, 'client'));
    expect(group.owner_cnt).toBe(0);
    expect(group.freed).toBe(true);
    expect(warnings(b.k)).toEqual([]);
  });
});

describe('flows (kernel-model.md "Choices")', () => {
  it('iommu_init_device(): in the 6.8 flow the core never calls dma_configure, so a driverless device on a listed bus gets no IOMMU at ADD_DEVICE (drivers/iommu/iommu.c before bcb81ac6ae3c)', () => {
    const b = bench({ flow: '6.8' });
    const dev = ctx_device(b, 'ctx0', b.buses.listed, 'ctx0');
    const from = b.k.log.events.length;
    device_add(b.k, dev);
    expect(trace(b.k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'iommu_probe_device']);
    expect(events_typed(b.k, 'iommu_probe_device', from)[0]?.ret).toBe(-ENODEV);
    expect(dev.iommu_group).toBeNull();
    // nowhere in the boot did the core call a dma_configure without a driver
    expect(events_typed(b.k, 'dma_configure').filter((e) => !e.bound)).toEqual([]);
  });

  it('of_iommu_configure(): in the 6.8 flow a platform driver\'s bind probes the device from dma_configure, with no WARN; in 6.15 bus_iommu_probe did it before the bind (drivers/iommu/of_iommu.c, drivers/iommu/iommu.c)', () => {
    const froms: Record<string, string[]> = {};
    for (const flow of ['6.8', '6.15'] as const) {
      const b = bench({ flow, client_driver: true });
      const client = pdev_of(b.k, 'client');
      expect(client.driver?.name).toBe('test-client');
      expect(client.iommu_group?.domain?.type).toBe('IOMMU_DOMAIN_DMA');
      froms[flow] = events_of(b.k, client).flatMap((e) => (e.type === 'iommu_probe_device' && e.ret === 0 ? [e.from] : []));
      expect(warnings(b.k)).toEqual([]);
    }
    expect(froms['6.8']).toEqual(['of_iommu_configure']);
    expect(froms['6.15']).toEqual(['bus_iommu_probe']);
  });
});

describe('exported symbols (include/linux/iommu.h, drivers/iommu/iommu.c)', () => {
  it('kernel_symbols(): iommu_probe_device, iommu_release_device and bus_iommu_probe are not exported to modules; of_dma_configure_id and device_iommu_mapped are (drivers/iommu/iommu.c, drivers/of/device.c)', () => {
    const b = bench();
    const syms = Object.keys(kernel_symbols(b.k));
    for (const hidden of ['iommu_probe_device', 'iommu_release_device', 'bus_iommu_probe', '__iommu_probe_device', 'iommu_bus_notifier']) {
      expect(syms).not.toContain(hidden);
    }
    for (const visible of ['of_dma_configure_id', 'of_dma_configure', 'device_iommu_mapped', 'dev_iommu_fwspec_get', 'iommu_get_domain_for_dev']) {
      expect(syms).toContain(visible);
    }
  });
});
