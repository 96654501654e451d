// Pins down drivers/base/dd.c as modelled in dd.ts: really_probe() with its dma_configure /
// dma_cleanup and failure labels, call_driver_probe(), __device_attach_driver(),
// __device_release_driver(), and deferred probing (driver_probe_device, the pending and active
// lists, driver_deferred_probe_trigger on every bind, the re-trigger). kernel-model.md 1.5, 1.6.
import { describe, expect, it } from 'vitest';
import type { bus_type, device, device_driver } from './device.ts';
import type { Kernel } from '../kernel.ts';
import { EBUSY, EINVAL, EIO, ENODEV, EPROBE_DEFER, ETIMEDOUT } from '../errno.ts';
import { bus_register, driver_register, driver_unregister } from './bus.ts';
import { device_add, device_del } from './core.ts';
import { driver_deferred_probe_check_state, driver_deferred_probe_trigger, driver_probe_device, flush_scheduled_work } from './dd.ts';
import { of_platform_device_create } from './platform.ts';
import { boot_dts, events_of, events_typed, node, pdev_of, test_bus, test_device, test_driver, trace, warnings, SMMU_CLIENT_DTS } from '../test-helpers.ts';

interface Bench { k: Kernel; bus: bus_type; calls: string[] }

/** A booted kernel (deferred probing enabled) with a test bus whose callbacks record. */
function bench(dma_configure: (dev: device) => number = () => 0): Bench {
  const k = boot_dts('');
  const calls: string[] = [];
  const bus = test_bus('test', {
    // drivers bind to devices whose name starts with the driver's name
    match: (dev, drv) => (dev.name.startsWith(drv.name) ? 1 : 0),
    dma_configure: (dev) => { calls.push(`dma_configure ${dev.name}`); return dma_configure(dev); },
    dma_cleanup: (dev) => { calls.push(`dma_cleanup ${dev.name}`); },
  });
  expect(bus_register(k, bus)).toBe(0);
  return { k, bus, calls };
}

function drv(b: Bench, name: string, probe: (dev: device) => number, extra: Partial<device_driver> = {}): device_driver {
  const d = test_driver(name, b.bus, { probe: (dev) => { b.calls.push(`probe ${name} ${dev.name}`); return probe(dev); }, ...extra });
  return d;
}

describe('really_probe() (drivers/base/dd.c)', () => {
  it('really_probe(): a probe error after driver_sysfs_add sends DRIVER_NOT_BOUND, then the bus dma_cleanup; the error comes back positive (drivers/base/dd.c, labels probe_failed / sysfs_failed)', () => {
    const b = bench();
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    expect(device_add(b.k, dev)).toBe(0);
    const from = b.k.log.events.length;
    const ret = driver_probe_device(b.k, drv(b, 'x', () => -EINVAL), dev);
    expect(ret).toBe(EINVAL);
    expect(trace(b.k, dev, from)).toEqual(['dma_configure', 'BIND_DRIVER', 'probe', 'DRIVER_NOT_BOUND', 'dma_cleanup']);
    expect(b.calls).toEqual(['dma_configure x0', 'probe x x0', 'dma_cleanup x0']);
    expect(events_typed(b.k, 'driver_probe', from)[0]?.ret).toBe(-EINVAL);
    // call_driver_probe(): "probe with driver x failed with error -22"
    expect(events_typed(b.k, 'printk', from).some((e) => e.level === 'err' && e.message === 'probe with driver x failed with error -22')).toBe(true);
    expect(dev.driver).toBeNull();
    expect(dev.p!.deferred).toBe(false);
  });

  it('really_probe(): -ENODEV / -ENXIO from probe "rejects match" at debug level only (drivers/base/dd.c call_driver_probe)', () => {
    const b = bench();
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(driver_probe_device(b.k, drv(b, 'x', () => -ENODEV), dev)).toBe(ENODEV);
    const printks = events_typed(b.k, 'printk', from);
    expect(printks.map((e) => e.level)).toEqual(['dbg']);
    expect(trace(b.k, dev, from)).toContain('DRIVER_NOT_BOUND');
  });

  it('really_probe(): a failed dma_configure skips BIND_DRIVER, the probe, DRIVER_NOT_BOUND and dma_cleanup, and returns the negative error (drivers/base/dd.c, label pinctrl_bind_failed)', () => {
    const b = bench(() => -EIO);
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    const ret = driver_probe_device(b.k, drv(b, 'x', () => 0), dev);
    expect(ret).toBe(-EIO);
    expect(trace(b.k, dev, from)).toEqual(['dma_configure']);
    expect(b.calls).toEqual(['dma_configure x0']);
    expect(events_typed(b.k, 'dma_configure', from)[0]).toMatchObject({ ret: -EIO, bound: true });
    expect(dev.driver).toBeNull();
    expect(dev.p!.deferred).toBe(false);
  });

  it('really_probe(): -EPROBE_DEFER from dma_configure parks the device on the pending list, still without DRIVER_NOT_BOUND or dma_cleanup (drivers/base/dd.c driver_probe_device)', () => {
    const b = bench(() => -EPROBE_DEFER);
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(driver_probe_device(b.k, drv(b, 'x', () => 0), dev)).toBe(-EPROBE_DEFER);
    expect(trace(b.k, dev, from)).toEqual(['dma_configure']);
    expect(b.k.deferred_probe_pending_list).toEqual([dev]);
  });

  it('really_probe(): -EPROBE_DEFER from the driver comes back as +EPROBE_DEFER and parks the device, after DRIVER_NOT_BOUND and dma_cleanup (drivers/base/dd.c driver_probe_device)', () => {
    const b = bench();
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    const from = b.k.log.events.length;
    expect(driver_probe_device(b.k, drv(b, 'x', () => -EPROBE_DEFER), dev)).toBe(EPROBE_DEFER);
    expect(trace(b.k, dev, from)).toEqual(['dma_configure', 'BIND_DRIVER', 'probe', 'DRIVER_NOT_BOUND', 'dma_cleanup']);
    expect(b.k.deferred_probe_pending_list).toEqual([dev]);
    expect(events_typed(b.k, 'printk', from).map((e) => e.message)).toContain('Driver x requests probe deferral');
  });

  it('really_probe(): a bus without dma_configure / dma_cleanup simply skips both (drivers/base/dd.c)', () => {
    const k = boot_dts('');
    const bus = test_bus('bare');
    bus_register(k, bus);
    driver_register(k, test_driver('d', bus, { probe: () => -EINVAL }));
    const dev = test_device(k, { name: 'd0', bus });
    const from = k.log.events.length;
    device_add(k, dev);
    expect(trace(k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'BIND_DRIVER', 'probe', 'DRIVER_NOT_BOUND']);
  });

  it('call_driver_probe() / device_remove(): the bus probe and remove are called instead of the driver\'s (drivers/base/dd.c)', () => {
    const b = bench();
    b.bus.probe = (dev) => { b.calls.push(`bus probe ${dev.name}`); return 0; };
    b.bus.remove = (dev) => { b.calls.push(`bus remove ${dev.name}`); };
    driver_register(b.k, drv(b, 'x', () => 0, { remove: () => { b.calls.push('driver remove'); } }));
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    device_del(b.k, dev);
    expect(b.calls).toEqual(['dma_configure x0', 'bus probe x0', 'bus remove x0', 'dma_cleanup x0']);
  });

  it('__driver_probe_device(): -EBUSY for a bound device, -ENODEV for a dead one (drivers/base/dd.c)', () => {
    const b = bench();
    const x = drv(b, 'x', () => 0);
    driver_register(b.k, x);
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    expect(dev.driver).toBe(x);
    expect(driver_probe_device(b.k, x, dev)).toBe(-EBUSY);
    device_del(b.k, dev);
    expect(driver_probe_device(b.k, x, dev)).toBe(-ENODEV);
  });
});

describe('__device_attach() / __device_release_driver() (drivers/base/dd.c)', () => {
  it('__device_attach_driver(): a driver\'s own probe error (positive, even +EPROBE_DEFER) lets the next matching driver try its luck (drivers/base/dd.c)', () => {
    const b = bench();
    driver_register(b.k, drv(b, 'x', () => -EPROBE_DEFER));
    driver_register(b.k, drv(b, 'x0', () => 0));
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    expect(b.calls).toEqual(['dma_configure x0', 'probe x x0', 'dma_cleanup x0', 'dma_configure x0', 'probe x0 x0']);
    expect(dev.driver?.name).toBe('x0');
    // driver_bound() took it off the deferred list again
    expect(b.k.deferred_probe_pending_list).not.toContain(dev);
    expect(b.k.deferred_probe_active_list).not.toContain(dev);
  });

  it('__device_attach_driver(): a core error (negative, e.g. from dma_configure) ends the walk over the drivers (drivers/base/dd.c)', () => {
    const b = bench((dev) => (dev.driver?.name === 'x' ? -EIO : 0));
    driver_register(b.k, drv(b, 'x', () => 0));
    driver_register(b.k, drv(b, 'x0', () => 0));
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    expect(b.calls).toEqual(['dma_configure x0']);
    expect(dev.driver).toBeNull();
  });

  it('__device_attach_driver(): a bus match returning -EPROBE_DEFER defers the device without probing (drivers/base/dd.c)', () => {
    const k = boot_dts('');
    const bus = test_bus('picky', { match: () => -EPROBE_DEFER });
    bus_register(k, bus);
    let probed = 0;
    driver_register(k, test_driver('d', bus, { probe: () => { probed++; return 0; } }));
    const dev = test_device(k, { name: 'd0', bus });
    device_add(k, dev);
    expect(probed).toBe(0);
    expect(k.deferred_probe_pending_list).toEqual([dev]);
  });

  it('__device_release_driver(): driver_unregister() unbinds with UNBIND_DRIVER, remove, dma_cleanup, UNBOUND_DRIVER and no DEL/REMOVED_DEVICE (drivers/base/dd.c, drivers/base/bus.c)', () => {
    const b = bench();
    const x = drv(b, 'x', () => 0, { remove: (dev) => { b.calls.push(`remove ${dev.name}`); } });
    driver_register(b.k, x);
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    b.calls.length = 0;
    const from = b.k.log.events.length;
    driver_unregister(b.k, x);
    expect(trace(b.k, dev, from)).toEqual(['UNBIND_DRIVER', 'remove', 'dma_cleanup', 'UNBOUND_DRIVER']);
    expect(b.calls).toEqual(['remove x0', 'dma_cleanup x0']);
    expect(dev.driver).toBeNull();
  });
});

describe('deferred probe (drivers/base/dd.c)', () => {
  const DTS = SMMU_CLIENT_DTS;

  function boot_with_client(late: boolean): { k: Kernel; probes: string[] } {
    const probes: string[] = [];
    const k = boot_dts(DTS, {
      late_iommus: late ? ['smmu'] : [],
      postcore_initcall: (kk) => {
        driver_register(kk, test_driver('test-client', kk.platform_bus_type, {
          of_match_table: ['test,client'],
          probe: (dev) => { probes.push(dev.name); return 0; },
        }));
      },
    });
    return { k, probes };
  }

  it('driver_probe_device(): a platform device whose `iommus` IOMMU is not registered gets -EPROBE_DEFER from platform_dma_configure and sits on the pending list (drivers/base/dd.c, drivers/base/platform.c, drivers/iommu/iommu.c iommu_fwspec_init)', () => {
    const { k, probes } = boot_with_client(true);
    const client = pdev_of(k, 'client');
    expect(client.driver).toBeNull();
    expect(probes).toEqual([]);
    expect(k.deferred_probe_pending_list).toEqual([client]);
    expect(client.p!.deferred).toBe(true);
    const configures = events_of(k, client).filter((e) => e.type === 'dma_configure');
    // tried at device_add, again at late_initcall (trigger + flush, twice): deferred each time
    expect(configures.length).toBeGreaterThanOrEqual(2);
    for (const e of configures) expect(e).toMatchObject({ ret: -EPROBE_DEFER, bound: true });
    expect(events_of(k, client).filter((e) => e.type === 'fwspec_init').every((e) => e.type === 'fwspec_init' && e.ret === -EPROBE_DEFER)).toBe(true);
    // dma_configure failed: no BIND_DRIVER, no DRIVER_NOT_BOUND, no dma_cleanup
    expect(trace(k, client).filter((w) => w !== 'dma_configure')).toEqual(['device_add', 'ADD_DEVICE']);
    expect(client.iommu).toBeNull();
  });

  it('driver_bound(): the SMMU\'s own bind triggers deferred probing, and the deferred client binds once the work runs (drivers/base/dd.c driver_deferred_probe_trigger, deferred_probe_work_func)', () => {
    const { k, probes } = boot_with_client(true);
    const client = pdev_of(k, 'client');
    const count = k.deferred_trigger_count;
    const from = k.log.events.length;
    const smmu = of_platform_device_create(k, node(k, 'smmu'), null);
    expect(smmu?.dev.driver?.name).toBe('arm-smmu');
    // the SMMU's driver_bound() kicked the pending list to the active list and queued the work
    expect(k.deferred_trigger_count).toBe(count + 1);
    expect(k.deferred_probe_pending_list).toEqual([]);
    expect(k.deferred_probe_active_list).toEqual([client]);
    expect(client.driver).toBeNull();
    // meanwhile iommu_device_register -> bus_iommu_probe gave the driverless client its group
    expect(client.iommu_group).not.toBeNull();
    flush_scheduled_work(k);
    expect(client.driver?.name).toBe('test-client');
    expect(probes).toEqual(['a000000.client']);
    expect(k.deferred_probe_active_list).toEqual([]);
    const smmu_bound = k.log.events.findIndex((e, i) => i >= from && e.type === 'bus_notify' && e.devid === smmu!.dev.devid && e.event === 'BUS_NOTIFY_BOUND_DRIVER');
    const client_bind = k.log.events.findIndex((e, i) => i >= from && e.type === 'bus_notify' && e.devid === client.devid && e.event === 'BUS_NOTIFY_BIND_DRIVER');
    expect(smmu_bound).toBeGreaterThan(0);
    expect(client_bind).toBeGreaterThan(smmu_bound);
    // bus_iommu_probe -> iommu_init_device ran dma_configure without a driver (6.15), then the
    // deferred probe ran it again from really_probe, with the driver set
    expect(trace(k, client, from)).toEqual(['dma_configure', 'iommu_probe_device', 'dma_configure', 'BIND_DRIVER', 'probe', 'BOUND_DRIVER']);
    expect(events_typed(k, 'dma_configure', from).filter((e) => e.devid === client.devid).map((e) => [e.bound, e.ret])).toEqual([[false, 0], [true, 0]]);
    expect(warnings(k)).toEqual([]);
  });

  it('driver_probe_device(): when a deferred-probe trigger happened during a probe that then defers, it triggers again so the device is not stranded (drivers/base/dd.c)', () => {
    const b = bench();
    let attempts = 0;
    driver_register(b.k, drv(b, 'y', () => 0));
    driver_register(b.k, drv(b, 'x', () => {
      attempts++;
      // another device binds while x0 probes: driver_bound() -> driver_deferred_probe_trigger()
      if (attempts === 1) device_add(b.k, test_device(b.k, { name: 'y0', bus: b.bus }));
      return attempts === 1 ? -EPROBE_DEFER : 0;
    }));
    const x0 = test_device(b.k, { name: 'x0', bus: b.bus });
    const count = b.k.deferred_trigger_count;
    device_add(b.k, x0);
    // one trigger from y0's bind, one re-trigger for x0
    expect(b.k.deferred_trigger_count).toBe(count + 2);
    expect(b.k.deferred_probe_pending_list).toEqual([]);
    expect(b.k.deferred_probe_active_list).toEqual([x0]);
    flush_scheduled_work(b.k);
    expect(x0.driver?.name).toBe('x');
    expect(attempts).toBe(2);
  });

  it('driver_probe_device(): with no trigger during the probe, a deferred device stays on the pending list until the next bind (drivers/base/dd.c)', () => {
    const b = bench();
    let attempts = 0;
    driver_register(b.k, drv(b, 'x', () => (++attempts === 1 ? -EPROBE_DEFER : 0)));
    driver_register(b.k, drv(b, 'y', () => 0));
    const x0 = test_device(b.k, { name: 'x0', bus: b.bus });
    const count = b.k.deferred_trigger_count;
    device_add(b.k, x0);
    expect(b.k.deferred_trigger_count).toBe(count);
    expect(b.k.deferred_probe_pending_list).toEqual([x0]);
    flush_scheduled_work(b.k);
    expect(attempts).toBe(1);
    // any later successful bind retries it
    device_add(b.k, test_device(b.k, { name: 'y0', bus: b.bus }));
    expect(b.k.deferred_probe_active_list).toEqual([x0]);
    flush_scheduled_work(b.k);
    expect(x0.driver?.name).toBe('x');
  });

  it('driver_deferred_probe_trigger(): does nothing before deferred_probe_initcall() (late_initcall) enables it (drivers/base/dd.c)', () => {
    let before = -1;
    let queued = -1;
    boot_dts('', {
      postcore_initcall: (k) => {
        before = k.deferred_trigger_count;
        driver_deferred_probe_trigger(k);
        queued = k.work.length;
        expect(k.deferred_trigger_count).toBe(before);
      },
    });
    expect(before).toBe(0);
    expect(queued).toBe(0);
  });

  it('driver_deferred_probe_check_state(): -EPROBE_DEFER while the timeout has not expired; -ETIMEDOUT once it has, after initcalls (drivers/base/dd.c)', () => {
    const k = boot_dts('');
    const dev = test_device(k, { name: 'd', bus: null });
    expect(driver_deferred_probe_check_state(k, dev)).toBe(-EPROBE_DEFER);
    k.driver_deferred_probe_timeout = 0;
    expect(driver_deferred_probe_check_state(k, dev)).toBe(-ETIMEDOUT);
  });

  it('device_del(): driver_deferred_probe_del() takes a removed device off the deferred lists (drivers/base/core.c, drivers/base/dd.c)', () => {
    const b = bench(() => -EPROBE_DEFER);
    driver_register(b.k, drv(b, 'x', () => 0));
    const dev = test_device(b.k, { name: 'x0', bus: b.bus });
    device_add(b.k, dev);
    expect(b.k.deferred_probe_pending_list).toEqual([dev]);
    device_del(b.k, dev);
    expect(b.k.deferred_probe_pending_list).toEqual([]);
  });
});
