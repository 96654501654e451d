// drivers/iommu/dma-iommu.c: the DMA API on top of an IOMMU DMA domain. Each DMA domain has a
// cookie holding its IOVA allocator; mapping allocates IOVA top-down below the device's
// limit and maps it; unmapping unmaps, invalidates (strict mode) and frees the IOVA.
import type { device } from '../base/device.ts';
import type { Kernel } from '../kernel.ts';
import type { iommu_domain } from './iommu-types.ts';
import { WARN, dev_err } from '../printk.ts';
import { alloc_iova_fast, free_iova_fast, init_iova_domain, put_iova_domain, iova_domain_live, type iova_domain } from './iova.ts';
import { iommu_map, iommu_unmap } from './iommu.ts';

const DMA_MAPPING_ERROR = -1;
const IOVA_SHIFT = 12;
const IOVA_GRANULE = 1 << IOVA_SHIFT;

interface iommu_dma_cookie { iovad: iova_domain }

function cookie(domain: iommu_domain): iommu_dma_cookie | null {
  return domain.iova_cookie as iommu_dma_cookie | null;
}

/** iommu_dma_init_domain(): the IOVA space starts at the aperture (never at pfn 0) */
export function iommu_dma_init_domain(k: Kernel, domain: iommu_domain): void {
  void k;
  if (cookie(domain)) return;
  const base_pfn = Math.max(1, Math.floor(domain.geometry.aperture_start / IOVA_GRANULE));
  domain.iova_cookie = { iovad: init_iova_domain(IOVA_GRANULE, base_pfn) } satisfies iommu_dma_cookie;
}

/** iommu_put_dma_cookie(): the allocator goes with the domain */
export function iommu_put_dma_cookie(k: Kernel, domain: iommu_domain): void {
  void k;
  const c = cookie(domain);
  if (c) put_iova_domain(c.iovad);
  domain.iova_cookie = null;
}

/** The live IOVA ranges of a domain, for the teardown check. */
export function iommu_dma_live_iovas(domain: iommu_domain): number {
  const c = cookie(domain);
  return c ? iova_domain_live(c.iovad) : 0;
}

/** min(*dev->dma_mask, bus_dma_limit, aperture end), in bytes */
function iommu_dma_limit(dev: device, domain: iommu_domain): number {
  let limit = dev.dma_mask!;
  if (dev.bus_dma_limit && dev.bus_dma_limit < limit) limit = dev.bus_dma_limit;
  const aperture = BigInt(domain.geometry.aperture_end);
  if (domain.geometry.force_aperture && aperture < limit) limit = aperture;
  return Number(limit);
}

/** iommu_dma_alloc_iova(): top-down, size-aligned, below the device's limit; 0 on failure */
function iommu_dma_alloc_iova(k: Kernel, domain: iommu_domain, size: number, dev: device): number {
  const iovad = cookie(domain)!.iovad;
  const limit_pfn = Math.floor(iommu_dma_limit(dev, domain) / IOVA_GRANULE);
  const pfn = alloc_iova_fast(iovad, size / IOVA_GRANULE, limit_pfn, true);
  if (!pfn) return 0;
  const iova = pfn * IOVA_GRANULE;
  k.log.record({ type: 'iova_alloc', domain: domain.id, iova, size });
  return iova;
}

/** __iommu_dma_map(): page-granular IOVA for the buffer; the offset within the page is kept */
export function iommu_dma_map_page(k: Kernel, dev: device, phys: number, size: number, prot: number): number {
  const domain = dev.iommu_group?.domain;
  if (!domain || !cookie(domain)) return DMA_MAPPING_ERROR;
  const iova_off = phys % IOVA_GRANULE;
  const len = Math.ceil((size + iova_off) / IOVA_GRANULE) * IOVA_GRANULE;
  const iova = iommu_dma_alloc_iova(k, domain, len, dev);
  if (!iova) {
    dev_err(k, dev, `iommu_dma_map_page: no IOVA space for ${len} bytes`);
    return DMA_MAPPING_ERROR;
  }
  if (iommu_map(k, domain, iova, phys - iova_off, len, prot)) {
    iommu_dma_free_iova(k, domain, iova, len);
    return DMA_MAPPING_ERROR;
  }
  return iova + iova_off;
}

function iommu_dma_free_iova(k: Kernel, domain: iommu_domain, iova: number, size: number): void {
  // through the per-CPU range caches, as iommu_dma_free_iova() does
  free_iova_fast(cookie(domain)!.iovad, iova / IOVA_GRANULE, size / IOVA_GRANULE);
  k.log.record({ type: 'iova_free', domain: domain.id, iova, size });
}

/** __iommu_dma_unmap(): unmap, sync the IOTLB now (strict mode), free the IOVA */
export function iommu_dma_unmap_page(k: Kernel, dev: device, dma_addr: number, size: number): void {
  const domain = dev.iommu_group?.domain;
  if (!domain || !cookie(domain)) return;
  const iova_off = dma_addr % IOVA_GRANULE;
  const iova = dma_addr - iova_off;
  const len = Math.ceil((size + iova_off) / IOVA_GRANULE) * IOVA_GRANULE;
  const unmapped = iommu_unmap(k, domain, iova, len);
  // the C WARNs and frees the IOVA anyway
  if (unmapped !== len) WARN(k, dev, `__iommu_dma_unmap: unmapped ${unmapped} of ${len} bytes at IOVA 0x${iova.toString(16)}`);
  iommu_dma_free_iova(k, domain, iova, len);
}
