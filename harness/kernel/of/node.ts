// include/linux/of.h: struct device_node and struct property, as the DTS parser (dts.ts)
// builds them. A property keeps its value already decoded: a cell list (phandle references
// resolved to phandle numbers, as dtc does) or a string list; a boolean property has neither.
// Offsets into the DTS text are kept so that the scenario loader can point at a bad value.

export interface property {
  name: string;
  /** u32 cells, in order, across all `<...>` groups of the property; null for a string property */
  cells: number[] | null;
  /** strings of a string or string-list property; null for a cell property */
  strings: string[] | null;
  /** offset in the DTS text of the property name */
  pos: number;
  /** offset in the DTS text of each cell (same length as cells) */
  cellPos: number[];
}

export interface device_node {
  /** node name without the unit address: "video-codec" */
  name: string;
  /** node name with the unit address: "video-codec@aa00000" ("" for the root) */
  full_name: string;
  /** "/soc/video-codec@aa00000" ("/" for the root) */
  path: string;
  labels: string[];
  /** 0 when nothing refers to the node (dtc gives phandles only to referenced nodes) */
  phandle: number;
  parent: device_node | null;
  children: device_node[];
  properties: Map<string, property>;
  /** offset in the DTS text of the node's name */
  pos: number;
  /** of_node_get / of_node_put balance (the kobject refcount, simplified) */
  refcount: number;
}

/** The parsed tree: what the kernel unflattens from the FDT at boot (drivers/of/fdt.c). */
export interface device_tree {
  root: device_node;
  /** phandle -> node */
  phandles: Map<number, device_node>;
  /** label -> node */
  labels: Map<string, device_node>;
}
