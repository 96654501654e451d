// Review findings: what a maintainer reviewing the design would object to, read from the
// kernel's event log and state after a run, never from what the variant says of itself.
// Each finding names the kernel rule and who raised it in the 2026 threads.
import type { Kernel } from '../kernel/kernel.ts';
import type { device } from '../kernel/base/device.ts';
import type { DesignCost, Finding, FindingKind, RunResult, ServedDriver } from './results.ts';

/** A finding made once per boot (the design's shape), not once per occurrence. */
const PER_BOOT: ReadonlySet<FindingKind> = new Set(['core-edit', 'exported-symbol']);

class FindingSet {
  private readonly by_key = new Map<string, Finding>();
  add(kind: FindingKind, message: string, n = 1): void {
    const key = `${kind}\u0000${message}`;
    const f = this.by_key.get(key);
    if (f) f.count += PER_BOOT.has(kind) ? 0 : n;
    else this.by_key.set(key, { kind, message, count: n });
  }
  list(): Finding[] {
    return [...this.by_key.values()];
  }
}

/** Devices the design made: children of the client devices the scenario probed. */
function design_devices(k: Kernel, parents: ReadonlySet<device>): device[] {
  return k.all_devices.filter((d) => d.parent !== null && parents.has(d.parent));
}

/** devids that some driver bound to (a successful driver probe) */
function bound_devids(k: Kernel): Set<number> {
  const bound = new Set<number>();
  k.log.each(['driver_probe'], (e) => { if (e.ret === 0) bound.add(e.devid); });
  return bound;
}

/** The findings of one run. `parents`: the client devices whose driver asked for contexts. */
export function review_findings(k: Kernel, parents: ReadonlySet<device>): Finding[] {
  const out = new FindingSet();
  const mine = new Set(design_devices(k, parents).map((d) => d.devid));
  k.log.each(['of_dma_configure_id', 'iommu_group_remove_device', 'core_edit', 'export_symbol', 'private_field_write'], (e) => {
    if (e.type === 'of_dma_configure_id' && e.caller === 'driver code' && mine.has(e.devid)) {
      out.add('of_dma_configure_id-from-driver', 'driver code calls of_dma_configure_id() on its context devices; only bus code (.dma_configure) may (Robin Murphy\'s NAK of kaanapali-iris v1; drivers/iommu/of_iommu.c: "misused outside bus code")');
    }
    if (e.type === 'iommu_group_remove_device' && e.caller === 'client driver') {
      out.add('iommu-driver-api-from-client', 'a client driver calls iommu_group_remove_device(), an interface for IOMMU drivers ("called by an iommu driver to remove the device from its current group", drivers/iommu/iommu.c)');
    }
    if (e.type === 'core_edit') out.add('core-edit', `${e.file}: ${e.what}; a bus in iommu_buses[] must be built in (obj-y), even where its driver is a module`);
    if (e.type === 'export_symbol' && !e.mainline) out.add('exported-symbol', `EXPORT_SYMBOL${e.gpl ? '_GPL' : ''}(${e.symbol}) added to the kernel's ABI`);
    if (e.type === 'private_field_write') out.add('private-field-write', `writes dev->${e.field}, which only the driver core or the IOMMU core sets`);
  });
  const bound = bound_devids(k);
  const unbound = [...mine].filter((devid) => !bound.has(devid) && k.log.of_device(devid).some((e) => e.type === 'device_add' && e.ret === 0));
  if (unbound.length) out.add('device-without-driver', 'context devices no driver ever binds: "a random struct device that does nothing but iommu" (Greg Kroah-Hartman, Apr 2026)', unbound.length);
  return out.list();
}

/** Per client driver (its compatible), the buses its context devices were put on. */
export function served_drivers(k: Kernel, parents: ReadonlyMap<device, string>): ServedDriver[] {
  const buses = new Map<string, Set<string>>();
  for (const d of k.all_devices) {
    const driver = d.parent ? parents.get(d.parent) : undefined;
    if (driver === undefined || !d.bus) continue;
    let set = buses.get(driver);
    if (!set) buses.set(driver, set = new Set());
    set.add(d.bus.name);
  }
  return [...buses].map(([driver, b]) => ({ driver, buses: [...b].sort() }));
}

/** The findings of every run of one design, merged: a per-boot finding once, the others summed. */
export function merge_findings(runs: Finding[][]): Finding[] {
  const out = new FindingSet();
  for (const list of runs) for (const f of list) out.add(f.kind, f.message, f.count);
  return out.list().sort((a, b) => a.kind.localeCompare(b.kind) || a.message.localeCompare(b.message));
}

/**
 * What each further client driver costs the design: the buses only one driver's contexts were
 * put on are that driver's own, and so are the core edits that list them in iommu_buses[].
 * A design whose drivers share one bus costs nothing more per driver.
 */
export function per_driver_cost(cost: DesignCost, runs: RunResult[]): NonNullable<DesignCost['per_driver']> {
  const users = new Map<string, Set<string>>();
  for (const r of runs) {
    for (const s of r.served) {
      for (const bus of s.buses) {
        let set = users.get(bus);
        if (!set) users.set(bus, set = new Set());
        set.add(s.driver);
      }
    }
  }
  const drivers = [...new Set([...users.values()].flatMap((s) => [...s]))].sort();
  let buses = 0;
  let core_edits = 0;
  for (const driver of drivers) {
    const own = [...users].filter(([, set]) => set.size === 1 && set.has(driver)).map(([bus]) => bus);
    const edits = cost.core_edits.filter((e) => e.bus !== null && own.includes(e.bus)).length;
    buses = Math.max(buses, own.filter((b) => cost.bus_types.includes(b)).length);
    core_edits = Math.max(core_edits, edits);
  }
  return { drivers, buses, core_edits };
}
