// The model's event log. The C kernel has no such thing: it is the instrument the harness reads,
// the way a maintainer reads ftrace. Every kernel function that changes state records here; the
// checks, coverage and reports are computed from it, never from what a variant says of itself.

import { EventStore, IntList } from './log-store.ts';

export type BusNotifyEvent =
  | 'BUS_NOTIFY_ADD_DEVICE' | 'BUS_NOTIFY_DEL_DEVICE' | 'BUS_NOTIFY_REMOVED_DEVICE'
  | 'BUS_NOTIFY_BIND_DRIVER' | 'BUS_NOTIFY_BOUND_DRIVER' | 'BUS_NOTIFY_UNBIND_DRIVER'
  | 'BUS_NOTIFY_UNBOUND_DRIVER' | 'BUS_NOTIFY_DRIVER_NOT_BOUND';

/** Devices are named in the log by `dev` (their name when the event happened) and `devid`
 *  (a serial number that stays unique after the name is reused). */
export type KEvent =
  | { type: 'bus_register'; bus: string }
  | { type: 'bus_unregister'; bus: string }
  /** bus: the bus the edit lists in iommu_buses[] */
  | { type: 'core_edit'; file: string; what: string; bus: string }
  | { type: 'mainline_iommu_bus'; bus: string; symbol: string; config: string }
  | { type: 'export_symbol'; symbol: string; gpl: boolean; mainline: boolean }
  | { type: 'device_add'; dev: string; devid: number; bus: string | null; ret: number }
  | { type: 'device_del'; dev: string; devid: number; bus: string | null }
  | { type: 'device_release'; dev: string; devid: number }
  | { type: 'bus_notify'; bus: string; event: BusNotifyEvent; dev: string; devid: number; notifiers: string[] }
  | { type: 'notifier_call'; notifier: string; event: BusNotifyEvent; dev: string; devid: number; ret: number }
  | { type: 'dma_configure'; bus: string; dev: string; devid: number; ret: number; bound: boolean }
  | { type: 'dma_cleanup'; bus: string; dev: string; devid: number }
  | { type: 'of_dma_configure_id'; dev: string; devid: number; np: string; id: number | null; ret: number; caller: string }
  | { type: 'driver_probe'; dev: string; devid: number; driver: string; ret: number }
  | { type: 'driver_remove'; dev: string; devid: number; driver: string }
  | { type: 'deferred'; dev: string; devid: number; reason: string }
  | { type: 'iommu_probe_device'; dev: string; devid: number; ret: number; from: string }
  | { type: 'iommu_release_device'; dev: string; devid: number }
  | { type: 'iommu_deinit_device'; dev: string; devid: number; group: number }
  | { type: 'iommu_device_register'; iommu: string }
  | { type: 'iommu_device_unregister'; iommu: string }
  | { type: 'iommu_group_remove_device'; dev: string; devid: number; group: number | null; caller: string }
  | { type: 'of_map_id'; dev: string; devid: number; np: string; map: string; id: number; ret: number; error: string | null }
  | { type: 'driver_register'; driver: string; bus: string; ret: number }
  | { type: 'private_field_write'; dev: string; devid: number; field: string }
  | { type: 'fwspec_init'; dev: string; devid: number; iommu: string; ret: number }
  | { type: 'group_alloc'; group: number; dev: string; devid: number }
  | { type: 'group_add_device'; group: number; dev: string; devid: number }
  | { type: 'group_remove_device'; group: number; dev: string; devid: number }
  | { type: 'group_free'; group: number }
  | { type: 'domain_alloc'; domain: number; kind: string; group: number }
  | { type: 'domain_attach'; domain: number; dev: string; devid: number; ret: number }
  | { type: 'domain_free'; domain: number }
  | { type: 'context_bank_alloc'; iommu: string; cb: number; domain: number }
  | { type: 'context_bank_free'; iommu: string; cb: number; domain: number }
  | { type: 'sme_alloc'; iommu: string; idx: number; sid: number; mask: number; reused: boolean }
  | { type: 'sme_free'; iommu: string; idx: number; sid: number; mask: number }
  | { type: 'iova_alloc'; domain: number; iova: number; size: number }
  | { type: 'iova_free'; domain: number; iova: number; size: number }
  | { type: 'map'; domain: number; iova: number; phys: number; size: number; ret: number }
  | { type: 'unmap'; domain: number; iova: number; size: number; unmapped: number }
  | { type: 'tlb_inv'; iommu: string; asid: number; iova: number | null; size: number }
  | { type: 'fault'; iommu: string; kind: 'unidentified-stream' | 'context' | 'stream-fault' | 'permission'; sid: number; iova: number; cb: number | null; message: string }
  | { type: 'dma_map'; dev: string; devid: number; phys: number; size: number; dma: number; path: 'iommu' | 'direct' }
  | { type: 'dma_unmap'; dev: string; devid: number; dma: number; size: number }
  | { type: 'warn'; dev: string | null; message: string }
  | { type: 'printk'; level: 'err' | 'warn' | 'info' | 'dbg'; dev: string | null; message: string };

export type KEventType = KEvent['type'];
export type KEventOf<T extends KEventType> = Extract<KEvent, { type: T }>;

/**
 * The log: events in the order recorded, kept packed (log-store.ts), with two indexes built
 * when read: by type (a check that reads a few kinds of event need not walk a log of a
 * million) and by device (a per-device diagnosis). Both hold event numbers, not events.
 */
export class EventLog {
  private readonly store = new EventStore<KEvent>();
  /** where each type's events are: an index is brought up to date when it is read, not at each
   *  record (most runs read the type index once, after the last step, and the device index
   *  only to explain a failure) */
  private readonly at_by_type = new Map<string, IntList>();
  private readonly at_by_devid = new Map<number, IntList>();
  /** how many events each index holds */
  private indexed_by_type = 0;
  private indexed_by_device = 0;
  /** When false, hot paths (benchmarks) skip recording; faults are still counted. */
  enabled = true;
  record(e: KEvent): void {
    if (this.enabled) this.store.push(e);
  }
  /**
   * Forget the events from `n` on: a benchmark batch puts the log back as it found it, so that
   * a fixture measured at a number of steps stays at that number (the indexes forget them too).
   */
  truncate(n: number): void {
    if (n >= this.store.length) return;
    this.store.truncate(n);
    const { at_by_type, at_by_devid } = this;
    if (this.indexed_by_type > n) { at_by_type.clear(); this.indexed_by_type = 0; }
    if (this.indexed_by_device > n) { at_by_devid.clear(); this.indexed_by_device = 0; }
  }
  /** How many events were recorded. */
  get length(): number {
    return this.store.length;
  }
  /** Event `at`, made from the packed log. */
  at(at: number): KEvent {
    return this.store.get(at);
  }
  /** Every event, made afresh: for tests and short logs (a run reads through each()). */
  get events(): KEvent[] {
    return this.slice(0);
  }
  /** The events from `from` on, made afresh. */
  slice(from: number): KEvent[] {
    const out: KEvent[] = [];
    for (let at = Math.max(0, from); at < this.store.length; at++) out.push(this.store.get(at));
    return out;
  }
  of_device(devid: number): KEvent[] {
    const { store, at_by_devid } = this;
    for (let at = this.indexed_by_device; at < store.length; at++) {
      const d = store.devid_of(at);
      if (d === null) continue;
      const list = at_by_devid.get(d);
      if (list) list.push(at);
      else at_by_devid.set(d, int_list(at));
    }
    this.indexed_by_device = store.length;
    const list = at_by_devid.get(devid);
    const out: KEvent[] = [];
    for (let i = 0; list && i < list.length; i++) out.push(store.get(list.get(i)));
    return out;
  }
  private of_type(type: KEventType): IntList | undefined {
    const { store, at_by_type } = this;
    for (let at = this.indexed_by_type; at < store.length; at++) {
      const t = store.type_of(at);
      const same = at_by_type.get(t);
      if (same) same.push(at);
      else at_by_type.set(t, int_list(at));
    }
    this.indexed_by_type = store.length;
    return at_by_type.get(type);
  }
  /** Calls fn with each event of the given types, in log order, and its number in the log. */
  each<T extends KEventType>(types: readonly T[], fn: (e: KEventOf<T>, at: number) => void): void {
    const lists = types.map((t) => this.of_type(t));
    const next = lists.map(() => 0);
    for (;;) {
      // the earliest of the lists' next events (a handful of lists: a linear pick is enough)
      let pick = -1;
      let at = Infinity;
      for (let i = 0; i < lists.length; i++) {
        const list = lists[i];
        if (!list || next[i]! >= list.length) continue;
        const a = list.get(next[i]!);
        if (a < at) { at = a; pick = i; }
      }
      if (pick < 0) return;
      next[pick]!++;
      fn(this.store.get(at) as KEventOf<T>, at);
    }
  }
}

function int_list(first: number): IntList {
  const list = new IntList();
  list.push(first);
  return list;
}
