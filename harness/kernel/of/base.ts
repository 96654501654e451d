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

export interface of_map_result { ret: number; target: device_node | null; id_out: number[] }

/**
 * of_map_id() (drivers/of/base.c), with the multi-cell entries of the 2025-26 series "of: parsing
 * of multi #{iommu,msi}-cells in maps": an entry is (id-base, phandle, #cells specifier cells,
 * length). The first matching entry wins; no map means no translation (id passes through, 0);
 * no matching entry also passes the id through and returns 0, with the target left NULL.
 * `target` non-null restricts the search to entries pointing at it (callers that fix the target).
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
  if (map.length === 0) {
    pr_err(k, null, `${np.path}: Error: Bad ${map_name} length: 0`);
    return { ret: -EINVAL, target: null, id_out: [] };
  }
  const masked_id = (map_mask & id) >>> 0;
  const cells_name = map_name === 'msi-map' ? '#msi-cells' : '#iommu-cells';
  const bad_length = (): of_map_result => {
    pr_err(k, null, `${np.path}: Error: Bad ${map_name} length: ${map.length * 4}`);
    return { ret: -EINVAL, target: null, id_out: [] };
  };
  // As the series' C: each entry's size comes from its own target's #cells, so the length is
  // checked entry by entry as the scan reaches it (a map may mix 1- and 2-cell targets, and a
  // match before a truncated tail returns 0); id-base is checked against the mask before the
  // phandle is resolved.
  for (let i = 0; i < map.length;) {
    if (map.length - i < 2) return bad_length();
    const id_base = map[i]!;
    if ((id_base & ~map_mask) >>> 0) {
      pr_err(k, null, `${np.path}: Invalid ${map_name} translation - ${map_mask_name} (0x${map_mask.toString(16)}) ignores id-base (0x${id_base.toString(16)})`);
      return { ret: -EFAULT, target: null, id_out: [] };
    }
    const phandle_node = of_find_node_by_phandle(k.dt, map[i + 1]!);
    if (!phandle_node) return { ret: -ENODEV, target: null, id_out: [] };
    const cells = of_property_read_u32(phandle_node, cells_name);
    if (cells.ret) {
      pr_err(k, null, `${np.path}: missing ${cells_name} property on ${phandle_node.path}`);
      return { ret: -EINVAL, target: null, id_out: [] };
    }
    const entry_len = 3 + cells.value;
    if (map.length - i < entry_len) return bad_length();
    const out_base = map.slice(i + 2, i + 2 + cells.value);
    const id_len = map[i + 2 + cells.value]!;
    i += entry_len;
    if (cells.value > 1 && id_len > 1) {
      pr_err(k, null, `${np.path}: Unsupported ${map_name} - cannot handle ${id_len}-ID range with ${cells.value}-cell output specifier`);
      return { ret: -EINVAL, target: null, id_out: [] };
    }
    if (masked_id < id_base || masked_id >= id_base + id_len) continue;
    if (target && target !== phandle_node) continue;
    // "arg->args[i] = id_off + be32_to_cpu(out_base[i])" for every output cell (id_off is 0
    // whenever there is more than one cell, by the range check above; no cell for #cells = 0)
    const id_off = masked_id - id_base;
    const id_out = out_base.map((c) => (id_off + c) >>> 0);
    pr_info(k, null, `${np.path}: ${map_name}, using mask 0x${map_mask.toString(16)}, id-base 0x${id_base.toString(16)}, out-base 0x${(out_base[0] ?? 0).toString(16)}, length ${id_len}, id 0x${masked_id.toString(16)} -> 0x${(id_out[0] ?? 0).toString(16)}`);
    return { ret: 0, target: of_node_get(phandle_node), id_out };
  }
  pr_info(k, null, `${np.path}: no ${map_name} translation for id 0x${id.toString(16)} on ${target?.path ?? 'any target'}`);
  return { ret: 0, target, id_out: [id] };
}
