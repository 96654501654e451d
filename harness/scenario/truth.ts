// The ground truth: which stream IDs the device tree wires to a context, read straight from the
// tree. This is deliberately a separate, plain reading (it shares no code with the kernel
// model's of_map_id / of_iommu_configure), so that a fault in the model cannot hide itself.
import type { device_node, device_tree } from '../kernel/of/node.ts';
import type { WiredStream } from './types.ts';

/** Compatible strings that Linux's arm-smmu driver matches (arm_smmu_of_match). */
const ARM_SMMU_COMPATIBLES: ReadonlySet<string> = new Set([
  'arm,smmu-v1', 'arm,smmu-v2', 'arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500',
  'cavium,smmu-v2', 'nvidia,smmu-500', 'qcom,smmu-v2', 'qcom,smmu-500',
]);

export function is_iommu_node(node: device_node): boolean {
  const compatible = node.properties.get('compatible')?.strings ?? [];
  return compatible.some((c) => ARM_SMMU_COMPATIBLES.has(c));
}

/** The single cell of a one-cell property, or undefined. */
function single_cell(node: device_node, name: string): number | undefined {
  const cells = node.properties.get(name)?.cells;
  return cells && cells.length === 1 ? cells[0] : undefined;
}

/** The DT spec's status rule: absent, "okay" or "ok" means the device is there. */
function is_available(node: device_node): boolean {
  const status = node.properties.get('status')?.strings?.[0];
  return status === undefined || status === 'okay' || status === 'ok';
}

/**
 * One specifier (the cells after the phandle) as the SMMU reads it: the first cell is the
 * stream ID; the mask is the second cell with two cells, else the SMMU's stream-match-mask.
 */
function stream_of(iommu: device_node, spec: number[]): WiredStream | null {
  const sid = spec[0];
  if (sid === undefined) return null;
  const mask = spec.length >= 2 ? spec[1]! : single_cell(iommu, 'stream-match-mask') ?? 0;
  return { iommu, sid, mask };
}

/** A context given by a child node: every (phandle, specifier) entry of its own `iommus`. */
function streams_of_iommus(dt: device_tree, node: device_node): WiredStream[] {
  const cells = node.properties.get('iommus')?.cells ?? [];
  const out: WiredStream[] = [];
  let i = 0;
  while (i < cells.length) {
    const iommu = dt.phandles.get(cells[i]!);
    const n = iommu && single_cell(iommu, '#iommu-cells');
    if (!iommu || n === undefined || i + 1 + n > cells.length) return []; // malformed: the loader rejects it
    const stream = stream_of(iommu, cells.slice(i + 1, i + 1 + n));
    // a disabled IOMMU is not there: nothing is wired through it
    if (stream && is_available(iommu)) out.push(stream);
    i += 1 + n;
  }
  return out;
}

/**
 * A context given by an input id: the parent's `iommu-map`, entries of (id-base, phandle,
 * specifier cells..., length). As in mainline, the id is masked by `iommu-map-mask` and the
 * first entry that covers it wins; later entries for the same id are ignored.
 */
function streams_of_iommu_map(dt: device_tree, parent: device_node, id: number): WiredStream[] {
  const cells = parent.properties.get('iommu-map')?.cells ?? [];
  const mask = single_cell(parent, 'iommu-map-mask') ?? 0xffffffff;
  const masked = (id & mask) >>> 0;
  let i = 0;
  while (i < cells.length) {
    const iommu = dt.phandles.get(cells[i + 1] ?? 0);
    const n = iommu && single_cell(iommu, '#iommu-cells');
    if (!iommu || n === undefined || i + 3 + n > cells.length) return []; // malformed: the loader rejects it
    const base = cells[i]!;
    const length = cells[i + 2 + n]!;
    if (base <= masked && masked < base + length) {
      if (!is_available(iommu)) return [];
      const spec = cells.slice(i + 2, i + 2 + n);
      const stream = stream_of(iommu, spec);
      // the output id is u32 arithmetic, as in the C
      return stream ? [{ ...stream, sid: (masked - base + stream.sid) >>> 0 }] : [];
    }
    i += 3 + n;
  }
  return [];
}

/** The streams the device tree wires to a context of `parent`, given by input id or by child node. */
export function wired_streams(scn_dt: device_tree, parent: device_node, ctx: { id: number } | { node: device_node }): WiredStream[] {
  if ('node' in ctx) return streams_of_iommus(scn_dt, ctx.node);
  return streams_of_iommu_map(scn_dt, parent, ctx.id);
}
