// The conformance cases, written once: the C test in the real kernel runs them from a table
// generated from this file (gen-c.ts), and the model runs them through the variant API
// (model.ts). Each case makes one context device in one way and walks it through a few steps;
// after each step both sides note what the driver core and the IOMMU core left on the device.
//
// Every case takes its IOMMU context through the iommu-map of QEMU virt's PCIe host node
// (iommu-map = <0 &smmu 0 0x10000>): input id N is stream ID N. Each case has its own stream ID
// so that a stream ID one case leaks cannot disturb another.

/** How the context device is made (and later removed). */
export type CaseKind =
  /** a custom bus with .dma_configure = of_dma_configure_id(dev, pcie, true, &sid), listed in
   *  iommu_buses[] (the dma_context_bus and iris_vpu_bus designs) */
  | 'listed-bus'
  /** the same bus, not listed in iommu_buses[] */
  | 'unlisted-bus'
  /** auxiliary_device_init + auxiliary_device_add; removed by delete + uninit */
  | 'auxiliary'
  /** platform_device_alloc + platform_device_add, no of_node; platform_device_unregister */
  | 'platform'
  /** mainline's host1x context bus: listed in iommu_buses[], no .dma_configure */
  | 'host1x-bus'
  /** platform_device_register_full() on a DT child node with its own `iommus` */
  | 'dt-subnode';

/** One step of a case. */
export type CaseOp =
  /** register a driver for the context device's bus: it binds when the device is added */
  | 'driver_register'
  /** make and add the context device */
  | 'add'
  /** of_dma_configure_id(dev, pcie node, true, &sid) by hand */
  | 'configure'
  /** the exported iommu_group_remove_device(dev) */
  | 'group_remove'
  /** the SMMU registers now (iommu_device_register -> bus_iommu_probe); the steps before it run
   *  while the SMMU is still absent */
  | 'smmu_register'
  /** the parent's driver unbinds (the parent was bound to a driver before the case began) */
  | 'parent_unbind'
  /** remove the context device the way its kind is removed */
  | 'delete'
  /** a fresh platform device takes the case's stream ID by hand (of_dma_configure_id) */
  | 'sid_reuse'
  /** a fresh device on the listed bus takes the case's stream ID (probed when it is added) */
  | 'sid_reuse_listed';

export interface ConformanceCase {
  name: string;
  /** what the case shows, one line */
  title: string;
  kind: CaseKind;
  /** the input id given to of_dma_configure_id, hence the SMMU stream ID */
  sid: number;
  /** the device's DMA mask is set before it is added (platform devices always have one) */
  dma_mask: boolean;
  /** the parent is a platform device bound to a driver (else an unbound platform device) */
  bound_parent: boolean;
  steps: CaseOp[];
  /** observations where SMMUv3 (QEMU) and the model's SMMUv2 (arm-smmu) are known to differ:
   *  "step.field" -> why. The comparison skips exactly these fields and says so. */
  smmu_differences?: Record<string, string>;
}

/** arm-smmu-v3's arm_smmu_insert_master() refuses a stream ID another master still holds
 *  ("Aliasing StreamID"), so the new device gets no group; arm-smmu (v2)'s arm_smmu_find_sme()
 *  reuses the stream-match entry that covers the ID and arm_smmu_device_group() hands the new
 *  device the leaked master's group. Either way the stream ID is not free. */
const LEAKED_SID_V3_V2 = 'SMMUv3 refuses a stream ID a leaked master still holds (arm_smmu_insert_master, "Aliasing StreamID": no group); SMMUv2 arm_smmu_find_sme() reuses the entry and the new device joins the leaked group';

const c = (name: string, title: string, kind: CaseKind, sid: number, steps: CaseOp[],
  more: Partial<Pick<ConformanceCase, 'dma_mask' | 'bound_parent' | 'smmu_differences'>> = {}): ConformanceCase =>
  ({ name, title, kind, sid, steps, dma_mask: more.dma_mask ?? true, bound_parent: more.bound_parent ?? false, ...(more.smmu_differences ? { smmu_differences: more.smmu_differences } : {}) });

export const CASES: readonly ConformanceCase[] = [
  c('listed-bus', 'custom bus with .dma_configure, in iommu_buses[], no driver', 'listed-bus', 0x101,
    ['add', 'delete', 'sid_reuse']),
  c('listed-bus-driver', 'the same bus with a driver bound', 'listed-bus', 0x111,
    ['driver_register', 'add', 'delete', 'sid_reuse']),
  c('unlisted-bus', 'custom bus with .dma_configure, not in iommu_buses[], no driver', 'unlisted-bus', 0x102,
    ['add', 'delete', 'sid_reuse']),
  c('unlisted-bus-driver', 'the unlisted bus with a driver bound: probed late, at bind', 'unlisted-bus', 0x112,
    ['driver_register', 'add', 'delete', 'sid_reuse'], { smmu_differences: { 'sid_reuse.reuse': LEAKED_SID_V3_V2 } }),
  c('aux-by-hand', 'auxiliary device, of_dma_configure_id by hand, no DMA mask', 'auxiliary', 0x103,
    ['add', 'configure', 'delete', 'sid_reuse'], { dma_mask: false, smmu_differences: { 'sid_reuse.reuse': LEAKED_SID_V3_V2 } }),
  c('aux-by-hand-group-remove', 'auxiliary device by hand, iommu_group_remove_device() before delete', 'auxiliary', 0x113,
    ['add', 'configure', 'group_remove', 'delete', 'sid_reuse']),
  c('aux-plain', 'auxiliary device, no hand call', 'auxiliary', 0x104,
    ['add', 'delete']),
  c('platform-by-hand', 'platform device without of_node, of_dma_configure_id by hand', 'platform', 0x105,
    ['add', 'configure', 'delete', 'sid_reuse']),
  c('host1x-by-hand', 'host1x context bus (listed, no .dma_configure), of_dma_configure_id by hand', 'host1x-bus', 0x106,
    ['add', 'configure', 'delete', 'sid_reuse']),
  c('dt-subnode', 'platform device on a DT child node with its own iommus', 'dt-subnode', 0x107,
    ['add', 'delete', 'sid_reuse']),
  c('listed-bus-before-smmu', 'listed bus, device added before the SMMU registers, then bus_iommu_probe', 'listed-bus', 0x121,
    ['add', 'smmu_register', 'delete', 'sid_reuse']),
  c('listed-bus-parent-unbinds-first', 'listed bus, the parent\'s driver unbinds before the context device goes', 'listed-bus', 0x122,
    ['add', 'parent_unbind', 'delete', 'sid_reuse'], { bound_parent: true }),
  c('sid-reused-after-leak', 'auxiliary device by hand leaks its stream ID; a listed-bus device then asks for it', 'auxiliary', 0x123,
    ['add', 'configure', 'delete', 'sid_reuse_listed'], { smmu_differences: { 'sid_reuse_listed.reuse': LEAKED_SID_V3_V2 } }),
];

/** The DT child node of the dt-subnode case: its `iommus` stream ID, and its parent's compatible. */
export const SUBNODE_PARENT_COMPATIBLE = 'conformance,iommu-ctx-parent';

/** The default-domain attach that fails: not a case. QEMU's SMMUv3 has no resource a handful of
 *  devices can exhaust (16-bit ASIDs and VMIDs, a stream table sized for 16-bit stream IDs,
 *  context descriptors allocated per master), so it cannot be made to refuse an attach the way
 *  the model's SMMUv2 refuses one when its context banks run out. */
export const ATTACH_FAILURE_NOT_A_CASE = 'QEMU\'s SMMUv3 cannot be made to refuse a default-domain attach with a few devices (16-bit ASIDs and VMIDs, no context-bank limit); the model\'s SMMUv2 refusal (no free context bank) stays checked by the model\'s own tests only';
