// drivers/base/core.c: the device lifecycle. device_add() and device_del() emit the bus
// notifier events at the points the C does (kernel-model.md 1.3 and 1.4); sysfs, uevents,
// device links and PM are not modelled.
import type { device } from './device.ts';
import type { Kernel } from '../kernel.ts';
import { EINVAL } from '../errno.ts';
import { WARN, dev_err } from '../printk.ts';
import { bus_add_device, bus_notify, bus_probe_device, bus_remove_device } from './bus.ts';
import { driver_deferred_probe_del } from './dd.ts';

/** A zeroed struct device, as kzalloc() gives (not yet initialised). */
export function device_alloc(k: Kernel): device {
  return {
    devid: k.next_devid++, init_name: null, name: '', id: 0, parent: null, bus: null, driver: null,
    of_node: null, platform_data: null, driver_data: null, dma_mask: null, coherent_dma_mask: 0n,
    bus_dma_limit: 0n, dma_parms: null, dma_coherent: false, dma_ops: 'direct', iommu: null, iommu_group: null,
    release: null, refcount: 0, p: null, dead: false, released: false, container: null,
  };
}

/** device_initialize(): one reference held by the caller */
export function device_initialize(k: Kernel, dev: device): void {
  dev.refcount = 1;
  k.all_devices.push(dev);
}

export function dev_set_name(dev: device, name: string): void {
  dev.name = name;
}

/** get_device(): taking a reference on a released device is a use-after-free (kref WARN) */
export function get_device(dev: device | null, k?: Kernel): device | null {
  if (!dev) return dev;
  if (dev.released && k) WARN(k, dev, `refcount_t: addition on 0; use-after-free (get_device on '${dev.name}')`);
  dev.refcount++;
  return dev;
}

/** put_device(): the last reference runs device_release() */
export function put_device(k: Kernel, dev: device | null): void {
  if (!dev) return;
  if (dev.refcount <= 0) {
    WARN(k, dev, `refcount_t: underflow; use-after-free (put_device on '${dev.name}')`);
    return;
  }
  if (--dev.refcount === 0) device_release(k, dev);
}

/** device_release() (kobject release): the owner's release callback frees the device */
function device_release(k: Kernel, dev: device): void {
  k.log.record({ type: 'device_release', dev: dev.name, devid: dev.devid });
  dev.released = true;
  if (dev.release) dev.release(dev);
  else WARN(k, dev, `Device '${dev.name}' does not have a release() function, it is broken and must be fixed. See Documentation/core-api/kobject.rst.`);
}

/**
 * device_add(): name, join the bus, BUS_NOTIFY_ADD_DEVICE (where the IOMMU core probes the
 * device), then try to bind a driver. A failed driver probe never fails device_add().
 */
export function device_add(k: Kernel, dev: device): number {
  if (dev.released) {
    WARN(k, dev, `refcount_t: addition on 0; use-after-free (device_add on released '${dev.name}')`);
    return -EINVAL;
  }
  get_device(dev, k);
  if (dev.p) {
    // dev->p exists only between device_add and the release: a second add is a bug
    WARN(k, dev, `kobject_add_internal failed for ${dev.name} (error: -17 parent: ${dev.parent?.name ?? 'none'}): already registered`);
    put_device(k, dev);
    return -EINVAL;
  }
  dev.p = { on_bus: false, deferred: false, deferred_reason: null };
  if (dev.init_name) { dev.name = dev.init_name; dev.init_name = null; }
  if (!dev.name && dev.bus?.dev_name) dev.name = `${dev.bus.dev_name}${dev.id}`;
  if (!dev.name) {
    dev_err(k, dev, 'device_add: name is NULL');
    return device_add_fail(k, dev, -EINVAL);
  }
  const ret = bus_add_device(k, dev);
  if (ret) return device_add_fail(k, dev, ret);
  k.log.record({ type: 'device_add', dev: dev.name, devid: dev.devid, bus: dev.bus?.name ?? null, ret: 0 });
  bus_notify(k, dev, 'BUS_NOTIFY_ADD_DEVICE');
  bus_probe_device(k, dev);
  put_device(k, dev);
  return 0;
}

function device_add_fail(k: Kernel, dev: device, ret: number): number {
  k.log.record({ type: 'device_add', dev: dev.name, devid: dev.devid, bus: dev.bus?.name ?? null, ret });
  dev.p = null;
  put_device(k, dev);
  return ret;
}

/**
 * device_del(): DEL_DEVICE first, then off the bus (which unbinds the driver), then
 * REMOVED_DEVICE (where the IOMMU core releases the device).
 */
export function device_del(k: Kernel, dev: device): void {
  if (dev.released) {
    WARN(k, dev, `use-after-free: device_del on released '${dev.name}'`);
    return;
  }
  if (!dev.p || dev.dead) {
    WARN(k, dev, `device_del: '${dev.name || '(unnamed)'}' is not registered`);
    return;
  }
  dev.dead = true;
  k.log.record({ type: 'device_del', dev: dev.name, devid: dev.devid, bus: dev.bus?.name ?? null });
  bus_notify(k, dev, 'BUS_NOTIFY_DEL_DEVICE');
  bus_remove_device(k, dev);
  driver_deferred_probe_del(k, dev);
  bus_notify(k, dev, 'BUS_NOTIFY_REMOVED_DEVICE');
}

/** device_register() = device_initialize() + device_add(); on failure the caller must put_device() */
export function device_register(k: Kernel, dev: device): number {
  device_initialize(k, dev);
  return device_add(k, dev);
}

/** device_unregister() = device_del() + put_device() */
export function device_unregister(k: Kernel, dev: device): void {
  device_del(k, dev);
  put_device(k, dev);
}

export function dev_set_drvdata(dev: device, data: unknown): void {
  dev.driver_data = data;
}

export function dev_get_drvdata(dev: device): unknown {
  return dev.driver_data;
}

export function dev_get_platdata(dev: device): unknown {
  return dev.platform_data;
}
