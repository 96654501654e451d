// What create_context may hand back (variant.ts): a negative errno, Unsupported, or a context
// device that is new, a child of the parent, registered, and not another live context, from
// this boot. Anything else would let a design pass on a device it does not own (the parent
// itself passes the stream checks where parent and context share a stream ID): the run is an
// `error` saying what was returned.
import type { device } from '../kernel/base/device.ts';
import type { Kernel } from '../kernel/kernel.ts';

/** The devices initialised in a kernel, as a set brought up to date when read. */
const booted = new WeakMap<Kernel, { devices: Set<device>; upto: number }>();

function of_this_boot(k: Kernel, dev: device): boolean {
  let seen = booted.get(k);
  if (!seen) booted.set(k, seen = { devices: new Set(), upto: 0 });
  for (; seen.upto < k.all_devices.length; seen.upto++) seen.devices.add(k.all_devices[seen.upto]!);
  return seen.devices.has(dev);
}

/** A value as a report can show it: its type, and a short look at it. */
export function describe_value(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  if (typeof v !== 'object') return typeof v === 'function' ? 'a function' : String(typeof v);
  if (typeof (v as { then?: unknown }).then === 'function') return 'a Promise (create_context runs in the probe path and cannot wait)';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return 'an object that is not a struct device';
}

/** Why a number is not an answer: only a negative errno is. */
export function errno_problem(ret: number): string | null {
  return Number.isInteger(ret) && ret < 0 && ret >= -4095 ? null : `the number ${ret}, which is neither a device nor a negative errno`;
}

/**
 * Why the device `dev` cannot be the context create_context was asked for under `parent`, or
 * null. `live` are the contexts alive now.
 */
export function context_identity_problem(k: Kernel, dev: device, parent: device, live: Iterable<{ name: string; dev: device }>): string | null {
  if (typeof dev.devid !== 'number' || !of_this_boot(k, dev)) return 'a device that this boot never initialised (device_initialize)';
  if (dev === parent) return `the parent ${parent.name} itself, not a new device`;
  if (dev.released) return `the released device ${dev.name}`;
  if (dev.parent !== parent) return `${dev.name || 'a device'}, whose parent is ${dev.parent ? dev.parent.name : 'none'}, not ${parent.name}`;
  if (!dev.p?.on_bus || dev.dead) return `${dev.name || 'a device'}, which is not registered (no device_add, or deleted)`;
  for (const ctx of live) if (ctx.dev === dev) return `${dev.name}, already the live context ${ctx.name}`;
  return null;
}

/** What a create_context result is, or why it is none of the answers allowed. */
export function check_create_result(k: Kernel, res: unknown, parent: device, live: Iterable<{ name: string; dev: device }>): string | null {
  if (typeof res === 'number') return errno_problem(res);
  if (typeof res !== 'object' || res === null || typeof (res as { then?: unknown }).then === 'function' || Array.isArray(res)) return describe_value(res);
  if ('unsupported' in res) return typeof (res as { unsupported: unknown }).unsupported === 'string' ? null : '{ unsupported } without a reason string';
  if (!('devid' in res)) return describe_value(res);
  return context_identity_problem(k, res as device, parent, live);
}
