// Pins down drivers/base/core.c as modelled in core.ts: device_add() and device_del() with their
// bus notifier events in kernel order, naming, the kobject reference count and its release.
// kernel-model.md 1.2 to 1.4. Driver binding itself (really_probe) is pinned in dd.test.ts.
import { describe, expect, it } from 'vitest';
import type { bus_type, device } from './device.ts';
import type { Kernel } from '../kernel.ts';
import type { BusNotifyEvent } from '../log.ts';
import { EEXIST, EINVAL } from '../errno.ts';
import { bus_register, bus_register_notifier, bus_to_subsys, driver_register } from './bus.ts';
import { device_add, device_del, device_register, device_unregister, get_device, put_device } from './core.ts';
import { boot_dts, events_typed, test_bus, test_device, test_driver, trace, warnings } from '../test-helpers.ts';

/** A booted kernel with a registered test bus (not in iommu_buses[]) whose callbacks record. */
function bench(cb: Partial<Omit<bus_type, 'name'>> = {}): { k: Kernel; bus: bus_type; calls: string[] } {
  const k = boot_dts('');
  const calls: string[] = [];
  const bus = test_bus('test', {
    dma_configure: (dev) => { calls.push(`dma_configure ${dev.name} driver=${dev.driver?.name ?? 'none'}`); return 0; },
    dma_cleanup: (dev) => { calls.push(`dma_cleanup ${dev.name} driver=${dev.driver?.name ?? 'none'}`); },
    ...cb,
  });
  expect(bus_register(k, bus)).toBe(0);
  return { k, bus, calls };
}

/** A notifier that records each event with what the device looked like at that moment. */
function spy(k: Kernel, bus: bus_type): Array<{ event: BusNotifyEvent; on_bus: boolean; driver: string | null }> {
  const seen: Array<{ event: BusNotifyEvent; on_bus: boolean; driver: string | null }> = [];
  bus_register_notifier(k, bus, {
    name: 'spy',
    notifier_call: (kk, event, dev) => {
      seen.push({ event, on_bus: bus_to_subsys(kk, bus)!.devices.has(dev), driver: dev.driver?.name ?? null });
      return 0;
    },
  });
  return seen;
}

describe('device_add() (drivers/base/core.c)', () => {
  it('device_add(): BUS_NOTIFY_ADD_DEVICE, then bus_probe_device() binds: dma_configure, BIND_DRIVER, probe, BOUND_DRIVER (drivers/base/core.c, drivers/base/dd.c really_probe)', () => {
    const { k, bus, calls } = bench();
    driver_register(k, test_driver('drv', bus, { probe: (dev) => { calls.push(`probe ${dev.name}`); return 0; } }));
    const dev = test_device(k, { name: 'dev0', bus });
    const from = k.log.events.length;
    expect(device_add(k, dev)).toBe(0);
    expect(trace(k, dev, from)).toEqual(['device_add', 'ADD_DEVICE', 'dma_configure', 'BIND_DRIVER', 'probe', 'BOUND_DRIVER']);
    // the bus's dma_configure runs with dev->driver already set (really_probe sets it first)
    expect(calls).toEqual(['dma_configure dev0 driver=drv', 'probe dev0']);
    expect(dev.driver?.name).toBe('drv');
  });

  it('device_add(): BUS_NOTIFY_ADD_DEVICE comes after bus_add_device() (the device is on the bus list) and before any driver is bound (drivers/base/core.c)', () => {
    const { k, bus } = bench();
    driver_register(k, test_driver('drv', bus, { probe: () => 0 }));
    const seen = spy(k, bus);
    device_add(k, test_device(k, { name: 'dev0', bus }));
    expect(seen[0]).toEqual({ event: 'BUS_NOTIFY_ADD_DEVICE', on_bus: true, driver: null });
    expect(seen.map((s) => s.event)).toEqual(['BUS_NOTIFY_ADD_DEVICE', 'BUS_NOTIFY_BIND_DRIVER', 'BUS_NOTIFY_BOUND_DRIVER']);
  });

  it('device_add(): a failed driver probe never fails device_add() (bus_probe_device returns void) (drivers/base/core.c, drivers/base/bus.c)', () => {
    const { k, bus } = bench();
    driver_register(k, test_driver('drv', bus, { probe: () => -EINVAL }));
    const dev = test_device(k, { name: 'dev0', bus });
    expect(device_add(k, dev)).toBe(0);
    expect(dev.driver).toBeNull();
    expect(bus_to_subsys(k, bus)!.devices).toContain(dev);
  });

  it('device_add(): a second device of the same name on a bus is refused with -EEXIST before BUS_NOTIFY_ADD_DEVICE (sysfs duplicate in bus_add_device, drivers/base/core.c, drivers/base/bus.c)', () => {
    const { k, bus, calls } = bench();
    driver_register(k, test_driver('drv', bus, { probe: (dev) => { calls.push(`probe ${dev.devid}`); return 0; } }));
    const first = test_device(k, { name: 'dup', bus });
    const second = test_device(k, { name: 'dup', bus });
    expect(device_add(k, first)).toBe(0);
    const from = k.log.events.length;
    expect(device_add(k, second)).toBe(-EEXIST);
    expect(trace(k, second, from)).toEqual(['device_add']);
    expect(events_typed(k, 'device_add', from).at(-1)?.ret).toBe(-EEXIST);
    expect(warnings(k, from).some((w) => w.includes("cannot create duplicate filename '/bus/test/devices/dup'"))).toBe(true);
    // the error path frees dev->p; the first device is untouched
    expect(second.p).toBeNull();
    expect(second.driver).toBeNull();
    expect([...bus_to_subsys(k, bus)!.devices]).toEqual([first]);
    expect(calls).toEqual(['dma_configure dup driver=drv', `probe ${first.devid}`]);
  });

  it('device_add(): no name but a bus dev_name gives "<dev_name><id>"; no name at all is -EINVAL (drivers/base/core.c)', () => {
    const k = boot_dts('');
    const named = test_bus('named', { dev_name: 'ctx' });
    const plain = test_bus('plain');
    bus_register(k, named);
    bus_register(k, plain);
    const a = test_device(k, { name: '', bus: named });
    a.init_name = null;
    a.id = 7;
    expect(device_add(k, a)).toBe(0);
    expect(a.name).toBe('ctx7');
    const b = test_device(k, { name: '', bus: plain });
    b.init_name = null;
    expect(device_add(k, b)).toBe(-EINVAL);
    expect(b.p).toBeNull();
  });

  it('device_add(): a device with no bus is added without any notification (bus_notify skips a NULL bus) (drivers/base/core.c, drivers/base/bus.c)', () => {
    const k = boot_dts('');
    const dev = test_device(k, { name: 'lonely', bus: null });
    const from = k.log.events.length;
    expect(device_add(k, dev)).toBe(0);
    expect(trace(k, dev, from)).toEqual(['device_add']);
    device_del(k, dev);
    expect(trace(k, dev, from)).toEqual(['device_add', 'device_del']);
  });
});

describe('device_del() (drivers/base/core.c)', () => {
  it('device_del(): DEL_DEVICE before UNBIND_DRIVER, then remove, dma_cleanup, UNBOUND_DRIVER, REMOVED_DEVICE last (drivers/base/core.c, drivers/base/dd.c __device_release_driver)', () => {
    const { k, bus, calls } = bench();
    driver_register(k, test_driver('drv', bus, { probe: () => 0, remove: (dev) => { calls.push(`remove ${dev.name} driver=${dev.driver?.name ?? 'none'}`); } }));
    const dev = test_device(k, { name: 'dev0', bus });
    device_add(k, dev);
    calls.length = 0;
    const from = k.log.events.length;
    device_del(k, dev);
    expect(trace(k, dev, from)).toEqual(['device_del', 'DEL_DEVICE', 'UNBIND_DRIVER', 'remove', 'dma_cleanup', 'UNBOUND_DRIVER', 'REMOVED_DEVICE']);
    // dma_cleanup runs after the driver's remove, while dev->driver is still set
    expect(calls).toEqual(['remove dev0 driver=drv', 'dma_cleanup dev0 driver=drv']);
    expect(dev.driver).toBeNull();
    expect(dev.dead).toBe(true);
  });

  it('device_del(): at DEL_DEVICE the device is still on its bus with its driver; at REMOVED_DEVICE it is off the bus and unbound (drivers/base/core.c)', () => {
    const { k, bus } = bench();
    driver_register(k, test_driver('drv', bus, { probe: () => 0 }));
    const dev = test_device(k, { name: 'dev0', bus });
    device_add(k, dev);
    const seen = spy(k, bus);
    device_del(k, dev);
    expect(seen).toEqual([
      { event: 'BUS_NOTIFY_DEL_DEVICE', on_bus: true, driver: 'drv' },
      { event: 'BUS_NOTIFY_UNBIND_DRIVER', on_bus: false, driver: 'drv' },
      { event: 'BUS_NOTIFY_UNBOUND_DRIVER', on_bus: false, driver: null },
      { event: 'BUS_NOTIFY_REMOVED_DEVICE', on_bus: false, driver: null },
    ]);
  });

  it('device_del(): an unbound device gets DEL_DEVICE and REMOVED_DEVICE only, and no dma_cleanup (drivers/base/core.c)', () => {
    const { k, bus, calls } = bench();
    const dev = test_device(k, { name: 'dev0', bus });
    device_add(k, dev);
    const from = k.log.events.length;
    device_del(k, dev);
    expect(trace(k, dev, from)).toEqual(['device_del', 'DEL_DEVICE', 'REMOVED_DEVICE']);
    expect(calls).toEqual([]);
  });

  it('device_unregister() = device_del() + put_device(): the last reference runs the release callback (drivers/base/core.c)', () => {
    const { k, bus } = bench();
    let released = 0;
    const dev = test_device(k, { name: 'dev0', bus });
    dev.release = () => { released++; };
    device_add(k, dev);
    get_device(dev);
    device_unregister(k, dev);
    expect(released).toBe(0);
    expect(dev.refcount).toBe(1);
    put_device(k, dev);
    expect(released).toBe(1);
    expect(dev.released).toBe(true);
    expect(warnings(k)).toEqual([]);
  });
});

describe('kobject reference count (drivers/base/core.c, lib/kobject.c)', () => {
  it('device_release(): a device with no release() function WARNs when its last reference goes (drivers/base/core.c)', () => {
    const { k, bus } = bench();
    const dev: device = test_device(k, { name: 'norelease', bus, release: false });
    expect(device_register(k, dev)).toBe(0);
    const from = k.log.events.length;
    device_unregister(k, dev);
    expect(trace(k, dev, from)).toContain('device_release');
    expect(warnings(k, from)).toEqual([
      "Device 'norelease' does not have a release() function, it is broken and must be fixed. See Documentation/core-api/kobject.rst.",
    ]);
  });

  it('put_device(): a put after the last one is a refcount underflow WARN, and release does not run twice (drivers/base/core.c put_device, lib/kobject.c kobject_put, lib/refcount.c)', () => {
    const { k, bus } = bench();
    let released = 0;
    const dev = test_device(k, { name: 'dev0', bus });
    dev.release = () => { released++; };
    device_add(k, dev);
    device_unregister(k, dev);
    expect(released).toBe(1);
    const from = k.log.events.length;
    put_device(k, dev);
    expect(released).toBe(1);
    expect(warnings(k, from)).toEqual(["refcount_t: underflow; use-after-free (put_device on 'dev0')"]);
  });

  it('device_add(): takes a reference for its own duration and drops it, leaving the caller\'s (drivers/base/core.c)', () => {
    const { k, bus } = bench();
    const dev = test_device(k, { name: 'dev0', bus });
    expect(dev.refcount).toBe(1);
    device_add(k, dev);
    expect(dev.refcount).toBe(1);
    // a failed add also leaves the caller's reference, which the caller must put
    const dup = test_device(k, { name: 'dev0', bus });
    expect(device_add(k, dup)).toBe(-EEXIST);
    expect(dup.refcount).toBe(1);
    expect(dup.released).toBe(false);
  });
});
