// Pins down the IOMMU core's failure and release paths the 2026 designs meet:
// iommu_setup_default_domain()'s first-attach WARN and the unwind through iommu_deinit_device(),
// iommu_device_register() undoing a failed bus_iommu_probe() with iommu_device_unregister(),
// iommu_fwspec_init() comparing ops, the exported iommu_group_remove_device(), arm-smmu's
// stream-map reuse by a device that comes after a leak (drivers/iommu/iommu.c,
// drivers/iommu/arm/arm-smmu/arm-smmu.c), and of_dma_configure_id()'s force_dma, dma-ranges and
// mask clamping (drivers/of/device.c, drivers/of/address.c).
import { describe, expect, it } from 'vitest';
import type { bus_type, device } from '../base/device.ts';
import type { Kernel } from '../kernel.ts';
import { ENOSPC } from '../errno.ts';
import { bus_register } from '../base/bus.ts';
import { device_add, device_del } from '../base/core.ts';
import { of_platform_device_create } from '../base/platform.ts';
import { of_dma_configure_id } from '../of/device.ts';
import { kernel_symbols } from '../exports.ts';
import { arm_smmu_from_iommu, arm_smmu_leaks } from './arm-smmu.ts';
import { iommu_from_fwnode } from './iommu.ts';
import { boot_dts, events_typed, node, pdev_of, test_bus, test_device, warnings } from '../test-helpers.ts';

const ONE_BANK = { context_banks: 1, stream_match_groups: 8, va_bits: 48 };

const TWO_CLIENTS = `
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  a: client@a000000 { compatible = "test,a"; iommus = <&smmu 0x100>; };
  b: client@b000000 { compatible = "test,b"; iommus = <&smmu 0x200>; };`;

/** The same two clients with no compatible: nothing populates them at boot, so a test adds
 *  them after the SMMU registered (the notifier path, not bus_iommu_probe). */
const TWO_LATE_CLIENTS = TWO_CLIENTS.replaceAll(/compatible = "test,[ab]"; /g, '');

function add_client(k: Kernel, ref: string): device {
  return of_platform_device_create(k, node(k, ref), null)!.dev;
}

function smmu_leaks(k: Kernel): string[] {
  return arm_smmu_leaks(arm_smmu_from_iommu(iommu_from_fwnode(k, node(k, 'smmu'))!)!);
}

describe('iommu_setup_default_domain() when the first attach fails (drivers/iommu/iommu.c)', () => {
  it('__iommu_probe_device(): no free context bank fails the first attach; the core WARNs in iommu_setup_default_domain and iommu_deinit_device() leaves the device with no group, no dev->iommu and no stream-map entry (drivers/iommu/iommu.c, arm-smmu.c)', () => {
    const k = boot_dts(TWO_LATE_CLIENTS, { smmu_hw: new Map([['/iommu@15000000', ONE_BANK]]) });
    const a = add_client(k, 'a');
    expect(warnings(k)).toEqual([]);
    const b = add_client(k, 'b');
    expect(a.iommu_group?.domain?.type).toBe('IOMMU_DOMAIN_DMA');
    expect(warnings(k).filter((w) => w.startsWith('iommu_setup_default_domain'))).toHaveLength(1);
    expect(events_typed(k, 'domain_attach').find((e) => e.devid === b.devid)?.ret).toBe(-ENOSPC);
    expect(b.iommu_group).toBeNull();
    expect(b.iommu).toBeNull();
    expect(b.dma_ops).toBe('direct');
    // only a's SMR, bank and page table are left; b's group and domain were freed on the way out
    expect(smmu_leaks(k)).toEqual([expect.stringContaining('SMR 0 (id 0x100'), expect.stringContaining('context bank 0'), expect.stringContaining('1 page-table page')]);
    expect(k.all_groups.filter((g) => !g.freed)).toEqual([a.iommu_group]);
    expect(k.all_domains.filter((d) => !d.freed)).toEqual([a.iommu_group!.domain]);
  });
});

describe('iommu_device_register() when bus_iommu_probe() fails (drivers/iommu/iommu.c)', () => {
  it('iommu_device_register(): an error other than -ENODEV from bus_iommu_probe() fails the registration, and iommu_device_unregister() releases every device already probed', () => {
    const k = boot_dts(TWO_CLIENTS, { smmu_hw: new Map([['/iommu@15000000', ONE_BANK]]), late_iommus: ['smmu'] });
    const a = pdev_of(k, 'a');
    const b = pdev_of(k, 'b');
    const from = k.log.events.length;
    of_platform_device_create(k, node(k, 'smmu'), null);
    expect(events_typed(k, 'iommu_device_unregister', from)).toHaveLength(1);
    expect(k.iommu_device_list).toEqual([]);
    for (const dev of [a, b]) {
      expect(dev.iommu_group).toBeNull();
      expect(dev.iommu).toBeNull();
    }
    expect(events_typed(k, 'iommu_release_device', from).map((e) => e.devid)).toContain(a.devid);
    expect(k.all_groups.every((g) => g.freed)).toBe(true);
  });
});

describe('iommu_fwspec_init() (drivers/iommu/iommu.c)', () => {
  it('iommu_fwspec_init(): a second IOMMU instance with the same ops is accepted (the C compares ops, not fwnodes), so its IDs join the first fwspec', () => {
    const k = boot_dts(`
      smmu: iommu@15000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };
      smmu2: iommu@16000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };
      both: client@a000000 { iommus = <&smmu 0x100>, <&smmu2 0x200>; };`);
    const dev = add_client(k, 'both');
    expect(events_typed(k, 'fwspec_init').filter((e) => e.devid === dev.devid).map((e) => e.ret)).toEqual([0, 0]);
    expect(dev.iommu?.fwspec?.iommu_fwnode).toBe(node(k, 'smmu'));
    expect(dev.iommu?.fwspec?.ids).toEqual([0x100, 0x200]);
  });
});

const CTX_DTS = `
  smmu: iommu@15000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x400 1>;
  };`;

/** A device on a bus outside iommu_buses[], configured by hand from "driver code". */
function hand_configured(k: Kernel, bus: bus_type, name: string): device {
  const dev = test_device(k, { name, bus, parent: pdev_of(k, 'host') });
  expect(device_add(k, dev)).toBe(0);
  expect(of_dma_configure_id(k, dev, node(k, 'host'), true, 0)).toBe(0);
  return dev;
}

describe('iommu_group_remove_device() and stream-map reuse (drivers/iommu/iommu.c, arm-smmu.c)', () => {
  it('iommu_group_remove_device(): exported to modules, it releases a device no notifier will (out of its group, release_device, dev->iommu freed), prints "Removing from iommu group", and the log names the client driver as caller', () => {
    let bus: bus_type | null = null;
    const k = boot_dts(CTX_DTS, { postcore_initcall: (kk) => { bus = test_bus('aux-like'); bus_register(kk, bus); } });
    const dev = hand_configured(k, bus!, 'ctx0');
    const group = dev.iommu_group!;
    expect(group).not.toBeNull();
    const from = k.log.events.length;
    kernel_symbols(k).iommu_group_remove_device(dev);
    expect(dev.iommu_group).toBeNull();
    expect(dev.iommu).toBeNull();
    expect(group.freed).toBe(true);
    expect(events_typed(k, 'iommu_group_remove_device', from)).toEqual([expect.objectContaining({ devid: dev.devid, group: group.id, caller: 'client driver' })]);
    expect(events_typed(k, 'printk', from).some((e) => e.message === `Removing from iommu group ${group.id}`)).toBe(true);
    expect(smmu_leaks(k)).toEqual([]);
  });

  it('arm_smmu_find_sme() / arm_smmu_device_group(): a stream ID still held by a leaked device is reused, and the next device with it joins the stale group', () => {
    let bus: bus_type | null = null;
    const k = boot_dts(CTX_DTS, { postcore_initcall: (kk) => { bus = test_bus('aux-like'); bus_register(kk, bus); } });
    const first = hand_configured(k, bus!, 'ctx0');
    const stale = first.iommu_group!;
    device_del(k, first);
    // no notifier on this bus: the deleted device keeps its group and its stream-map entry
    expect(first.iommu_group).toBe(stale);
    const next = hand_configured(k, bus!, 'ctx1');
    expect(next.iommu_group).toBe(stale);
    expect(stale.devices).toEqual([first, next]);
    expect(events_typed(k, 'sme_alloc').filter((e) => e.sid === 0x400).map((e) => e.reused)).toEqual([false, true]);
  });
});

describe('of_dma_configure_id(): force_dma, dma-ranges and the masks (drivers/of/device.c)', () => {
  const DMA_DTS = `
    smmu: iommu@15000000 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        dma-ranges = <0x0 0x0 0x40000000>;
        host: host@b000000 {
            compatible = "test,host";
            iommu-map = <0 &smmu 0x400 1>;
        };
    };
    plain: plain@c000000 { compatible = "test,plain"; iommu-map = <0 &smmu 0x500 1>; };`;

  it('of_dma_configure_id(): without dma-ranges and without force_dma the device is left alone (0, no IOMMU)', () => {
    let bus: bus_type | null = null;
    const k = boot_dts(DMA_DTS, { postcore_initcall: (kk) => { bus = test_bus('ctx'); bus_register(kk, bus); } });
    const dev = test_device(k, { name: 'c', bus: bus!, parent: pdev_of(k, 'plain') });
    device_add(k, dev);
    expect(of_dma_configure_id(k, dev, node(k, 'plain'), false, 0)).toBe(0);
    expect(dev.iommu).toBeNull();
    expect(dev.iommu_group).toBeNull();
  });

  it('of_dma_configure_id(): dma-ranges above the node set bus_dma_limit and clamp both masks to the window; without them the default masks fall to 32 bits only when unset', () => {
    let bus: bus_type | null = null;
    const k = boot_dts(DMA_DTS, { postcore_initcall: (kk) => { bus = test_bus('ctx'); bus_register(kk, bus); } });
    const dev = test_device(k, { name: 'c', bus: bus!, parent: pdev_of(k, 'host'), dma_bits: 40 });
    device_add(k, dev);
    expect(of_dma_configure_id(k, dev, node(k, 'host'), true, 0)).toBe(0);
    expect(dev.bus_dma_limit).toBe(0x3fff_ffffn);
    expect(dev.dma_mask).toBe(0x3fff_ffffn);
    expect(dev.coherent_dma_mask).toBe(0x3fff_ffffn);
    expect(dev.iommu_group).not.toBeNull();
    const bare = test_device(k, { name: 'd', bus: bus!, parent: pdev_of(k, 'plain'), dma_bits: null });
    device_add(k, bare);
    expect(of_dma_configure_id(k, bare, node(k, 'plain'), true, 0)).toBe(0);
    expect(bare.bus_dma_limit).toBe(0n);
    expect(bare.dma_mask).toBe(0n);
  });
});

describe('iommu_buses[] (drivers/iommu/iommu.c)', () => {
  it('iommu_buses[]: a bus that fills a slot mainline already has (host1x_context_device_bus_type behind CONFIG_TEGRA_HOST1X_CONTEXT_BUS) is no core edit, and its export no new symbol; any other bus added to the list is one', () => {
    const k = boot_dts(CTX_DTS, {
      postcore_initcall: (kk) => {
        const syms = kernel_symbols(kk);
        for (const name of ['host1x-context', 'my-context-bus']) {
          const bus = test_bus(name);
          expect(syms.bus_register(bus)).toBe(0);
          expect(syms.iommu_buses_add(bus, 'test')).toBe(0);
        }
        syms.EXPORT_SYMBOL_GPL('host1x_context_device_bus_type');
        syms.EXPORT_SYMBOL_GPL('my_context_bus_type');
      },
    });
    // the mainline bus type is exported by mainline already: no addition to the ABI
    expect(events_typed(k, 'export_symbol').map((e) => [e.symbol, e.mainline])).toEqual([['host1x_context_device_bus_type', true], ['my_context_bus_type', false]]);
    expect(events_typed(k, 'mainline_iommu_bus').map((e) => e.bus)).toEqual(['host1x-context']);
    expect(events_typed(k, 'core_edit').map((e) => e.what)).toEqual(['iommu_buses[] += my-context-bus (test)']);
    expect(k.iommu_buses.map((b) => b.name)).toEqual(['platform', 'host1x-context', 'my-context-bus']);
  });
});
