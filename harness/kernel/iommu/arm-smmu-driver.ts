// drivers/iommu/arm/arm-smmu/arm-smmu.c, the platform-driver half: module_platform_driver
// (arm_smmu_driver) binds every SMMU node; its probe builds the instance from what the ID
// registers report and registers it with the IOMMU core (iommu_device_register).
import type { device, device_driver } from '../base/device.ts';
import type { Kernel } from '../kernel.ts';
import { ENODEV } from '../errno.ts';
import { arm_smmu_device_probe } from './arm-smmu.ts';
import { generic_device_group, iommu_device_register, report_iommu_fault } from './iommu.ts';

/** arm_smmu_of_match: the compatibles Linux's arm-smmu driver binds */
export const arm_smmu_of_match = [
  'arm,smmu-v1', 'arm,smmu-v2', 'arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500',
  'cavium,smmu-v2', 'nvidia,smmu-500', 'qcom,smmu-v2', 'qcom,smmu-500',
];

function arm_smmu_probe(k: Kernel, dev: device): number {
  const np = dev.of_node;
  const hw = np ? k.config.smmu_hw.get(np.path) : undefined;
  if (!np || !hw) return -ENODEV;
  const iommu = arm_smmu_device_probe(k, np, hw, {
    generic_device_group: (d) => generic_device_group(k, d),
    report_iommu_fault,
  });
  return iommu_device_register(k, iommu);
}

export function arm_smmu_driver_alloc(k: Kernel): device_driver {
  return {
    name: 'arm-smmu',
    bus: k.platform_bus_type,
    of_match_table: arm_smmu_of_match,
    probe: (dev) => arm_smmu_probe(k, dev),
  };
}
