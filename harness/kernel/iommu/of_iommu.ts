// drivers/iommu/of_iommu.c: build a device's iommu_fwspec from `iommus` or, for an input id,
// from `iommu-map`; then, when not already on the IOMMU core's probe path, probe the device.
import type { device } from '../base/device.ts';
import type { device_node } from '../of/node.ts';
import type { Kernel } from '../kernel.ts';
import { ENODEV, EPROBE_DEFER } from '../errno.ts';
import { of_device_is_available, of_map_id, of_node_put, of_parse_phandle_with_args } from '../of/base.ts';
import { dev_iommu_free, iommu_fwspec_free, iommu_fwspec_init, iommu_from_fwnode, iommu_probe_device } from './iommu.ts';

/** of_iommu_xlate(): a disabled IOMMU is no IOMMU; init the fwspec; let the driver add the IDs */
function of_iommu_xlate(k: Kernel, dev: device, np: device_node, args: number[]): number {
  if (!of_device_is_available(np)) return -ENODEV;
  const ret = iommu_fwspec_init(k, dev, np);
  if (ret) return ret;
  const iommu = iommu_from_fwnode(k, np);
  return iommu ? iommu.ops.of_xlate(dev, args) : -ENODEV;
}

/** of_iommu_configure_dev_id(): translate `id` through the master's iommu-map */
function of_iommu_configure_dev_id(k: Kernel, master_np: device_node, dev: device, id: number): number {
  const map = of_map_id(k, master_np, id, 'iommu-map', 'iommu-map-mask', null);
  k.log.record({ type: 'of_map_id', dev: dev.name, devid: dev.devid, np: master_np.path, map: 'iommu-map', id, ret: map.ret, error: map.error ?? null });
  if (map.ret) return map.ret;
  if (!map.target) return -ENODEV;
  const ret = of_iommu_xlate(k, dev, map.target, map.id_out);
  of_node_put(map.target);
  return ret;
}

/** of_iommu_configure_dev(): every phandle + specifier of the `iommus` list */
function of_iommu_configure_dev(k: Kernel, master_np: device_node, dev: device): number {
  let ret = -ENODEV;
  for (let idx = 0; ; idx++) {
    const spec = of_parse_phandle_with_args(k, master_np, 'iommus', '#iommu-cells', idx);
    if (spec === null) break;
    if (typeof spec === 'number') return spec;
    ret = of_iommu_xlate(k, dev, spec.np, spec.args);
    of_node_put(spec.np);
    if (ret) break;
  }
  return ret;
}

/**
 * of_iommu_configure(dev, master_np, id): 0 when an IOMMU was configured, -ENODEV when the
 * device has none, -EPROBE_DEFER to retry later. Idempotent once a fwspec exists. In the 6.15
 * flow it probes the device itself only when it was not reached from iommu_probe_device()
 * (dev->iommu absent at entry): the path the C comments as "should no longer happen unless
 * of_dma_configure() is being misused outside bus code". The 6.8 flow always probes.
 */
export function of_iommu_configure(k: Kernel, dev: device, master_np: device_node | null, id: number | null): number {
  if (!master_np) return -ENODEV;
  if (dev.iommu?.fwspec) return 0;
  const dev_iommu_present = dev.iommu !== null;
  let err = id !== null ? of_iommu_configure_dev_id(k, master_np, dev, id) : of_iommu_configure_dev(k, master_np, dev);
  if (err) {
    if (dev_iommu_present) iommu_fwspec_free(dev);
    else dev_iommu_free(dev);
  }
  const replay = k.config.flow === '6.8' || !dev_iommu_present;
  if (!err && dev.bus && replay) err = iommu_probe_device(k, dev, 'of_iommu_configure');
  if (err && err !== -EPROBE_DEFER) return err;
  return err;
}
