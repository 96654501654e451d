// The event log is the harness's instrument, not kernel code: what the checks rely on when they
// read a few kinds of event through each() instead of walking the whole log.
import { describe, expect, it } from 'vitest';
import { EventLog } from './log.ts';

describe('EventLog.each', () => {
  it('gives the events of the types asked for, in log order, each with its index in events', () => {
    const log = new EventLog();
    log.record({ type: 'iova_alloc', domain: 1, iova: 0x1000, size: 0x1000 });
    log.record({ type: 'group_free', group: 7 });
    log.record({ type: 'iova_free', domain: 1, iova: 0x1000, size: 0x1000 });
    log.record({ type: 'iova_alloc', domain: 1, iova: 0x1000, size: 0x1000 });
    log.record({ type: 'warn', dev: null, message: 'x' });
    const seen: Array<[string, number]> = [];
    log.each(['iova_free', 'iova_alloc'], (e, at) => { seen.push([e.type, at]); });
    expect(seen).toEqual([['iova_alloc', 0], ['iova_free', 2], ['iova_alloc', 3]]);
    const warns: number[] = [];
    log.each(['warn'], (_e, at) => { warns.push(at); });
    expect(warns).toEqual([4]);
    log.each(['fault'], () => { throw new Error('no fault was logged'); });
  });

  it('sees the events recorded after an earlier read (the indexes catch up when read)', () => {
    const log = new EventLog();
    log.record({ type: 'group_free', group: 1 });
    log.record({ type: 'device_release', dev: 'a', devid: 3 });
    const types = () => { const at: number[] = []; log.each(['group_free'], (_e, i) => { at.push(i); }); return at; };
    expect(types()).toEqual([0]);
    expect(log.of_device(3).map((e) => e.type)).toEqual(['device_release']);
    log.record({ type: 'group_free', group: 2 });
    log.record({ type: 'device_del', dev: 'a', devid: 3, bus: null });
    log.record({ type: 'device_release', dev: 'b', devid: 4 });
    expect(types()).toEqual([0, 2]);
    expect(log.of_device(3).map((e) => e.type)).toEqual(['device_release', 'device_del']);
    expect(log.of_device(4).map((e) => e.type)).toEqual(['device_release']);
    expect(log.of_device(5)).toEqual([]);
  });

  it('records nothing while disabled', () => {
    const log = new EventLog();
    log.enabled = false;
    log.record({ type: 'group_free', group: 1 });
    let n = 0;
    log.each(['group_free'], () => { n++; });
    expect(n).toBe(0);
    expect(log.events).toEqual([]);
  });
});
