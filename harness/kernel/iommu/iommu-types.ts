// include/linux/iommu.h: the IOMMU core's structures and the driver ops table.
import type { device } from '../base/device.ts';
import type { device_node } from '../of/node.ts';

export const IOMMU_READ = 1;
export const IOMMU_WRITE = 2;
export const IOMMU_CACHE = 4;

export type iommu_domain_type = 'IOMMU_DOMAIN_DMA' | 'IOMMU_DOMAIN_IDENTITY' | 'IOMMU_DOMAIN_BLOCKED' | 'IOMMU_DOMAIN_UNMANAGED';

/** struct iommu_fwspec: the IDs the device presents to its IOMMU, built by of_xlate */
export interface iommu_fwspec {
  iommu_fwnode: device_node;
  ids: number[];
}

/** struct dev_iommu: dev->iommu */
export interface dev_iommu {
  fwspec: iommu_fwspec | null;
  iommu_dev: iommu_device | null;
  /** the driver's per-master data (arm_smmu_master_cfg) */
  priv: unknown;
}

export interface iommu_group {
  id: number;
  devices: device[];
  default_domain: iommu_domain | null;
  domain: iommu_domain | null;
  /** driver-private: arm-smmu records which SMEs point at this group */
  owner_cnt: number;
  freed: boolean;
}

export interface iommu_domain {
  id: number;
  type: iommu_domain_type;
  ops: iommu_ops;
  pgsize_bitmap: number;
  geometry: { aperture_start: number; aperture_end: number; force_aperture: boolean };
  /** dma-iommu cookie: the IOVA allocator (dma-iommu.ts) */
  iova_cookie: unknown;
  /** driver-private (arm_smmu_domain) */
  priv: unknown;
  freed: boolean;
  /** the groups the domain was ever set on, for iommu_domain_free()'s still-attached WARN (the
   *  model's instrument, not the C's: the WARN looks at these few groups, not at every group
   *  of the run). A field, not a WeakMap: V8 marks a WeakMap's entries apart, and one entry per
   *  domain of 300,000 live contexts made every full collection slower. */
  set_on?: iommu_group[];
}

/** struct iommu_iotlb_gather: the range collected by unmap for one sync */
export interface iommu_iotlb_gather {
  start: number;
  end: number;
  pgsize: number;
}

export interface iommu_ops {
  name: string;
  pgsize_bitmap: number;
  of_xlate: (dev: device, args: number[]) => number;
  probe_device: (dev: device) => iommu_device | number;
  release_device: (dev: device) => void;
  device_group: (dev: device) => iommu_group | number;
  domain_alloc_paging: (dev: device) => iommu_domain | number;
  domain_free: (domain: iommu_domain) => void;
  attach_dev: (domain: iommu_domain, dev: device) => number;
  map_pages: (domain: iommu_domain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number) => { ret: number; mapped: number };
  unmap_pages: (domain: iommu_domain, iova: number, pgsize: number, pgcount: number, gather: iommu_iotlb_gather) => number;
  iova_to_phys: (domain: iommu_domain, iova: number) => number;
  iotlb_sync: (domain: iommu_domain, gather: iommu_iotlb_gather) => void;
  flush_iotlb_all: (domain: iommu_domain) => void;
}

/** struct iommu_device: one registered IOMMU instance */
export interface iommu_device {
  name: string;
  ops: iommu_ops;
  fwnode: device_node;
  /** 6.15+: set once iommu_device_register() has probed the buses */
  ready: boolean;
  /** the driver's instance (struct arm_smmu_device) */
  priv: unknown;
}
