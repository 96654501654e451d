// The variant contract (docs/variants.md): one object exported by variants/<name>/index.ts.
// A variant sees only the kernel's exported symbols (KernelSymbols), never the harness.
import type { KernelSymbols, device, device_driver, device_node } from './kernel/exports.ts';
import type { SeriesRef, VariantExpect } from './measure/results.ts';

export type { KernelSymbols, device, device_driver, device_node };

export interface ContextRequest {
  /** the scenario's name for the context */
  name: string;
  /** the input id to translate through the parent's iommu-map, or null */
  id: number | null;
  /** the child DT node that describes the context (its own `iommus`), or null */
  node: device_node | null;
  /** DMA_BIT_MASK(dma_mask_bits) */
  dma_mask: bigint;
}

/** A design that has no place for this parent says why, rather than failing: the report
 *  shows the verdict `unsupported` and the reason (the patch that would be needed). */
export interface Unsupported { unsupported: string }

export type CreateResult = device | number | Unsupported;

export interface Variant {
  name: string;
  summary: string;
  series: SeriesRef[];
  expect: VariantExpect;
  /** At boot (postcore_initcall): register buses; make core edits through k. */
  boot(k: KernelSymbols): void;
  /** Optional: the parent driver's probe, once it is bound (host1x and kaanapali-iris v1 make
   *  every context here and hand them out later). 0, or a negative errno that fails the probe. */
  probe?(k: KernelSymbols, parent: device): number;
  /** Called from the parent driver's probe path: a context device, a negative errno, or Unsupported. */
  create_context(k: KernelSymbols, parent: device, request: ContextRequest): CreateResult;
  destroy_context(k: KernelSymbols, dev: device): void;
  /** Optional: the parent driver's remove, after every context it handed out was destroyed. */
  remove?(k: KernelSymbols, parent: device): void;
}
