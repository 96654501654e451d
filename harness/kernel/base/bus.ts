// drivers/base/bus.c: bus registration, the per-bus notifier chain, and a device's membership
// of its bus (bus_add_device / bus_probe_device / bus_remove_device).
import type { bus_type, device, device_driver } from './device.ts';
import type { Kernel, notifier_block, subsys_private } from '../kernel.ts';
import type { BusNotifyEvent } from '../log.ts';
import { EBUSY, EEXIST, EINVAL } from '../errno.ts';
import { WARN } from '../printk.ts';
import { device_initial_probe, device_release_driver, driver_attach } from './dd.ts';

export function bus_to_subsys(k: Kernel, bus: bus_type | null): subsys_private | null {
  return bus ? k.buses.get(bus) ?? null : null;
}

/** bus_register(): -EBUSY for a bus already registered; drivers_autoprobe on by default */
export function bus_register(k: Kernel, bus: bus_type): number {
  if (k.buses.has(bus)) return -EBUSY;
  for (const other of k.buses.keys()) {
    // sysfs: two buses named alike would collide under /sys/bus
    if (other.name === bus.name) {
      WARN(k, null, `sysfs: cannot create duplicate filename '/bus/${bus.name}'`);
      return -EEXIST;
    }
  }
  // device_names is a prototype-less object, which V8 keeps as a hash table that reuses a
  // removed key's slot, not a Map: a Map leaves a removed key in its bucket until the next
  // rehash, so one name added and removed over and over (a context made and destroyed while
  // 10,000 others live on the bus) walks thousands of dead entries on every lookup
  const device_names = Object.create(null) as Record<string, device | undefined>;
  k.buses.set(bus, { bus, devices: new Set(), device_names, drivers: [], notifiers: [], drivers_autoprobe: true });
  k.log.record({ type: 'bus_register', bus: bus.name });
  return 0;
}

export function bus_unregister(k: Kernel, bus: bus_type): void {
  if (!k.buses.delete(bus)) return;
  k.log.record({ type: 'bus_unregister', bus: bus.name });
}

/** bus_register_notifier(): notifiers registered later do not see earlier devices */
export function bus_register_notifier(k: Kernel, bus: bus_type, nb: notifier_block): number {
  const sp = bus_to_subsys(k, bus);
  if (!sp) return -EINVAL;
  sp.notifiers.push(nb);
  return 0;
}

/** bus_notify(): call the bus's blocking notifier chain; a device with no bus notifies nobody */
export function bus_notify(k: Kernel, dev: device, event: BusNotifyEvent): void {
  const sp = bus_to_subsys(k, dev.bus);
  if (!sp) return;
  k.log.record({ type: 'bus_notify', bus: sp.bus.name, event, dev: dev.name, devid: dev.devid, notifiers: sp.notifiers.map((nb) => nb.name) });
  for (const nb of sp.notifiers) {
    const ret = nb.notifier_call(k, event, dev);
    k.log.record({ type: 'notifier_call', notifier: nb.name, event, dev: dev.name, devid: dev.devid, ret });
  }
}

/** bus_add_device(): from now on bus_for_each_dev() sees the device. sysfs refuses a name
 *  already present in /sys/bus/<bus>/devices. */
export function bus_add_device(k: Kernel, dev: device): number {
  const sp = bus_to_subsys(k, dev.bus);
  if (!sp) return 0;
  if (sp.device_names[dev.name]) {
    WARN(k, dev, `sysfs: cannot create duplicate filename '/bus/${sp.bus.name}/devices/${dev.name}'`);
    return -EEXIST;
  }
  sp.devices.add(dev);
  sp.device_names[dev.name] = dev;
  dev.p!.on_bus = true;
  return 0;
}

/** Drop the device's sysfs name; one renamed while on the bus (dev_set_name after device_add,
 *  which the C would do through device_rename) is found by a scan. */
function bus_forget_name(sp: subsys_private, dev: device): void {
  if (sp.device_names[dev.name] === dev) {
    delete sp.device_names[dev.name];
    return;
  }
  for (const name in sp.device_names) if (sp.device_names[name] === dev) delete sp.device_names[name];
}

/** bus_probe_device(): try to bind a driver if the bus autoprobes; never fails device_add() */
export function bus_probe_device(k: Kernel, dev: device): void {
  const sp = bus_to_subsys(k, dev.bus);
  if (sp?.drivers_autoprobe) device_initial_probe(k, dev);
}

/** bus_remove_device(): off the bus's list, then unbind the driver */
export function bus_remove_device(k: Kernel, dev: device): void {
  const sp = bus_to_subsys(k, dev.bus);
  if (!sp) return;
  if (sp.devices.delete(dev)) bus_forget_name(sp, dev);
  if (dev.p) dev.p.on_bus = false;
  device_release_driver(k, dev);
}

/** bus_for_each_dev(): a snapshot, so callbacks may add or remove devices */
export function bus_for_each_dev(k: Kernel, bus: bus_type, fn: (dev: device) => void): void {
  for (const dev of [...(bus_to_subsys(k, bus)?.devices ?? [])]) fn(dev);
}

/** driver_register() + bus_add_driver(): attach to every matching device if autoprobe */
export function driver_register(k: Kernel, drv: device_driver): number {
  const sp = bus_to_subsys(k, drv.bus);
  const ret = !sp ? -EINVAL : sp.drivers.some((d) => d.name === drv.name) ? -EBUSY : 0;
  k.log.record({ type: 'driver_register', driver: drv.name, bus: drv.bus?.name ?? '(none)', ret });
  if (ret || !sp) return ret;
  sp.drivers.push(drv);
  if (sp.drivers_autoprobe) driver_attach(k, drv);
  return 0;
}

/** driver_unregister(): unbind every device, then drop the driver */
export function driver_unregister(k: Kernel, drv: device_driver): void {
  const sp = bus_to_subsys(k, drv.bus);
  if (!sp) return;
  for (const dev of [...sp.devices]) if (dev.driver === drv) device_release_driver(k, dev);
  const i = sp.drivers.indexOf(drv);
  if (i >= 0) sp.drivers.splice(i, 1);
}
