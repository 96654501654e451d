// drivers/of/base.c and drivers/of/property.c: reading the unflattened device tree, and
// of_map_id(), the translation of an input id through an `iommu-map` / `msi-map` property.
import type { device_node, device_tree, property } from './node.ts';
import type { Kernel } from '../kernel.ts';
import { EFAULT, EINVAL, ENODEV } from '../errno.ts';
import { pr_info, pr_err } from '../printk.ts';

export function of_find_property(np: device_node, name: string): property | null {
  return np.properties.get(name) ?? null;
}

export function of_property_read_bool(np: device_node, name: string): boolean {
  return np.properties.has(name);
}

/** 0 and the value, or -EINVAL when absent / not a cell property (of_property_read_u32) */
export function of_property_read_u32(np: device_node, name: string): { ret: number; value: number } {
  const cells = of_find_property(np, name)?.cells;
  if (!cells || cells.length < 1) return { ret: -EINVAL, value: 0 };
  return { ret: 0, value: cells[0]! };
}

/** of_property_count_u32_elems(): the number of cells, -EINVAL when absent */
export function of_property_count_u32_elems(np: device_node, name: string): number {
  const cells = of_find_property(np, name)?.cells;
  return cells ? cells.length : -EINVAL;
}

export function of_property_read_string_array(np: device_node, name: string): string[] {
  return of_find_property(np, name)?.strings ?? [];
}

/** of_device_is_compatible(): 1 when any compatible string equals `compat` */
export function of_device_is_compatible(np: device_node, compat: string): boolean {
  return of_property_read_string_array(np, 'compatible').includes(compat);
}

/** of_device_is_available(): no status, or status "okay"/"ok" */
export function of_device_is_available(np: device_node): boolean {
  const status = of_property_read_string_array(np, 'status')[0];
  return status === undefined || status === 'okay' || status === 'ok';
}

export function of_find_node_by_phandle(dt: device_tree, handle: number): device_node | null {
  return dt.phandles.get(handle) ?? null;
}

export function of_node_get(np: device_node | null): device_node | null {
  if (np) np.refcount++;
  return np;
}

export function of_node_put(np: device_node | null): void {
  if (np) np.refcount--;
}

export function of_get_parent(np: device_node): device_node | null {
  return of_node_get(np.parent);
}

export function of_dma_is_coherent(np: device_node): boolean {
  return of_property_read_bool(np, 'dma-coherent');
}

export interface of_phandle_args { np: device_node; args: number[] }

/**
 * of_parse_phandle_with_args(np, list_name, cells_name, index): the index-th phandle of the
 * list with the argument count read from the target's cells property. Returns -ENOENT past the
 * end (as a null here), -EINVAL for a malformed list.
 */
export function of_parse_phandle_with_args(k: Kernel, np: device_node, list_name: string, cells_name: string, index: number): of_phandle_args | number | null {
  const cells = of_find_property(np, list_name)?.cells;
  if (!cells) return null;
  let i = 0;
  for (let cur = 0; i < cells.length; cur++) {
    const target = of_find_node_by_phandle(k.dt, cells[i]!);
    if (!target) return -EINVAL;
    const count = of_property_read_u32(target, cells_name);
    if (count.ret) {
      pr_err(k, null, `${np.path}: could not get ${cells_name} for ${target.path}`);
      return -EINVAL;
    }
    if (i + 1 + count.value > cells.length) return -EINVAL;
    if (cur === index) return { np: of_node_get(target)!, args: cells.slice(i + 1, i + 1 + count.value) };
    i += 1 + count.value;
  }
  return null;
}

/** `error`: what the kernel printed when it refused the map (the model's instrument) */
export interface of_map_result { ret: number; target: device_node | null; id_out: number[]; error?: string }

/**
 * of_map_id() (drivers/of/base.c): translate an input id through an `iommu-map` / `msi-map`.
 * The first matching entry wins; no map means no translation (id passes through, 0); no
 * matching entry also passes the id through and returns 0, with the target left NULL.
 * `target` non-null restricts the search to entries pointing at it.
 *
 * Mainline reads entries of 4 cells (id-base, phandle, out-base, length) and rejects any
 * other length; its one output cell is all the IOMMU gets (args_count 1), so a 4-cell map to
 * a 2-cell SMMU works. With the out-of-tree series `of-map-multi-cell` (patches.ts) an entry
 * is 3 cells plus its own target's #cells.
 */
export function of_map_id(k: Kernel, np: device_node, id: number, map_name: string, map_mask_name: string | null, target: device_node | null): of_map_result {
  const map = of_find_property(np, map_name)?.cells;
  if (!map) {
    // "no map implies no translation" unless the caller wanted a specific target
    if (target) return { ret: -ENODEV, target, id_out: [] };
    return { ret: 0, target: null, id_out: [id] };
  }
  let map_mask = 0xffffffff;
  if (map_mask_name) {
    const m = of_property_read_u32(np, map_mask_name);
    if (!m.ret) map_mask = m.value;
  }
  const scan = k.config.patches.has('of-map-multi-cell') ? of_map_scan_multi_cell : of_map_scan_mainline;
  const found = scan(k, np, map, (map_mask & id) >>> 0, map_name, map_mask_name, map_mask, target);
  if (found) return found;
  pr_info(k, null, `${np.path}: no ${map_name} translation for id 0x${id.toString(16)} on ${target?.path ?? 'any target'}`);
  return { ret: 0, target, id_out: [id] };
}

type MapScan = (k: Kernel, np: device_node, map: number[], masked_id: number, map_name: string, map_mask_name: string | null, map_mask: number, target: device_node | null) => of_map_result | null;

function refuse(k: Kernel, ret: number, error: string): of_map_result {
  pr_err(k, null, error);
  return { ret, target: null, id_out: [], error };
}

function bad_map_length(k: Kernel, np: device_node, map_name: string, cells: number): of_map_result {
  return refuse(k, -EINVAL, `${np.path}: Error: Bad ${map_name} length: ${cells * 4}`);
}

function id_base_outside_mask(k: Kernel, np: device_node, map_name: string, map_mask_name: string | null, map_mask: number, id_base: number): of_map_result | null {
  if (!((id_base & ~map_mask) >>> 0)) return null;
  return refuse(k, -EFAULT, `${np.path}: Invalid ${map_name} translation - ${map_mask_name} (0x${map_mask.toString(16)}) ignores id-base (0x${id_base.toString(16)})`);
}

function map_hit(k: Kernel, np: device_node, map_name: string, map_mask: number, id_base: number, id_len: number, masked_id: number, phandle_node: device_node, out_base: number[]): of_map_result {
  // every output cell is offset alike (id_off is 0 whenever there is more than one cell)
  const id_off = masked_id - id_base;
  const id_out = out_base.map((c) => (id_off + c) >>> 0);
  pr_info(k, null, `${np.path}: ${map_name}, using mask 0x${map_mask.toString(16)}, id-base 0x${id_base.toString(16)}, out-base 0x${(out_base[0] ?? 0).toString(16)}, length ${id_len}, id 0x${masked_id.toString(16)} -> 0x${(id_out[0] ?? 0).toString(16)}`);
  return { ret: 0, target: of_node_get(phandle_node), id_out };
}

/** Mainline: the whole length must be a multiple of 4 cells; the range is tested before the
 *  phandle is resolved. */
const of_map_scan_mainline: MapScan = (k, np, map, masked_id, map_name, map_mask_name, map_mask, target) => {
  if (map.length === 0 || map.length % 4) return bad_map_length(k, np, map_name, map.length);
  for (let i = 0; i < map.length; i += 4) {
    const id_base = map[i]!;
    const id_len = map[i + 3]!;
    const bad = id_base_outside_mask(k, np, map_name, map_mask_name, map_mask, id_base);
    if (bad) return bad;
    if (masked_id < id_base || masked_id >= id_base + id_len) continue;
    const phandle_node = of_find_node_by_phandle(k.dt, map[i + 1]!);
    if (!phandle_node) return { ret: -ENODEV, target: null, id_out: [] };
    if (target && target !== phandle_node) continue;
    return map_hit(k, np, map_name, map_mask, id_base, id_len, masked_id, phandle_node, [map[i + 2]!]);
  }
  return null;
};

/** The `of-map-multi-cell` series: each entry's size comes from its own target's #cells, so
 *  the length is checked entry by entry as the scan reaches it (a map may mix 1- and 2-cell
 *  targets, and a match before a truncated tail returns 0); id-base is checked against the
 *  mask before the phandle is resolved. */
const of_map_scan_multi_cell: MapScan = (k, np, map, masked_id, map_name, map_mask_name, map_mask, target) => {
  if (map.length === 0) return bad_map_length(k, np, map_name, 0);
  const cells_name = map_name === 'msi-map' ? '#msi-cells' : '#iommu-cells';
  for (let i = 0; i < map.length;) {
    if (map.length - i < 2) return bad_map_length(k, np, map_name, map.length);
    const id_base = map[i]!;
    const bad = id_base_outside_mask(k, np, map_name, map_mask_name, map_mask, id_base);
    if (bad) return bad;
    const phandle_node = of_find_node_by_phandle(k.dt, map[i + 1]!);
    if (!phandle_node) return { ret: -ENODEV, target: null, id_out: [] };
    const cells = of_property_read_u32(phandle_node, cells_name);
    if (cells.ret) {
      return refuse(k, -EINVAL, `${np.path}: missing ${cells_name} property on ${phandle_node.path}`);
    }
    const entry_len = 3 + cells.value;
    if (map.length - i < entry_len) return bad_map_length(k, np, map_name, map.length);
    const out_base = map.slice(i + 2, i + 2 + cells.value);
    const id_len = map[i + 2 + cells.value]!;
    i += entry_len;
    if (cells.value > 1 && id_len > 1) {
      return refuse(k, -EINVAL, `${np.path}: Unsupported ${map_name} - cannot handle ${id_len}-ID range with ${cells.value}-cell output specifier`);
    }
    if (masked_id < id_base || masked_id >= id_base + id_len) continue;
    if (target && target !== phandle_node) continue;
    return map_hit(k, np, map_name, map_mask, id_base, id_len, masked_id, phandle_node, out_base);
  }
  return null;
};
