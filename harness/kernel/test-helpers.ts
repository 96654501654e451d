// Shared by the kernel-model tests (core.test.ts, dd.test.ts, iommu.test.ts, base.test.ts,
// dma-mapping.test.ts): boot a kernel from DTS text the way the harness does (parse_dts + boot),
// find nodes, make bare devices and test buses, and read the event log of one device.
// Not a test file itself, and never imported by the model.
import type { bus_type, device, device_driver } from './base/device.ts';
import type { device_node } from './of/node.ts';
import type { KEvent } from './log.ts';
import { boot } from './boot.ts';
import { device_alloc, device_initialize } from './base/core.ts';
import { of_device_is_compatible } from './of/base.ts';
import { parse_dts } from './of/dts.ts';
import { arm_smmu_of_match } from './iommu/arm-smmu-driver.ts';
import { DMA_BIT_MASK } from './dma-mapping.ts';
import type { Kernel, KernelFlow, smmu_hw_config } from './kernel.ts';

/** What scenario-format.md gives an SMMU whose ID registers a scenario does not state. */
export const SMMU_HW_DEFAULT: smmu_hw_config = { context_banks: 64, stream_match_groups: 128, va_bits: 48 };

export interface BootDtsOptions {
  flow?: KernelFlow;
  /** out-of-tree series (patches.ts); none: mainline */
  patches?: string[];
  bypass_unmatched_streams?: boolean;
  /** per IOMMU node path; every node an arm-smmu compatible matches gets SMMU_HW_DEFAULT otherwise */
  smmu_hw?: Map<string, smmu_hw_config>;
  /** labels or paths of IOMMU nodes that do not register at boot */
  late_iommus?: string[];
  /** runs at postcore_initcall: register test buses and drivers, make core edits */
  postcore_initcall?: (k: Kernel) => void;
  defines?: Map<string, number>;
}

function walk(np: device_node, fn: (np: device_node) => void): void {
  fn(np);
  for (const child of np.children) walk(child, fn);
}

/** Parse `dts` and boot a 6.15 kernel on it (memory 0x80000000 + 4 GiB, bypass off). */
/** One SMMU and one client platform device wired to it with `iommus`: the smallest system. */
export const SMMU_CLIENT_DTS = `
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  client: client@a000000 {
      compatible = "test,client";
      iommus = <&smmu 0x100 0x0>;
  };`;

export function boot_dts(dts: string, opts: BootDtsOptions = {}): Kernel {
  const dt = parse_dts(dts, opts.defines ?? new Map());
  const smmu_hw = new Map(opts.smmu_hw ?? []);
  walk(dt.root, (np) => {
    if (!smmu_hw.has(np.path) && arm_smmu_of_match.some((c) => of_device_is_compatible(np, c))) smmu_hw.set(np.path, SMMU_HW_DEFAULT);
  });
  const late = new Set<device_node>();
  for (const ref of opts.late_iommus ?? []) {
    const np = dt.labels.get(ref) ?? find_path(dt.root, ref);
    if (!np) throw new Error(`boot_dts: no node '${ref}'`);
    late.add(np);
  }
  return boot({
    flow: opts.flow ?? '6.15',
    patches: new Set(opts.patches ?? []),
    bypass_unmatched_streams: opts.bypass_unmatched_streams ?? false,
    smmu_hw,
    memory: { base: 0x8000_0000, size: 2 ** 32 },
  }, dt, { postcore_initcall: opts.postcore_initcall, late_iommus: late });
}

function find_path(root: device_node, path: string): device_node | null {
  let found: device_node | null = null;
  walk(root, (np) => { if (np.path === path) found = np; });
  return found;
}

/** A node by label or path; throws when absent (a broken test, not a kernel outcome). */
export function node(k: Kernel, ref: string): device_node {
  const np = k.dt.labels.get(ref) ?? find_path(k.dt.root, ref);
  if (!np) throw new Error(`no node '${ref}'`);
  return np;
}

/** The platform device made for a node at boot (of_platform_default_populate). */
export function pdev_of(k: Kernel, ref: string): device {
  const dev = k.of_platform_devices.get(node(k, ref));
  if (!dev) throw new Error(`no platform device for '${ref}'`);
  return dev;
}

export interface TestDeviceOptions {
  name: string;
  bus: bus_type | null;
  of_node?: device_node | null;
  parent?: device | null;
  /** DMA mask width; null leaves dev->dma_mask NULL as kzalloc() does */
  dma_bits?: number | null;
  /** false: no release callback (device_release() WARNs) */
  release?: boolean;
}

/** kzalloc + device_initialize + the fields a bus's creator fills in; not yet added. */
export function test_device(k: Kernel, o: TestDeviceOptions): device {
  const dev = device_alloc(k);
  device_initialize(k, dev);
  dev.init_name = o.name;
  dev.bus = o.bus;
  dev.of_node = o.of_node ?? null;
  dev.parent = o.parent ?? null;
  const bits = o.dma_bits === undefined ? 32 : o.dma_bits;
  if (bits !== null) {
    dev.dma_mask = DMA_BIT_MASK(bits);
    dev.coherent_dma_mask = DMA_BIT_MASK(bits);
  }
  if (o.release !== false) dev.release = () => {};
  return dev;
}

/** A bus type with only the callbacks given (bus_register() is the caller's job). */
export function test_bus(name: string, cb: Partial<Omit<bus_type, 'name'>> = {}): bus_type {
  return { name, ...cb };
}

/** A driver for `bus` matching everything the bus's match accepts (no match callback: all). */
export function test_driver(name: string, bus: bus_type, cb: Partial<Omit<device_driver, 'name' | 'bus'>> = {}): device_driver {
  return { name, bus, ...cb };
}

/** The events about one device (by devid), from log position `from` on. */
export function events_of(k: Kernel, dev: device, from = 0): KEvent[] {
  return k.log.slice(from).filter((e) => 'devid' in e && e.devid === dev.devid);
}

/**
 * The lifecycle trace of one device as short words, in log order: notifier events without the
 * BUS_NOTIFY_ prefix, and dma_configure / dma_cleanup / probe / remove / device_add / device_del /
 * iommu_probe_device / iommu_release_device / device_release.
 */
export function trace(k: Kernel, dev: device, from = 0): string[] {
  const out: string[] = [];
  for (const e of events_of(k, dev, from)) {
    switch (e.type) {
      case 'bus_notify': out.push(e.event.replace('BUS_NOTIFY_', '')); break;
      case 'dma_configure': out.push('dma_configure'); break;
      case 'dma_cleanup': out.push('dma_cleanup'); break;
      case 'driver_probe': out.push('probe'); break;
      case 'driver_remove': out.push('remove'); break;
      case 'device_add': case 'device_del': case 'device_release':
      case 'iommu_probe_device': case 'iommu_release_device':
        out.push(e.type); break;
      default: break;
    }
  }
  return out;
}

/** Events of one type, narrowed. */
export function events_typed<T extends KEvent['type']>(k: Kernel, type: T, from = 0): Array<Extract<KEvent, { type: T }>> {
  return k.log.slice(from).filter((e): e is Extract<KEvent, { type: T }> => e.type === type);
}

/** WARN()s in the log from position `from`. */
export function warnings(k: Kernel, from = 0): string[] {
  return events_typed(k, 'warn', from).map((e) => e.message);
}
