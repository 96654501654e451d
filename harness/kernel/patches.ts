// Out-of-tree series the model can apply on top of mainline. A scenario names the ones its
// device tree needs (`kernel: { patches: [...] }`); without them the model behaves as mainline.
// Every verdict names the series it ran with, and results say which it depended on.

export interface KernelPatch {
  id: string;
  /** the series as posted */
  subject: string;
  authors: string;
  posted: string;
  status: string;
  link: string;
  /** what changes in the model when it is applied */
  effect: string;
}

export const KERNEL_PATCHES: readonly KernelPatch[] = [
  {
    id: 'of-map-multi-cell',
    subject: 'of: parsing of multi #{iommu,msi}-cells in maps',
    authors: 'Robin Murphy, Vijayanand Jitta',
    posted: '31 Mar 2026',
    status: 'not merged',
    link: 'https://lore.kernel.org/all/?q=s%3A%22of%3A+parsing+of+multi%22',
    effect: 'of_map_id() reads iommu-map entries of 3 cells plus the target\'s #iommu-cells (mainline: 4 cells, "Bad iommu-map length" otherwise)',
  },
];

export function kernel_patch(id: string): KernelPatch | null {
  return KERNEL_PATCHES.find((p) => p.id === id) ?? null;
}
