// The hardware side of a `dma` step: a device issues one transaction with a stream ID into an
// SMMU. The SMMU is the model's (arm-smmu-hw.ts); the harness only drives its input port and
// reads the fault it raised from the event log.
import type { device_node } from '../kernel/of/node.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { arm_smmu_from_iommu } from '../kernel/iommu/arm-smmu.ts';
import { smmu_hw_translate, smmu_hw_translate_quiet, type arm_smmu_hw } from '../kernel/iommu/arm-smmu-hw.ts';

export function smmu_of_node(k: Kernel, np: device_node): arm_smmu_hw | null {
  const iommu = k.iommu_device_list.find((i) => i.fwnode === np);
  return iommu ? arm_smmu_from_iommu(iommu)?.hw ?? null : null;
}

export interface Transaction {
  /** physical address reached, or negative when the SMMU stopped it */
  phys: number;
  /** what the SMMU reported, in the kernel's words */
  fault: string;
}

/** One transaction; `quiet` leaves IOTLB, counters and fault log untouched (isolation sweep). */
export function smmu_transaction(k: Kernel, np: device_node, sid: number, iova: number, write: boolean, quiet = false): Transaction {
  const hw = smmu_of_node(k, np);
  // an SMMU whose driver has not probed is held in reset with client transactions blocked
  if (!hw) return { phys: -1, fault: `${np.full_name} has no driver yet: transaction blocked` };
  const before = k.log.length;
  const phys = quiet ? smmu_hw_translate_quiet(hw, sid, iova, write) : smmu_hw_translate(hw, sid, iova, write);
  if (phys >= 0) return { phys, fault: '' };
  const ev = k.log.slice(before).find((e) => e.type === 'fault');
  const kind = ev?.type === 'fault' ? ev.kind : 'fault';
  const what = kind === 'unidentified-stream' ? 'unidentified stream fault (no stream mapping)' : `${kind} fault`;
  return { phys, fault: ev?.type === 'fault' ? `${what}: "${ev.message}"` : what };
}
