// The packed event store gives back every event as it was recorded: each kind of value, a
// type whose fields change kind from one event to the next, and logs long enough to span
// several chunks. The harness's own instrument, not kernel code.
import { describe, expect, it } from 'vitest';
import { EventStore, IntList } from './log-store.ts';
import { EventLog, type KEvent } from './log.ts';

describe('EventStore', () => {
  it('gives back numbers of every size, strings, null, booleans and lists as recorded', () => {
    const s = new EventStore<KEvent>();
    const events: KEvent[] = [
      { type: 'map', domain: 3, iova: 0xffff_ffff_f000, phys: 2 ** 40 + 0x1000, size: 0x1000, ret: -22 },
      { type: 'fault', iommu: 'smmu@1', kind: 'context', sid: 0x1964, iova: 0.5, cb: null, message: 'Unhandled context fault' },
      { type: 'fault', iommu: 'smmu@1', kind: 'permission', sid: 0, iova: -0, cb: 7, message: '' },
      { type: 'export_symbol', symbol: 'dma_context_bus_type', gpl: true, mainline: false },
      { type: 'export_symbol', symbol: 'x', gpl: false, mainline: true },
      { type: 'bus_notify', bus: 'platform', event: 'BUS_NOTIFY_ADD_DEVICE', dev: 'a', devid: 1, notifiers: ['iommu', 'of'] },
      { type: 'tlb_inv', iommu: 'smmu@1', asid: 2, iova: null, size: 2 ** 53 - 1 },
    ];
    for (const e of events) s.push(e);
    expect(s.length).toBe(events.length);
    events.forEach((e, i) => {
      expect(s.get(i)).toEqual(e);
      expect(s.type_of(i)).toBe(e.type);
    });
    expect(Object.is((s.get(2) as { iova: number }).iova, -0)).toBe(true);
    expect(s.devid_of(5)).toBe(1);
    expect(s.devid_of(0)).toBeNull();
    // a list given back is a copy: changing it changes nothing recorded
    (s.get(5) as { notifiers: string[] }).notifiers.push('x');
    expect(s.get(5)).toEqual(events[5]);
  });

  it('keeps events across chunks in order', () => {
    const s = new EventStore<KEvent>();
    const n = 40_000; // about 7 words each: several chunks of 65,536 words
    for (let i = 0; i < n; i++) s.push({ type: 'iova_alloc', domain: i, iova: i * 4096 * 2 ** 20, size: 4096 });
    expect(s.length).toBe(n);
    for (const i of [0, 1, 9361, 9362, 20_000, n - 1]) expect(s.get(i)).toEqual({ type: 'iova_alloc', domain: i, iova: i * 4096 * 2 ** 20, size: 4096 });
  });

  it('an int list grows', () => {
    const l = new IntList();
    for (let i = 0; i < 1000; i++) l.push(i * 3);
    expect(l.length).toBe(1000);
    expect(l.get(999)).toBe(2997);
  });
});

describe('EventLog over the store', () => {
  it('counts, slices and reads by device as the object log did', () => {
    const log = new EventLog();
    log.record({ type: 'device_add', dev: 'a', devid: 1, bus: null, ret: 0 });
    log.record({ type: 'group_free', group: 2 });
    log.record({ type: 'device_del', dev: 'a', devid: 1, bus: 'platform' });
    expect(log.length).toBe(3);
    expect(log.slice(1).map((e) => e.type)).toEqual(['group_free', 'device_del']);
    expect(log.at(2)).toEqual({ type: 'device_del', dev: 'a', devid: 1, bus: 'platform' });
    expect(log.of_device(1).map((e) => e.type)).toEqual(['device_add', 'device_del']);
    expect(log.events).toHaveLength(3);
  });
});

describe('EventLog.truncate', () => {
  it('forgets the events from n on, and the indexes with them', () => {
    const log = new EventLog();
    log.record({ type: 'group_free', group: 1 });
    log.record({ type: 'device_release', dev: 'a', devid: 3 });
    expect(log.of_device(3)).toHaveLength(1);
    log.truncate(1);
    expect(log.length).toBe(1);
    expect(log.of_device(3)).toEqual([]);
    log.record({ type: 'group_free', group: 2 });
    const groups: number[] = [];
    log.each(['group_free'], (e) => { groups.push(e.group); });
    expect(groups).toEqual([1, 2]);
    expect(log.at(1)).toEqual({ type: 'group_free', group: 2 });
  });
});
