// drivers/base/auxiliary.c: the auxiliary bus. It has match, probe and remove, but no
// .dma_configure and no .dma_cleanup, and it is not in the IOMMU core's iommu_buses[]: an
// auxiliary device shares its parent's resources (Greg Kroah-Hartman, April 2026).
import type { bus_type, device, device_driver } from './device.ts';
import type { Kernel } from '../kernel.ts';
import { EINVAL } from '../errno.ts';
import { dev_err } from '../printk.ts';
import { device_add, device_alloc, device_del, device_initialize, put_device } from './core.ts';
import { driver_register } from './bus.ts';

export interface auxiliary_device {
  name: string;
  id: number;
  dev: device;
}

export function to_auxiliary_dev(dev: device): auxiliary_device | null {
  const c = dev.container as auxiliary_device | null;
  return c && c.dev === dev ? c : null;
}

/** auxiliary_match(): "modname.devname" against the driver's id table (here: its name) */
function auxiliary_match(dev: device, drv: device_driver): number {
  const name = dev.name.slice(0, dev.name.lastIndexOf('.'));
  return name === drv.name ? 1 : 0;
}

export function auxiliary_bus_type_alloc(): bus_type {
  return { name: 'auxiliary', match: auxiliary_match };
}

/** A zeroed auxiliary_device, as the parent driver's kzalloc() gives it. */
export function auxiliary_device_alloc(k: Kernel, name: string, id: number, parent: device): auxiliary_device {
  const dev = device_alloc(k);
  const auxdev: auxiliary_device = { name, id, dev };
  dev.container = auxdev;
  dev.parent = parent;
  return auxdev;
}

/** auxiliary_device_init(): needs a parent and a name; puts the device on the auxiliary bus */
export function auxiliary_device_init(k: Kernel, auxdev: auxiliary_device): number {
  const dev = auxdev.dev;
  if (!dev.parent) {
    dev_err(k, null, 'auxiliary_device has a NULL dev->parent');
    return -EINVAL;
  }
  if (!auxdev.name) {
    dev_err(k, null, 'auxiliary_device has a NULL name');
    return -EINVAL;
  }
  dev.bus = k.auxiliary_bus_type;
  device_initialize(k, dev);
  return 0;
}

/** __auxiliary_device_add(): named "<modname>.<name>.<id>" */
export function __auxiliary_device_add(k: Kernel, auxdev: auxiliary_device, modname: string): number {
  auxdev.dev.name = `${modname}.${auxdev.name}.${auxdev.id}`;
  const ret = device_add(k, auxdev.dev);
  if (ret) dev_err(k, auxdev.dev, `adding auxiliary device failed!: ${ret}`);
  return ret;
}

export function auxiliary_device_delete(k: Kernel, auxdev: auxiliary_device): void {
  device_del(k, auxdev.dev);
}

export function auxiliary_device_uninit(k: Kernel, auxdev: auxiliary_device): void {
  put_device(k, auxdev.dev);
}

/** auxiliary_driver_register(): the driver joins the auxiliary bus; it matches devices named
 *  "<its name>.<id>" (the model's id table is the driver's name) */
export function auxiliary_driver_register(k: Kernel, drv: device_driver): number {
  drv.bus = k.auxiliary_bus_type;
  return driver_register(k, drv);
}
