// drivers/of/address.c: of_dma_get_range(), the DMA window a bus's `dma-ranges` gives its
// children. The model needs only the top of the window (dma_range_map_max), which becomes the
// device's bus_dma_limit; the CPU-to-DMA offset of each range is not modelled.
import type { device_node } from './node.ts';
import { ENODEV, EINVAL } from '../errno.ts';
import { of_find_property } from './base.ts';

/** of_n_addr_cells() / of_n_size_cells(): the parent's #cells, 1 at the root by default */
function n_cells(np: device_node, name: '#address-cells' | '#size-cells'): number {
  for (let p = np.parent; p; p = p.parent) {
    const cells = of_find_property(p, name)?.cells;
    if (cells?.length) return cells[0]!;
  }
  return 1;
}

/** A number of up to two big-endian cells as a bigint (the model's addresses fit 64 bits). */
function read_number(cells: number[], at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 32n) | BigInt(cells[at + i]! >>> 0);
  return v;
}

/**
 * of_dma_get_range(np): from np up, the first node with a non-empty `dma-ranges` (an empty one
 * means "no translation" and the walk goes on; a missing one after an empty one ends it with
 * -ENODEV). Returns the last DMA address the ranges cover, or a negative errno.
 */
export function of_dma_get_range_end(np: device_node): bigint | number {
  let found_empty = false;
  for (let node: device_node | null = np; node; node = node.parent) {
    const ranges = of_find_property(node, 'dma-ranges');
    if (ranges?.cells?.length) return dma_ranges_end(node, ranges.cells);
    if (found_empty && !ranges) return -ENODEV;
    if (ranges) found_empty = true;
  }
  return -ENODEV;
}

/** dma_range_map_max(): (child-addr, parent-addr, size) entries in the node's and its
 *  parent's #address-cells and the node's #size-cells */
function dma_ranges_end(node: device_node, cells: number[]): bigint | number {
  const child_cells = of_find_property(node, '#address-cells')?.cells?.[0] ?? 2;
  const size_cells = of_find_property(node, '#size-cells')?.cells?.[0] ?? 1;
  const parent_cells = n_cells(node, '#address-cells');
  const entry = child_cells + parent_cells + size_cells;
  if (!entry || cells.length % entry) return -EINVAL;
  let end = 0n;
  for (let i = 0; i < cells.length; i += entry) {
    const dma_start = read_number(cells, i, child_cells);
    const size = read_number(cells, i + child_cells + parent_cells, size_cells);
    if (size && dma_start + size - 1n > end) end = dma_start + size - 1n;
  }
  return end;
}
