// The conformance cases on the simulated kernel. Each case boots its own kernel on a device
// tree shaped like QEMU virt's (a PCIe host node whose iommu-map sends input id N to stream ID
// N of an SMMU with #iommu-cells = <1>), then acts only through the exported-symbol table, as
// the C test acts only through what the kernel offers a built-in driver, and reads the same
// fields the C test reads (dev->iommu_group, dev->iommu).
import type { ConformanceCase, CaseOp } from './cases.ts';
import type { Kernel } from '../harness/kernel/kernel.ts';
import type { bus_type, device, device_driver } from '../harness/kernel/base/device.ts';
import type { device_node } from '../harness/kernel/of/node.ts';
import type { iommu_group } from '../harness/kernel/iommu/iommu-types.ts';
import { boot } from '../harness/kernel/boot.ts';
import { parse_dts } from '../harness/kernel/of/dts.ts';
import { kernel_symbols, type KernelSymbols } from '../harness/kernel/exports.ts';
import { SUBNODE_PARENT_COMPATIBLE } from './cases.ts';
import { NOTABLE_MESSAGES, case_record, empty_step, type CaseRecord, type Reuse, type StepObservation } from './record.ts';

/** The SMMU node's path in MODEL_DTS. */
const SMMU_PATH = '/iommu@9050000';

/** QEMU virt's PCIe host and SMMU as the cases see them, plus the DT child node of the
 *  dt-subnode case (the run adds the same node to QEMU's own tree: subnode_dts()). The SMMU is
 *  the model's arm-smmu (v2) where QEMU has an SMMUv3: the cases are decided by the driver
 *  core, the IOMMU core and of_iommu, which are the same for both. */
export function subnode_dts(smmu: string): string {
  return `
	conformance-ctx-parent {
		compatible = "${SUBNODE_PARENT_COMPATIBLE}";
		#address-cells = <1>;
		#size-cells = <0>;
		ctx@107 {
			reg = <0x107>;
			iommus = <${smmu} 0x107>;
		};
	};`;
}

const MODEL_DTS = `
	smmu: iommu@9050000 {
		compatible = "arm,mmu-500";
		#iommu-cells = <1>;
		dma-coherent;
	};
	pcie@10000000 {
		compatible = "pci-host-ecam-generic";
		iommu-map = <0 &smmu 0 0x10000>;
		dma-coherent;
	};
${subnode_dts('&smmu')}`;

/** KBUILD_MODNAME of the C test, which auxiliary_device_add() passes */
const MODNAME = 'iommu_ctx_conformance';

export interface ModelHooks {
  /** runs once the kernel has booted, before the case's steps: a test's way to break the model */
  after_boot?: (k: Kernel) => void;
}

/** What one case holds while it runs: the C test's struct conf_run. */
interface Run {
  c: ConformanceCase;
  k: Kernel;
  sym: KernelSymbols;
  pcie: device_node;
  buses: { listed: bus_type; unlisted: bus_type; host1x: bus_type };
  /** the stream ID a context device asks for from its bus's .dma_configure */
  sid_of: Map<device, number>;
  parent: device;
  parent_drv: device_driver | null;
  drv: device_driver | null;
  dev: device | null;
  remove: (() => void) | null;
  held: iommu_group | null;
  probe_group: boolean | null;
}

function find_node(np: device_node, pred: (n: device_node) => boolean): device_node | null {
  if (pred(np)) return np;
  for (const child of np.children) {
    const hit = find_node(child, pred);
    if (hit) return hit;
  }
  return null;
}

/** Boot, with the case's buses registered at postcore_initcall as the C test registers them. */
function boot_for(c: ConformanceCase): Run {
  const dt = parse_dts(MODEL_DTS, new Map());
  const smmu = find_node(dt.root, (n) => n.path === SMMU_PATH)!;
  const pcie = find_node(dt.root, (n) => n.path === '/pcie@10000000')!;
  const late = c.steps.includes('smmu_register') ? new Set([smmu]) : new Set<device_node>();
  const sid_of = new Map<device, number>();
  let buses: Run['buses'] | null = null;
  const k = boot({
    flow: '6.15', patches: new Set(), bypass_unmatched_streams: false,
    smmu_hw: new Map([[SMMU_PATH, { context_banks: 64, stream_match_groups: 128, va_bits: 48 }]]),
    memory: { base: 0x8000_0000, size: 2 ** 32 },
  }, dt, {
    late_iommus: late,
    postcore_initcall: (kk) => {
      const sym = kernel_symbols(kk);
      const dma_configure = (dev: device) => sym.of_dma_configure_id(dev, pcie, true, sid_of.get(dev) ?? null);
      buses = {
        listed: { name: 'conformance-listed', dma_configure },
        unlisted: { name: 'conformance-unlisted', dma_configure },
        host1x: { name: 'host1x-context' },
      };
      for (const bus of Object.values(buses)) sym.bus_register(bus);
      sym.iommu_buses_add(buses.listed, 'iommu-ctx-conformance.patch');
      sym.iommu_buses_add(buses.host1x, 'CONFIG_TEGRA_HOST1X_CONTEXT_BUS (mainline)');
    },
  });
  const sym = kernel_symbols(k);
  const parent = make_parent(sym, c);
  return { c, k, sym, pcie, buses: buses!, sid_of, parent: parent.dev, parent_drv: parent.drv,
    drv: null, dev: null, remove: null, held: null, probe_group: null };
}

function make_parent(sym: KernelSymbols, c: ConformanceCase): { dev: device; drv: device_driver | null } {
  const pdev = sym.platform_device_alloc(c.bound_parent ? 'conformance-parent' : 'conformance-idle-parent', c.bound_parent ? c.sid : -1);
  sym.platform_device_add(pdev);
  if (!c.bound_parent) return { dev: pdev.dev, drv: null };
  const drv: device_driver = { name: 'conformance-parent', bus: sym.platform_bus_type, probe: () => 0 };
  return { dev: pdev.dev, drv: sym.platform_driver_register(drv) ? null : drv };
}

/** kzalloc + device_initialize + the fields conf_ctx_alloc() fills in */
function ctx_device(r: Run, bus: bus_type, parent: device, name: string): device {
  const dev = r.sym.kzalloc_device();
  r.sym.device_initialize(dev);
  if (r.c.dma_mask) {
    dev.dma_mask = r.sym.DMA_BIT_MASK(38);
    dev.coherent_dma_mask = r.sym.DMA_BIT_MASK(38);
  }
  dev.bus = bus;
  dev.parent = parent;
  dev.release = () => {};
  r.sid_of.set(dev, r.c.sid);
  r.sym.dev_set_name(dev, name);
  return dev;
}

function add(r: Run): number {
  const { c, sym } = r;
  switch (c.kind) {
    case 'listed-bus': case 'unlisted-bus': case 'host1x-bus': {
      const bus = c.kind === 'listed-bus' ? r.buses.listed : c.kind === 'unlisted-bus' ? r.buses.unlisted : r.buses.host1x;
      const dev = ctx_device(r, bus, r.parent, `${bus.name}.${c.sid.toString(16)}`);
      const ret = sym.device_add(dev);
      if (ret) return ret;
      r.dev = dev;
      r.remove = () => sym.device_unregister(dev);
      break;
    }
    case 'auxiliary': {
      const adev = sym.kzalloc_auxiliary_device('ctx', c.sid, r.parent);
      if (c.dma_mask) {
        adev.dev.dma_mask = sym.DMA_BIT_MASK(38);
        adev.dev.coherent_dma_mask = sym.DMA_BIT_MASK(38);
      }
      let ret = sym.auxiliary_device_init(adev);
      if (ret) return ret;
      ret = sym.auxiliary_device_add(adev, MODNAME);
      if (ret) return ret;
      r.dev = adev.dev;
      r.remove = () => { sym.auxiliary_device_delete(adev); sym.auxiliary_device_uninit(adev); };
      break;
    }
    case 'platform': {
      const pdev = sym.platform_device_alloc('conformance-plat', c.sid);
      const ret = sym.platform_device_add(pdev);
      if (ret) return ret;
      r.dev = pdev.dev;
      r.remove = () => sym.platform_device_unregister(pdev);
      break;
    }
    case 'dt-subnode': {
      const parent_np = find_node(r.k.dt.root, (n) => sym.of_device_is_compatible(n, SUBNODE_PARENT_COMPATIBLE));
      const np = parent_np?.children[0] ?? null;
      if (!np) return -sym.errno.ENOENT;
      const pdev = sym.platform_device_register_full({ parent: r.parent, fwnode: np, name: 'conformance-subnode', id: c.sid, dma_mask: sym.DMA_BIT_MASK(38) });
      if (typeof pdev === 'number') return pdev;
      r.dev = pdev.dev;
      r.remove = () => sym.platform_device_unregister(pdev);
      break;
    }
  }
  sym.get_device(r.dev!);
  return 0;
}

function reuse_of(r: Run, fresh: device): Reuse {
  const grp = fresh.iommu_group;
  return !grp ? 'no-group' : grp === r.held ? 'leaked-group' : 'own-group';
}

function look(r: Run, o: StepObservation): void {
  if (!r.dev) return;
  o.group = r.dev.iommu_group !== null;
  o.dev_iommu = r.dev.iommu !== null;
  if (!r.held && r.dev.iommu_group) r.held = r.dev.iommu_group;
}

function step(r: Run, op: CaseOp): StepObservation {
  const { sym, c } = r;
  const o = empty_step(op);
  // a device that could not be added has no later steps: all nulls, as in the C
  if (!r.dev && (op === 'configure' || op === 'group_remove' || op === 'delete')) return o;
  switch (op) {
    case 'driver_register': {
      const bus = c.kind === 'listed-bus' ? r.buses.listed : r.buses.unlisted;
      const drv: device_driver = { name: 'conformance-ctx', bus, probe: (dev) => { r.probe_group = dev.iommu_group !== null; return 0; } };
      o.ret = sym.driver_register(drv);
      r.drv = o.ret ? null : drv;
      break;
    }
    case 'add':
      r.probe_group = null;
      o.ret = add(r);
      o.probe_group = r.drv ? r.probe_group : null;
      look(r, o);
      break;
    case 'configure':
      o.ret = sym.of_dma_configure_id(r.dev!, r.pcie, true, c.sid);
      look(r, o);
      break;
    case 'group_remove':
      sym.iommu_group_remove_device(r.dev!);
      look(r, o);
      break;
    case 'smmu_register': {
      const smmu = find_node(r.k.dt.root, (n) => n.path === SMMU_PATH)!;
      sym.of_platform_device_create(smmu, null);
      look(r, o);
      break;
    }
    case 'parent_unbind':
      if (r.parent_drv) sym.platform_driver_unregister(r.parent_drv);
      r.parent_drv = null;
      look(r, o);
      break;
    case 'delete':
      r.remove!();
      look(r, o);
      break;
    case 'sid_reuse': {
      const pdev = sym.platform_device_alloc('conformance-sid', c.sid);
      o.ret = sym.platform_device_add(pdev);
      if (o.ret) break;
      o.ret = sym.of_dma_configure_id(pdev.dev, r.pcie, true, c.sid);
      o.reuse = reuse_of(r, pdev.dev);
      sym.platform_device_unregister(pdev);
      break;
    }
    case 'sid_reuse_listed': {
      const dev = ctx_device(r, r.buses.listed, r.parent, `conformance-listed.reuse${c.sid.toString(16)}`);
      o.ret = sym.device_add(dev);
      if (o.ret) break;
      o.reuse = reuse_of(r, dev);
      sym.device_unregister(dev);
      break;
    }
  }
  return o;
}

/** The warnings the case caused, named as console.ts names the kernel's. */
function warnings_since(k: Kernel, from: number): string[] {
  const out: string[] = [];
  for (const e of k.log.slice(from)) {
    if (e.type === 'warn') out.push(NOTABLE_MESSAGES.find((m) => e.message.includes(m)) ?? `WARN ${e.message}`);
    if (e.type === 'printk' && e.level === 'warn') {
      const m = NOTABLE_MESSAGES.find((n) => e.message.includes(n));
      if (m) out.push(m);
    }
  }
  return out;
}

/** Run one case on a freshly booted model kernel. */
export function run_case_on_model(c: ConformanceCase, hooks: ModelHooks = {}): CaseRecord {
  const r = boot_for(c);
  hooks.after_boot?.(r.k);
  const from = r.k.log.length;
  const steps = c.steps.map((op) => step(r, op));
  if (r.drv) r.sym.driver_unregister(r.drv);
  return case_record(c.name, steps, warnings_since(r.k, from));
}
