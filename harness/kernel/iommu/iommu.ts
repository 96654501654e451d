// drivers/iommu/iommu.c: the IOMMU core. iommu_buses[] and the bus notifier, probing and
// releasing devices, groups, default DMA domains, fwspecs, and the map/unmap API.
// iommu_probe_device() and iommu_release_device() are not exported to modules; the variant's
// symbol table (exports.ts) does not reach them.
import type { bus_type, device } from '../base/device.ts';
import type { device_node } from '../of/node.ts';
import type { Kernel } from '../kernel.ts';
import type { BusNotifyEvent } from '../log.ts';
import type { dev_iommu, iommu_device, iommu_domain, iommu_fwspec, iommu_group, iommu_iotlb_gather } from './iommu-types.ts';
import { EINVAL, ENODEV, EPROBE_DEFER, errname } from '../errno.ts';
import { WARN, dev_dbg, dev_info } from '../printk.ts';
import { bus_for_each_dev, bus_register_notifier } from '../base/bus.ts';
import { bus_dma_configure, driver_deferred_probe_check_state } from '../base/dd.ts';
import { iommu_dma_init_domain, iommu_put_dma_cookie } from './dma-iommu.ts';

/**
 * The one explicit core edit a design may make: add its bus to iommu_buses[] in
 * drivers/iommu/iommu.c. Only effective before iommu_subsys_init(), as a built-in bus must be.
 */
export function iommu_buses_add(k: Kernel, bus: bus_type, why: string): number {
  if (k.iommu_buses.includes(bus)) return -EINVAL;
  k.iommu_buses.push(bus);
  const slot = MAINLINE_IOMMU_BUSES.find((m) => m.bus === bus.name);
  if (slot) k.log.record({ type: 'mainline_iommu_bus', bus: bus.name, symbol: slot.symbol, config: slot.config });
  else k.log.record({ type: 'core_edit', file: 'drivers/iommu/iommu.c', what: `iommu_buses[] += ${bus.name} (${why})`, bus: bus.name });
  return 0;
}

/** The entries of iommu_buses[] that mainline already has behind a config option, beside the
 *  platform bus (drivers/iommu/iommu.c). The built-in bus of that name fills its slot: no new
 *  core edit. PCI, AMBA, fsl-mc and CDX have no devices in the model. */
export const MAINLINE_IOMMU_BUSES: ReadonlyArray<{ bus: string; symbol: string; config: string }> = [
  { bus: 'host1x-context', symbol: 'host1x_context_device_bus_type', config: 'CONFIG_TEGRA_HOST1X_CONTEXT_BUS' },
];

/** iommu_bus_notifier(): ADD_DEVICE probes, REMOVED_DEVICE releases; nothing else is used */
function iommu_bus_notifier(k: Kernel, event: BusNotifyEvent, dev: device): number {
  if (event === 'BUS_NOTIFY_ADD_DEVICE') {
    const ret = iommu_probe_device(k, dev, 'iommu_bus_notifier');
    // iommu.c: "return (ret) ? NOTIFY_DONE : NOTIFY_OK;" -- any error, -ENODEV included
    return ret ? 0 /* NOTIFY_DONE */ : 1 /* NOTIFY_OK */;
  }
  if (event === 'BUS_NOTIFY_REMOVED_DEVICE') {
    iommu_release_device(k, dev);
    return 1;
  }
  return 0;
}

/** iommu_subsys_init() (subsys_initcall): a notifier on every bus of iommu_buses[] */
export function iommu_subsys_init(k: Kernel): void {
  dev_info(k, null, 'iommu: Default domain type: Translated');
  dev_info(k, null, 'iommu: DMA domain TLB invalidation policy: strict mode');
  for (const bus of k.iommu_buses) {
    bus_register_notifier(k, bus, { name: 'iommu_bus_notifier', notifier_call: iommu_bus_notifier });
  }
}

export function iommu_from_fwnode(k: Kernel, fwnode: device_node): iommu_device | null {
  return k.iommu_device_list.find((i) => i.fwnode === fwnode) ?? null;
}

/** dev_iommu_get(): allocate dev->iommu on first use */
function dev_iommu_get(dev: device): dev_iommu {
  if (!dev.iommu) dev.iommu = { fwspec: null, iommu_dev: null, priv: null };
  return dev.iommu;
}

/** dev_iommu_free(): frees dev->iommu including the fwspec */
export function dev_iommu_free(dev: device): void {
  dev.iommu = null;
}

export function iommu_fwspec_free(dev: device): void {
  if (dev.iommu) dev.iommu.fwspec = null;
}

export function dev_iommu_fwspec_get(dev: device): iommu_fwspec | null {
  return dev.iommu?.fwspec ?? null;
}

/**
 * iommu_fwspec_init(): an IOMMU not yet registered answers with
 * driver_deferred_probe_check_state(); a registered but not yet ready one defers a device
 * that is not on the probe path; a fwspec for another IOMMU is -EINVAL.
 */
export function iommu_fwspec_init(k: Kernel, dev: device, iommu_fwnode: device_node): number {
  const ret = iommu_fwspec_init_inner(k, dev, iommu_fwnode);
  k.log.record({ type: 'fwspec_init', dev: dev.name, devid: dev.devid, iommu: iommu_fwnode.path, ret });
  return ret;
}

function iommu_fwspec_init_inner(k: Kernel, dev: device, iommu_fwnode: device_node): number {
  const iommu = iommu_from_fwnode(k, iommu_fwnode);
  if (!iommu) return driver_deferred_probe_check_state(k, dev);
  if (!dev.iommu && !iommu.ready) return -EPROBE_DEFER;
  const fwspec = dev_iommu_fwspec_get(dev);
  // the C compares the ops tables, not the instances: a second instance of the same driver is
  // accepted and its IDs join the first one's fwspec (the model's ops are per instance, so
  // the driver's name stands for its static ops table)
  if (fwspec) return iommu_fwspec_ops(k, dev)?.ops.name === iommu.ops.name ? 0 : -EINVAL;
  dev_iommu_get(dev).fwspec = { iommu_fwnode, ids: [] };
  return 0;
}

export function iommu_fwspec_add_ids(dev: device, ids: number[]): number {
  const fwspec = dev_iommu_fwspec_get(dev);
  if (!fwspec) return -EINVAL;
  fwspec.ids.push(...ids);
  return 0;
}

/** iommu_group_alloc() */
export function iommu_group_alloc(k: Kernel): iommu_group {
  const group: iommu_group = { id: k.next_group_id++, devices: [], default_domain: null, domain: null, owner_cnt: 0, freed: false };
  k.all_groups.push(group);
  return group;
}

/** generic_device_group(): a new group per device */
export function generic_device_group(k: Kernel, dev: device): iommu_group {
  const group = iommu_group_alloc(k);
  k.log.record({ type: 'group_alloc', group: group.id, dev: dev.name, devid: dev.devid });
  return group;
}

/** report_iommu_fault(): no handler installed -> -ENOSYS, and the driver logs the fault */
export function report_iommu_fault(domain: iommu_domain, dev: device | null, iova: number, flags: number): number {
  void domain; void dev; void iova; void flags;
  return -38; // -ENOSYS
}

function iommu_fwspec_ops(k: Kernel, dev: device): iommu_device | null {
  const fwspec = dev_iommu_fwspec_get(dev);
  return fwspec ? iommu_from_fwnode(k, fwspec.iommu_fwnode) : null;
}

/**
 * iommu_init_device(): in the 6.15 flow a device with no fwspec and no driver on a bus with
 * .dma_configure has it called here (this is where of_iommu_configure builds the fwspec for
 * driverless devices). No fwspec afterwards means no IOMMU: -ENODEV.
 */
function iommu_init_device(k: Kernel, dev: device): number {
  dev_iommu_get(dev);
  if (k.config.flow === '6.15' && !dev.iommu!.fwspec && !dev.driver && dev.bus?.dma_configure) {
    // the return value is ignored: no fwspec afterwards is the answer
    bus_dma_configure(k, dev);
    // another path may have finished the job meanwhile
    if (!dev.iommu || dev.iommu_group) return -ENODEV;
  }
  const iommu = iommu_fwspec_ops(k, dev);
  if (!iommu) {
    dev_iommu_free(dev);
    return -ENODEV;
  }
  const probed = iommu.ops.probe_device(dev);
  if (typeof probed === 'number') {
    dev_iommu_free(dev);
    return probed;
  }
  dev.iommu!.iommu_dev = probed;
  const group = iommu.ops.device_group(dev);
  if (typeof group === 'number') {
    iommu.ops.release_device(dev);
    dev_iommu_free(dev);
    return group;
  }
  dev.iommu_group = group;
  return 0;
}

/**
 * __iommu_probe_device(): already grouped -> 0; init; join the group; attach to the group's
 * domain, or set up a default domain when probed singly (bus_iommu_probe does it afterwards).
 */
function __iommu_probe_device(k: Kernel, dev: device, group_list: Set<iommu_group> | null): number {
  if (dev.iommu_group) return 0;
  const init = iommu_init_device(k, dev);
  if (init) return init;
  // the WARN came with the 6.15 probe path (commit bcb81ac6ae3c, drivers/iommu/iommu.c); before
  // it, of_iommu_configure() probing at driver bind was the normal path and said nothing
  if (k.config.flow === '6.15' && dev.driver) WARN(k, dev, 'late IOMMU probe at driver bind, something fishy here!');
  const group = dev.iommu_group!;
  group.devices.push(dev);
  k.log.record({ type: 'group_add_device', group: group.id, dev: dev.name, devid: dev.devid });
  dev_info(k, dev, `Adding to iommu group ${group.id}`);
  let ret = 0;
  if (group.domain) ret = __iommu_device_set_domain(k, group.domain, dev);
  else if (!group_list) ret = iommu_setup_default_domain(k, group);
  else group_list.add(group);
  if (ret) {
    // err_remove_gdev: off the group's list, then iommu_deinit_device() undoes the rest
    group_remove_gdev(k, group, dev);
    iommu_deinit_device(k, dev);
  }
  return ret;
}

/** list_del() of the group_device and __iommu_group_free_device() */
function group_remove_gdev(k: Kernel, group: iommu_group, dev: device): void {
  group.devices.splice(group.devices.indexOf(dev), 1);
  k.log.record({ type: 'group_remove_device', group: group.id, dev: dev.name, devid: dev.devid });
  if (group.devices.length === 0 && (group.owner_cnt || group.domain !== group.default_domain)) {
    WARN(k, dev, `__iommu_group_free_device: group ${group.id} emptied while still owned or off its default domain`);
  }
}

/**
 * iommu_deinit_device(): the driver releases the device; the last device out frees the
 * group's domains (the model frees the group with them: nothing else holds it); dev->iommu
 * and its fwspec go.
 */
function iommu_deinit_device(k: Kernel, dev: device): void {
  const group = dev.iommu_group!;
  k.log.record({ type: 'iommu_deinit_device', dev: dev.name, devid: dev.devid, group: group.id });
  dev.iommu!.iommu_dev?.ops.release_device(dev);
  if (group.devices.length === 0) {
    if (group.default_domain) iommu_domain_free(k, group.default_domain);
    group.default_domain = null;
    group.domain = null;
    group.freed = true;
    k.log.record({ type: 'group_free', group: group.id });
  }
  dev.iommu_group = null;
  dev.dma_ops = 'direct';
  dev_iommu_free(dev);
}

/** iommu_probe_device(): not exported to modules */
export function iommu_probe_device(k: Kernel, dev: device, from: string): number {
  const ret = __iommu_probe_device(k, dev, null);
  k.log.record({ type: 'iommu_probe_device', dev: dev.name, devid: dev.devid, ret, from });
  if (ret && ret !== -ENODEV) dev_dbg(k, dev, `iommu_probe_device: ${errname(ret)}`);
  return ret;
}

/** __iommu_device_set_domain(): attach, and switch the device to dma-iommu ops for DMA domains */
function __iommu_device_set_domain(k: Kernel, domain: iommu_domain, dev: device): number {
  const ret = domain.ops.attach_dev(domain, dev);
  k.log.record({ type: 'domain_attach', domain: domain.id, dev: dev.name, devid: dev.devid, ret });
  if (!ret && domain.type === 'IOMMU_DOMAIN_DMA') iommu_setup_dma_ops(k, dev, domain);
  return ret;
}

/** iommu_setup_dma_ops(): a device in a DMA domain uses the dma-iommu ops */
function iommu_setup_dma_ops(k: Kernel, dev: device, domain: iommu_domain): void {
  iommu_dma_init_domain(k, domain);
  dev.dma_ops = 'iommu';
}


/** iommu_setup_default_domain(): allocate a DMA domain and attach every device of the group */
function iommu_setup_default_domain(k: Kernel, group: iommu_group): number {
  const dev = group.devices[0];
  if (!dev) return -EINVAL;
  const iommu = dev.iommu!.iommu_dev!;
  const domain = iommu.ops.domain_alloc_paging(dev);
  if (typeof domain === 'number') return domain;
  domain.type = 'IOMMU_DOMAIN_DMA';
  k.all_domains.push(domain);
  k.log.record({ type: 'domain_alloc', domain: domain.id, kind: 'DMA', group: group.id });
  group.default_domain = domain;
  domain.set_on = [...(domain.set_on ?? []), group];
  // __iommu_group_set_domain_internal(IOMMU_SET_DOMAIN_MUST_SUCCEED): every device is tried,
  // the group takes the domain whatever happened, and a failure is a driver bug the core WARNs
  // about ("Drivers are not allowed to fail the first domain attach"); the caller unwinds
  let ret = 0;
  for (const gdev of group.devices) {
    const r = __iommu_device_set_domain(k, domain, gdev);
    if (r) ret = r;
  }
  group.domain = domain;
  if (ret) WARN(k, dev, `iommu_setup_default_domain: first attach of default domain ${domain.id} to group ${group.id} failed (${errname(ret)})`);
  return ret;
}

/**
 * iommu_domain_free(): the dma-iommu cookie, then the driver's domain. The C trusts its caller
 * to have detached every device (arm_smmu_domain_free() then frees the context bank under
 * them, a use-after-free of the page tables); the model WARNs, names them, and frees as the C does.
 */
export function iommu_domain_free(k: Kernel, domain: iommu_domain): void {
  if (domain.freed) {
    WARN(k, null, `iommu_domain_free: domain ${domain.id} freed twice (double free)`);
    return;
  }
  const attached = (domain.set_on ?? []).filter((g) => !g.freed && g.domain === domain).flatMap((g) => g.devices);
  if (attached.length) {
    WARN(k, attached[0]!, `iommu_domain_free: domain ${domain.id} is still attached to ${attached.map((d) => d.name).join(', ')}; freeing it leaves their context bank pointing at freed page tables`);
  }
  iommu_put_dma_cookie(k, domain);
  domain.ops.domain_free(domain);
  domain.freed = true;
  k.log.record({ type: 'domain_free', domain: domain.id });
}

/**
 * iommu_release_device() (static since 6.8): leave the group, let the driver release the
 * device, free the group's domains when it empties, and free dev->iommu with its fwspec.
 * Reached only from the bus notifier of a bus in iommu_buses[].
 */
function iommu_release_device(k: Kernel, dev: device): void {
  if (dev.iommu_group) {
    k.log.record({ type: 'iommu_release_device', dev: dev.name, devid: dev.devid });
    __iommu_group_remove_device(k, dev);
  }
  // free any fwspec if no IOMMU driver was ever attached
  if (dev.iommu) dev_iommu_free(dev);
}

/** __iommu_group_remove_device(): out of the group, then iommu_deinit_device() */
function __iommu_group_remove_device(k: Kernel, dev: device): void {
  const group = dev.iommu_group!;
  if (!group.devices.includes(dev)) return;
  group_remove_gdev(k, group, dev);
  if (dev.iommu?.iommu_dev) iommu_deinit_device(k, dev);
  else dev.iommu_group = null;
}

/**
 * iommu_group_remove_device() (EXPORT_SYMBOL_GPL): "called by an iommu driver to remove the
 * device from its current group". It releases the device as iommu_release_device() would, so a
 * client driver can reach that teardown through it; the log notes who called it.
 */
export function iommu_group_remove_device(k: Kernel, dev: device, caller: 'iommu driver' | 'client driver'): void {
  const group = dev.iommu_group;
  k.log.record({ type: 'iommu_group_remove_device', dev: dev.name, devid: dev.devid, group: group?.id ?? null, caller });
  if (!group) return;
  dev_info(k, dev, `Removing from iommu group ${group.id}`);
  __iommu_group_remove_device(k, dev);
}

/**
 * bus_iommu_probe(): probe every device already on the bus (-ENODEV is not an error), then
 * give each new group its default domain.
 */
function bus_iommu_probe(k: Kernel, bus: bus_type): number {
  const group_list = new Set<iommu_group>();
  let err = 0;
  // probe_iommu_group(): -ENODEV is no error; any other ends bus_for_each_dev()
  bus_for_each_dev(k, bus, (dev) => {
    if (err) return;
    const ret = __iommu_probe_device(k, dev, group_list);
    k.log.record({ type: 'iommu_probe_device', dev: dev.name, devid: dev.devid, ret, from: 'bus_iommu_probe' });
    if (ret && ret !== -ENODEV) err = ret;
  });
  if (err) return err;
  for (const group of group_list) {
    if (group.domain) continue;
    const ret = iommu_setup_default_domain(k, group);
    if (ret) return ret;
    for (const gdev of group.devices) iommu_setup_dma_ops(k, gdev, group.default_domain!);
  }
  return 0;
}

/** iommu_device_register(): list the instance, probe every listed bus, then mark it ready; a
 *  bus that fails unregisters the instance, releasing the devices probed so far */
export function iommu_device_register(k: Kernel, iommu: iommu_device): number {
  k.iommu_device_list.push(iommu);
  k.log.record({ type: 'iommu_device_register', iommu: iommu.fwnode.path });
  let err = 0;
  for (const bus of k.iommu_buses) {
    err = bus_iommu_probe(k, bus);
    if (err) break;
  }
  if (err) iommu_device_unregister(k, iommu);
  else iommu.ready = true;
  return err;
}

/** iommu_device_unregister(): remove_iommu_group() on every device of every listed bus that
 *  this instance serves, then off the list */
export function iommu_device_unregister(k: Kernel, iommu: iommu_device): void {
  for (const bus of k.iommu_buses) {
    bus_for_each_dev(k, bus, (dev) => {
      if (dev.iommu?.iommu_dev === iommu) iommu_release_device(k, dev);
    });
  }
  const i = k.iommu_device_list.indexOf(iommu);
  if (i >= 0) k.iommu_device_list.splice(i, 1);
  k.log.record({ type: 'iommu_device_unregister', iommu: iommu.fwnode.path });
}

/** iommu_device_use_default_domain(): a driver claims the group's default domain */
export function iommu_device_use_default_domain(k: Kernel, dev: device): number {
  void k;
  const group = dev.iommu_group;
  if (!group) return 0;
  group.owner_cnt++;
  return 0;
}

export function iommu_device_unuse_default_domain(k: Kernel, dev: device): void {
  const group = dev.iommu_group;
  if (!group) return;
  if (group.owner_cnt <= 0) {
    WARN(k, dev, 'iommu_device_unuse_default_domain: owner count underflow');
    return;
  }
  group.owner_cnt--;
}

/** device_iommu_mapped(): the device is in an IOMMU group */
export function device_iommu_mapped(dev: device): boolean {
  return dev.iommu_group !== null;
}

export function iommu_get_domain_for_dev(dev: device): iommu_domain | null {
  return dev.iommu_group?.domain ?? null;
}

/**
 * iommu_pgsize(): the largest supported page size that fits `size` and the alignment of both
 * addresses, and how many of them to map before a larger page size could take over. Page
 * sizes are powers of two below 2^31 (the bitmap is an int); addresses may pass 2^32, so the
 * alignment tests use %, not bit operations.
 */
function iommu_pgsize(bitmap: number, iova: number, paddr: number, size: number): { pgsize: number; count: number } {
  let smallest = 0;
  let pgsize = 0;
  for (let bit = 0, pg = 1; bit < 31; bit++, pg *= 2) {
    if (!(bitmap & pg)) continue;
    if (!smallest) smallest = pg;
    // the sizes that fit are the smaller ones: alignment to a power of two implies the smaller
    if (pg <= size && iova % pg === 0 && paddr % pg === 0) pgsize = pg;
  }
  if (!pgsize) pgsize = smallest;
  let next = 0;
  for (let pg = pgsize * 2; pg <= 2 ** 30 && !next; pg *= 2) if (bitmap & pg) next = pg;
  let span = size;
  // a bigger page is worth waiting for only if iova and paddr are offset alike within it
  if (next && (iova % next) === (paddr % next)) {
    const offset = next - (iova % next);
    if (offset + next <= size) span = offset;
  }
  return { pgsize, count: Math.max(1, Math.floor(span / pgsize)) };
}

/** iommu_map(): aligned to the smallest page; map in the largest pieces; undo on error */
export function iommu_map(k: Kernel, domain: iommu_domain, iova: number, paddr: number, size: number, prot: number): number {
  const min_pagesz = domain.pgsize_bitmap & -domain.pgsize_bitmap;
  if ((iova % min_pagesz) || (paddr % min_pagesz) || (size % min_pagesz) || size === 0) {
    k.log.record({ type: 'map', domain: domain.id, iova, phys: paddr, size, ret: -EINVAL });
    return -EINVAL;
  }
  let mapped = 0;
  let ret = 0;
  while (mapped < size) {
    const { pgsize, count } = iommu_pgsize(domain.pgsize_bitmap, iova + mapped, paddr + mapped, size - mapped);
    const r = domain.ops.map_pages(domain, iova + mapped, paddr + mapped, pgsize, count, prot);
    mapped += r.mapped;
    if (r.ret) { ret = r.ret; break; }
  }
  k.log.record({ type: 'map', domain: domain.id, iova, phys: paddr, size, ret });
  if (ret) iommu_unmap(k, domain, iova, mapped);
  return ret;
}

/** iommu_unmap(): bytes unmapped, stopping at the first hole; one TLB sync for the lot */
export function iommu_unmap(k: Kernel, domain: iommu_domain, iova: number, size: number): number {
  const gather: iommu_iotlb_gather = { start: Number.MAX_SAFE_INTEGER, end: 0, pgsize: 0 };
  const unmapped = iommu_unmap_fast(k, domain, iova, size, gather);
  domain.ops.iotlb_sync(domain, gather);
  return unmapped;
}

export function iommu_unmap_fast(k: Kernel, domain: iommu_domain, iova: number, size: number, gather: iommu_iotlb_gather): number {
  const min_pagesz = domain.pgsize_bitmap & -domain.pgsize_bitmap;
  if ((iova % min_pagesz) || (size % min_pagesz)) return 0;
  let unmapped = 0;
  while (unmapped < size) {
    const { pgsize, count } = iommu_pgsize(domain.pgsize_bitmap, iova + unmapped, iova + unmapped, size - unmapped);
    const n = domain.ops.unmap_pages(domain, iova + unmapped, pgsize, count, gather);
    if (!n) break;
    unmapped += n;
  }
  k.log.record({ type: 'unmap', domain: domain.id, iova, size, unmapped });
  return unmapped;
}

export function iommu_iova_to_phys(domain: iommu_domain, iova: number): number {
  return domain.ops.iova_to_phys(domain, iova);
}

