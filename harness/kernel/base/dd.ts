// drivers/base/dd.c: binding drivers to devices (really_probe, __device_release_driver) and
// deferred probing. The C runs deferred probing from a workqueue; the model queues the same
// work on k.work and runs it when the harness calls flush_scheduled_work().
import type { device, device_driver } from './device.ts';
import type { Kernel } from '../kernel.ts';
import { EBUSY, ENODEV, ENXIO, EPROBE_DEFER, ETIMEDOUT, errname } from '../errno.ts';
import { dev_dbg, dev_err, dev_warn } from '../printk.ts';
import { bus_notify, bus_to_subsys } from './bus.ts';

/** driver_match_device(): the bus's match callback; no callback matches everything */
function driver_match_device(drv: device_driver, dev: device): number {
  return drv.bus.match ? drv.bus.match(dev, drv) : 1;
}

export function device_is_bound(dev: device): boolean {
  return dev.driver !== null && dev.p !== null && !dev.dead;
}

/** driver_deferred_probe_add(): park the device on the pending list */
export function driver_deferred_probe_add(k: Kernel, dev: device, reason: string): void {
  if (!dev.p) return;
  if (!dev.p.deferred) {
    dev.p.deferred = true;
    k.deferred_probe_pending_list.push(dev);
  }
  dev.p.deferred_reason = reason;
  k.log.record({ type: 'deferred', dev: dev.name, devid: dev.devid, reason });
}

/** driver_deferred_probe_del(): off both deferred lists */
export function driver_deferred_probe_del(k: Kernel, dev: device): void {
  for (const list of [k.deferred_probe_pending_list, k.deferred_probe_active_list]) {
    const i = list.indexOf(dev);
    if (i >= 0) list.splice(i, 1);
  }
  if (dev.p) dev.p.deferred = false;
}

/**
 * driver_deferred_probe_trigger(): move every pending device to the active list and queue the
 * work that re-probes them. Does nothing before late_initcall enabled deferred probing.
 */
export function driver_deferred_probe_trigger(k: Kernel): void {
  if (!k.driver_deferred_probe_enable) return;
  k.deferred_trigger_count++;
  k.deferred_probe_active_list.push(...k.deferred_probe_pending_list);
  k.deferred_probe_pending_list.length = 0;
  k.work.push(() => deferred_probe_work_func(k));
}

/** deferred_probe_work_func(): retry each active device with bus_probe_device() */
function deferred_probe_work_func(k: Kernel): void {
  while (k.deferred_probe_active_list.length) {
    const dev = k.deferred_probe_active_list.shift()!;
    if (dev.p) dev.p.deferred = false;
    if (!dev.dead && dev.p) device_initial_probe(k, dev);
  }
}

/** flush_scheduled_work(): run queued work until none is left */
export function flush_scheduled_work(k: Kernel): void {
  while (k.work.length) k.work.shift()!();
}

/**
 * driver_deferred_probe_check_state(): what a missing supplier (an IOMMU not yet registered)
 * means. Modules are enabled and the timeout has not expired unless a scenario ended it, so
 * the answer is -EPROBE_DEFER (kernel-model.md 1.6).
 */
export function driver_deferred_probe_check_state(k: Kernel, dev: device): number {
  if (k.initcalls_done && k.driver_deferred_probe_timeout === 0) {
    dev_warn(k, dev, 'deferred probe timeout, ignoring dependency');
    return -ETIMEDOUT;
  }
  return -EPROBE_DEFER;
}

/** driver_bound(): bound; kick the deferred list (any bind may satisfy a waiting device) */
function driver_bound(k: Kernel, dev: device): void {
  driver_deferred_probe_del(k, dev);
  driver_deferred_probe_trigger(k);
  bus_notify(k, dev, 'BUS_NOTIFY_BOUND_DRIVER');
}

/** call_driver_probe(): bus probe wins over driver probe; driver errors come back positive */
function call_driver_probe(k: Kernel, dev: device, drv: device_driver): number {
  let ret = 0;
  if (dev.bus?.probe) ret = dev.bus.probe(dev);
  else if (drv.probe) ret = drv.probe(dev);
  k.log.record({ type: 'driver_probe', dev: dev.name, devid: dev.devid, driver: drv.name, ret });
  if (ret === -EPROBE_DEFER) dev_dbg(k, dev, `Driver ${drv.name} requests probe deferral`);
  else if (ret === -ENODEV || ret === -ENXIO) dev_dbg(k, dev, `probe with driver ${drv.name} rejects match ${ret}`);
  else if (ret) dev_err(k, dev, `probe with driver ${drv.name} failed with error ${ret}`);
  return ret;
}

/**
 * really_probe(): dma_configure before the driver's probe; on failure after BIND_DRIVER,
 * DRIVER_NOT_BOUND then dma_cleanup; a failed dma_configure skips both (dd.c labels
 * probe_failed, sysfs_failed, pinctrl_bind_failed).
 */
function really_probe(k: Kernel, dev: device, drv: device_driver): number {
  dev.driver = drv;
  const bus = dev.bus!;
  if (bus.dma_configure) {
    const ret = bus_dma_configure(k, dev);
    if (ret) return really_probe_unwind(k, dev, ret);
  }
  bus_notify(k, dev, 'BUS_NOTIFY_BIND_DRIVER');
  const ret = call_driver_probe(k, dev, drv);
  if (ret) {
    bus_notify(k, dev, 'BUS_NOTIFY_DRIVER_NOT_BOUND');
    if (bus.dma_cleanup) {
      bus.dma_cleanup(dev);
      k.log.record({ type: 'dma_cleanup', bus: bus.name, dev: dev.name, devid: dev.devid });
    }
    // driver errors come back positive so callers can tell them from core errors
    return really_probe_unwind(k, dev, -ret);
  }
  driver_bound(k, dev);
  return 0;
}

/** Call the bus's .dma_configure, noting in the log whether a driver is bound. */
export function bus_dma_configure(k: Kernel, dev: device): number {
  const bus = dev.bus!;
  k.in_dma_configure.push(dev);
  const ret = bus.dma_configure!(dev);
  k.in_dma_configure.pop();
  k.log.record({ type: 'dma_configure', bus: bus.name, dev: dev.name, devid: dev.devid, ret, bound: dev.driver !== null });
  return ret;
}

/** device_unbind_cleanup(): the device leaves probe with no driver */
function really_probe_unwind(k: Kernel, dev: device, ret: number): number {
  device_unbind_cleanup(dev);
  return ret;
}

function device_unbind_cleanup(dev: device): void {
  dev.driver = null;
  dev.driver_data = null;
}

/** __driver_probe_device(): -ENODEV for a dead or unregistered device, -EBUSY if bound */
function __driver_probe_device(k: Kernel, drv: device_driver, dev: device): number {
  if (dev.dead || !dev.p?.on_bus) return -ENODEV;
  if (dev.driver) return -EBUSY;
  return really_probe(k, dev, drv);
}

/** driver_probe_device(): a deferral (negative or positive) parks the device for later */
export function driver_probe_device(k: Kernel, drv: device_driver, dev: device): number {
  const trigger_count = k.deferred_trigger_count;
  const ret = __driver_probe_device(k, drv, dev);
  if (ret === -EPROBE_DEFER || ret === EPROBE_DEFER) {
    driver_deferred_probe_add(k, dev, `${drv.name}: probe returned ${errname(-EPROBE_DEFER)}`);
    // a bind that happened meanwhile may have been the one we waited for
    if (trigger_count !== k.deferred_trigger_count) driver_deferred_probe_trigger(k);
  }
  return ret;
}

/** __device_attach(): try each driver of the bus until one binds */
export function device_initial_probe(k: Kernel, dev: device): void {
  const sp = bus_to_subsys(k, dev.bus);
  if (!sp || dev.driver) return;
  for (const drv of [...sp.drivers]) {
    const match = driver_match_device(drv, dev);
    if (match === 0) continue;
    if (match === -EPROBE_DEFER) {
      driver_deferred_probe_add(k, dev, `${drv.name}: match returned -EPROBE_DEFER`);
      return;
    }
    if (match < 0) continue;
    const ret = driver_probe_device(k, drv, dev);
    // __device_attach_driver() (dd.c): "if (ret < 0) return ret; return ret == 0;" -- bound (0)
    // or a core error (< 0, e.g. from dma_configure) ends bus_for_each_drv(); a driver's own
    // probe error comes back positive (even +EPROBE_DEFER) and lets the next driver try its luck
    if (ret <= 0) return;
  }
}

/** driver_attach(): a newly registered driver tries every device of its bus */
export function driver_attach(k: Kernel, drv: device_driver): void {
  const sp = bus_to_subsys(k, drv.bus);
  if (!sp) return;
  for (const dev of [...sp.devices]) {
    const match = driver_match_device(drv, dev);
    if (match === 0 || dev.driver) continue;
    if (match === -EPROBE_DEFER) {
      driver_deferred_probe_add(k, dev, `${drv.name}: match returned -EPROBE_DEFER`);
      continue;
    }
    if (match > 0) driver_probe_device(k, drv, dev);
  }
}

/**
 * __device_release_driver(): UNBIND_DRIVER, the bus or driver remove, the bus's dma_cleanup,
 * then UNBOUND_DRIVER.
 */
export function device_release_driver(k: Kernel, dev: device): void {
  const drv = dev.driver;
  if (!drv) return;
  bus_notify(k, dev, 'BUS_NOTIFY_UNBIND_DRIVER');
  if (dev.bus?.remove) dev.bus.remove(dev);
  else if (drv.remove) drv.remove(dev);
  k.log.record({ type: 'driver_remove', dev: dev.name, devid: dev.devid, driver: drv.name });
  if (dev.bus?.dma_cleanup) {
    dev.bus.dma_cleanup(dev);
    k.log.record({ type: 'dma_cleanup', bus: dev.bus.name, dev: dev.name, devid: dev.devid });
  }
  device_unbind_cleanup(dev);
  bus_notify(k, dev, 'BUS_NOTIFY_UNBOUND_DRIVER');
}
