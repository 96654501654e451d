// Reads a scenario file (scenario-format.md) into a validated Scenario, with `repeat` expanded
// and node, context and buffer names checked in step order. Everything wrong with the file is a
// ScenarioError at the line and column of the offending value; nothing else is thrown.
import { readFileSync, statSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { KernelFlow, smmu_hw_config } from '../kernel/kernel.ts';
import { DtsSyntaxError, parse_dts, type DtsMessage } from '../kernel/of/dts.ts';
import { KERNEL_PATCHES, kernel_patch } from '../kernel/patches.ts';
import { ARM_SMMU_MODEL_MAX } from '../kernel/iommu/arm-smmu.ts';
import type { device_node, device_tree, property } from '../kernel/of/node.ts';
import { is_iommu_node, wired_streams } from './truth.ts';
import { ScenarioError } from './types.ts';
import type { DmaDirection, Scenario, ScenarioNote, SourcePos, Step, StepExpect, WiredStream } from './types.ts';

const STEP_LIMIT = 1_000_000;
const STEP_LIMIT_TEXT = '1,000,000';
/** rounds that expand to no step at all (`times: 0` inside): bounded so that nesting them cannot spin */
const EMPTY_ROUND_LIMIT = 100_000;
const REPEAT_DEPTH = 32;
const ALIAS_DEPTH = 64;
const CELL_MAX = 0xffffffffn;
/** the longest scenario identifier, context or buffer name: the reports' tables show them */
const IDENT_MAX = 64;
/** the model's SMMUs decode 16-bit stream IDs (arm-smmu.ts: streamid_mask) */
const STREAMID_MASK = 0xffff;
/** the largest scenario file read: a long run is written with `repeat`, not spelled out (the
 *  YAML parser took 50 s and 2 GB for a valid file of 16 MiB) */
const FILE_LIMIT = 4 * 2 ** 20;
const U64_MAX = (1n << 64n) - 1n;
/** the model's physical (and DMA) address space: numbers below it are exact as JS numbers */
const PHYS_LIMIT = 1n << 52n;

const TOP_KEYS = ['scenario', 'summary', 'devicetree', 'defines', 'hardware', 'memory', 'kernel', 'steps'] as const;
const HW_DEFAULTS: smmu_hw_config = { context_banks: 64, stream_match_groups: 128, va_bits: 48 };
/** the most context banks and stream match groups a scenario may give an SMMU: what the model
 *  holds (ARM_SMMU_MODEL_MAX) */
const HW_MAX_ENTRIES = ARM_SMMU_MODEL_MAX;
/** ID2.UBS encodings that arm_smmu_id_size_to_bits() knows */
const VA_BITS = [32, 36, 40, 42, 44, 48];
const MEMORY_DEFAULTS = { base: 0x80000000, size: 0x100000000 };
const FLOWS: readonly KernelFlow[] = ['6.15', '6.8'];
const DIRECTIONS: readonly DmaDirection[] = ['bidirectional', 'to_device', 'from_device'];

type StepKind = Step['kind'];
const STEP_EXPECTS: Record<StepKind, readonly StepExpect[]> = {
  iommu_register: ['ok'],
  probe: ['ok', 'deferred'],
  create_context: ['ok', 'deferred', 'error'],
  destroy_context: ['ok'],
  dma_map: ['ok'],
  dma_unmap: ['ok'],
  dma: ['ok', 'fault', 'isolated'],
  remove: ['ok'],
};
const STEP_KINDS = Object.keys(STEP_EXPECTS) as StepKind[];
/** the keys a step map may have: one action and `expect` */
const STEP_KEYS: readonly string[] = [...STEP_KINDS, 'expect'];
const unknown_step = (k: string): string => `unknown step '${k}'`;
/** the keys of each map-valued step, besides `expect` */
const STEP_FIELDS = {
  create_context: ['parent', 'name', 'id', 'node', 'dma_mask'],
  dma_map: ['context', 'buffer', 'size', 'direction'],
  dma_unmap: ['context', 'buffer'],
  dma: ['context', 'sid', 'iommu', 'buffer', 'offset', 'write'],
} as const;
type MapStepKind = keyof typeof STEP_FIELDS;
/** the same, `expect` included: what the map may hold */
const STEP_FIELDS_EXPECT = {} as Record<MapStepKind, readonly string[]>;
for (const kind of Object.keys(STEP_FIELDS) as MapStepKind[]) STEP_FIELDS_EXPECT[kind] = [...STEP_FIELDS[kind], 'expect'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** what a step's own parser returns; index, rounds and pos are added by the caller */
type StepBody = DistributiveOmit<Step, 'index' | 'rounds' | 'pos' | 'expect'>;

type YNode = Scalar | YAMLMap | YAMLSeq;
/** a map entry: the key (for "unknown key" positions) and its value (null when left empty) */
interface Field { key: Scalar; value: YNode | null }
type Fields = Map<string, Field>;

/** What earlier steps left behind, for the static checks of context and buffer names. */
interface LiveContext { parent: device_node; streams: WiredStream[] }
/**
 * Buffer names are global: a `dma` may aim any context's stream at any buffer (that is how
 * isolation is tested), and it means the latest dma_map of that name, which stays on record
 * after dma_unmap so that a later `dma` can expect a fault.
 */
interface BufferRecord { ctx: LiveContext; context: string; size: number; mapped: boolean }
interface StepState {
  live: Map<string, LiveContext>;
  buffers: Map<string, BufferRecord>;
  registered: Set<device_node>;
  /** nodes a probe step bound, until a remove step unbinds them */
  probed: Set<device_node>;
  /** expanded steps so far, and rounds that expanded to nothing (both bounded) */
  count: number;
  empty_rounds: number;
}

/** Where a `dma` goes: by context (sid and IOMMU from the device tree at run time) or by explicit sid. */
interface DmaTarget { context: string | null; sid: number | null; iommu: device_node | null }

/** Maps an offset in the `devicetree` string back to a position in the YAML file. */
type DtsPosMap = (offset: number) => { line: number; col: number };

class ScenarioLoader {
  private readonly lc = new LineCounter();
  private doc!: Document.Parsed;
  /** the innermost `repeat` round while reading a step, for `{i}` */
  private round: number | null = null;
  private dt!: device_tree;
  private dts_pos!: DtsPosMap;
  private all_nodes: device_node[] = [];
  /** nodes by path and by full name, so that naming a node costs the same in any tree */
  private readonly by_path = new Map<string, device_node>();
  private readonly by_full_name = new Map<string, device_node[]>();
  private iommus: device_node[] = [];
  private readonly steps: Step[] = [];
  private readonly notes: ScenarioNote[] = [];
  /** A repeat body's maps are read once per round: their keys are checked, and their positions
   *  found, the first time only (by node, and by what the map was read as). */
  private readonly fields_seen = new WeakMap<YNode, { what: string; fields: Fields }>();
  private readonly loose_seen = new WeakMap<YNode, Fields>();
  private readonly pos_seen = new WeakMap<YNode, SourcePos>();

  constructor(private readonly file: string, private readonly text: string) {}

  load(): Scenario {
    this.doc = parseDocument(this.text, { lineCounter: this.lc, intAsBigInt: true, prettyErrors: false });
    const err = this.doc.errors[0];
    if (err) this.fail_at(err.pos[0], err.message);
    const root = this.deref(this.doc.contents);
    if (!root) this.fail_at(0, 'empty scenario file: expected the keys scenario, summary, devicetree and steps');
    const top = this.fields(root, 'the scenario', TOP_KEYS, (k) => `unknown key '${k}' at the top level`);
    const id_field = this.required(top, 'scenario', root, 'the scenario');
    const id = this.scenario_id(id_field);
    const id_pos = this.pos_of(this.at(id_field));
    const summary = this.summary(this.required(top, 'summary', root, 'the scenario'));
    const defines = this.defines(top.get('defines'));
    this.devicetree(this.required(top, 'devicetree', root, 'the scenario'), defines);
    const hardware = this.hardware(top.get('hardware'));
    const memory = this.memory(top.get('memory'));
    const kernel = this.kernel(top.get('kernel'));
    this.read_steps(this.required(top, 'steps', root, 'the scenario'));
    return { file: this.file, id, id_pos, summary, dt: this.dt, defines, hardware, memory, kernel, iommus: this.iommus, steps: this.steps, notes: this.notes };
  }

  // ---- positions and errors ----

  private fail_at(offset: number, message: string): never {
    const { line, col } = this.lc.linePos(offset);
    throw new ScenarioError(this.file, Math.max(line, 1), Math.max(col, 1), message);
  }

  private fail(node: YNode | Scalar, message: string): never {
    this.fail_at(node.range?.[0] ?? 0, message);
  }

  private fail_dts(offset: number, message: string): never {
    const { line, col } = this.dts_pos(offset);
    throw new ScenarioError(this.file, line, col, message);
  }

  private pos_of(node: YNode): SourcePos {
    let pos = this.pos_seen.get(node);
    if (!pos) {
      const { line, col } = this.lc.linePos(node.range?.[0] ?? 0);
      pos = { file: this.file, line, col };
      this.pos_seen.set(node, pos);
    }
    return pos;
  }

  // ---- reading YAML values ----

  /** Follows aliases (`*name`) to the node they stand for. */
  private deref(n: unknown): YNode | null {
    for (let i = 0; i < ALIAS_DEPTH && isAlias(n); i++) n = n.resolve(this.doc);
    return isScalar(n) || isMap(n) || isSeq(n) ? n : null;
  }

  /** The entries of a map, refusing keys not in `allowed`. */
  private fields(node: YNode, what: string, allowed: readonly string[], unknown_key?: (k: string) => string): Fields {
    const seen = this.fields_seen.get(node);
    if (seen?.what === what) return seen.fields;
    if (!isMap(node)) this.fail(node, `${what} must be a map`);
    const out: Fields = new Map();
    for (const pair of node.items) {
      const key = this.deref(pair.key);
      if (!key || !isScalar(key)) this.fail(key ?? node, `keys in ${what} must be plain names`);
      const name = String(key.value);
      if (!allowed.includes(name)) this.fail(key, unknown_key ? unknown_key(name) : `unknown key '${name}' in ${what}`);
      out.set(name, { key, value: this.deref(pair.value) });
    }
    this.fields_seen.set(node, { what, fields: out });
    return out;
  }

  private required(fields: Fields, name: string, map: YNode, what: string): Field {
    const f = fields.get(name);
    if (!f) this.fail(map, `missing required key '${name}' in ${what}`);
    return f;
  }

  /** The value node of a field, or its key when the value was left empty (for positions). */
  private at(f: Field): YNode | Scalar {
    return f.value ?? f.key;
  }

  /** An optional section given as `key:` with nothing after it reads as absent. */
  private is_empty(f: Field | undefined): boolean {
    return !f || !f.value || (isScalar(f.value) && f.value.value === null);
  }

  private subst(s: string): string {
    return this.round === null || !s.includes('{i}') ? s : s.replaceAll('{i}', String(this.round));
  }

  private str(f: Field, what: string): string {
    const v = f.value;
    if (!v || !isScalar(v) || typeof v.value !== 'string') this.fail(this.at(f), `${what} must be a string`);
    const s = this.subst(v.value);
    if (s === '') this.fail(v, `${what} must not be empty`);
    return s;
  }

  /** A name the reports show (scenario, context, buffer): a string of at most IDENT_MAX characters. */
  private ident(f: Field, what: string): string {
    const s = this.str(f, what);
    if (s.length > IDENT_MAX) this.fail(this.at(f), `${what} '${s.slice(0, 20)}...' is ${s.length} characters long; at most ${IDENT_MAX}`);
    return s;
  }

  private bool(f: Field, what: string): boolean {
    const v = f.value;
    if (!v || !isScalar(v) || typeof v.value !== 'boolean') this.fail(this.at(f), `${what} must be true or false`);
    return v.value;
  }

  /** A non-negative integer: a YAML integer, or a string holding one (`"{i}"`, `"0x10"`). */
  private integer(f: Field, what: string): bigint {
    const v = f.value;
    let x: unknown = v && isScalar(v) ? v.value : undefined;
    if (typeof x === 'string') {
      const s = this.subst(x).trim();
      if (!/^-?(0|[1-9][0-9]{0,39}|0[xX][0-9a-fA-F]{1,40})$/.test(s)) this.fail(this.at(f), `${what} must be an integer, not '${s}'`);
      x = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
    } else if (typeof x === 'number') {
      if (!Number.isInteger(x)) this.fail(this.at(f), `${what} must be an integer, not ${x}`);
      x = BigInt(x);
    }
    if (typeof x !== 'bigint') this.fail(this.at(f), `${what} must be an integer`);
    if (x < 0n) this.fail(this.at(f), `${what} must not be negative (${x})`);
    return x;
  }

  private bounded(f: Field, what: string, min: number, max: number): number {
    const x = this.integer(f, what);
    if (x < BigInt(min) || x > BigInt(max)) this.fail(this.at(f), `${what} must be in ${min}..${max} (${x})`);
    return Number(x);
  }

  /** A u32, as a device-tree cell holds (input ids, stream IDs). */
  private cell(f: Field, what: string): number {
    const x = this.integer(f, what);
    if (x > CELL_MAX) this.fail(this.at(f), `${what} 0x${x.toString(16)} is above 2^32-1 (0xffffffff), the largest cell value`);
    return Number(x);
  }

  /** A physical or DMA address or size: 64 bits in the format, below 2^52 in the model. */
  private address(f: Field, what: string): number {
    const x = this.integer(f, what);
    if (x > U64_MAX) this.fail(this.at(f), `${what} 0x${x.toString(16)} is above 2^64-1`);
    if (x >= PHYS_LIMIT) this.fail(this.at(f), `${what} 0x${x.toString(16)} is beyond the model's physical address space (2^52 bytes)`);
    return Number(x);
  }

  // ---- top-level keys ----

  private scenario_id(f: Field): string {
    const id = this.ident(f, 'scenario');
    if (!/^[a-z0-9-]+$/.test(id)) this.fail(this.at(f), `scenario '${id}' must use only a-z, 0-9 and '-'`);
    return id;
  }

  private summary(f: Field): string {
    const s = this.str(f, 'summary').trim();
    if (s === '' || s.includes('\n')) this.fail(this.at(f), 'summary must be one non-empty line');
    return s;
  }

  private defines(f: Field | undefined): Map<string, number> {
    const out = new Map<string, number>();
    if (!f || this.is_empty(f)) return out;
    const v = f.value!;
    if (!isMap(v)) this.fail(v, 'defines must be a map of macro names to integers');
    for (const pair of v.items) {
      const key = this.deref(pair.key);
      const name = key && isScalar(key) ? String(key.value) : '';
      if (!key || !isScalar(key) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(key ?? v, `'${name}' is not a macro name`);
      const f = { key, value: this.deref(pair.value) };
      const x = this.integer(f, `define ${name}`);
      if (x > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(this.at(f), `define ${name} must be below 2^53`);
      out.set(name, Number(x));
    }
    return out;
  }

  private devicetree(f: Field, defines: Map<string, number>): void {
    const v = f.value;
    if (!v || !isScalar(v) || typeof v.value !== 'string') this.fail(this.at(f), 'devicetree must be a string (a block scalar: devicetree: |)');
    const text = v.value;
    this.dts_pos = this.dts_pos_map(v, text);
    const notes: DtsMessage[] = [];
    try {
      this.dt = parse_dts(text, defines, notes);
    } catch (e) {
      if (!(e instanceof DtsSyntaxError)) throw e;
      const { line, col } = this.dts_pos(e.offset);
      const more = e.more.map((m) => ({ ...this.dts_pos(m.offset), detail: m.message }));
      throw new ScenarioError(this.file, line, col, e.message, more);
    } finally {
      for (const n of notes) this.notes.push({ file: this.file, ...this.dts_pos(n.offset), message: n.message });
    }
    this.all_nodes = preorder(this.dt.root);
    for (const n of this.all_nodes) {
      this.by_path.set(n.path, n);
      const same = this.by_full_name.get(n.full_name);
      if (same) same.push(n);
      else this.by_full_name.set(n.full_name, [n]);
    }
    this.iommus = this.all_nodes.filter(is_iommu_node);
    for (const node of this.all_nodes) this.check_node(node);
  }

  private hardware(f: Field | undefined): Map<device_node, smmu_hw_config> {
    const out = new Map<device_node, smmu_hw_config>();
    for (const node of this.iommus) out.set(node, { ...HW_DEFAULTS });
    if (!f || this.is_empty(f)) return out;
    const v = f.value!;
    if (!isMap(v)) this.fail(v, 'hardware must be a map of IOMMU labels to ID register values');
    const seen = new Set<device_node>();
    for (const pair of v.items) {
      const key = this.deref(pair.key);
      if (!key || !isScalar(key)) this.fail(key ?? v, 'keys in hardware must be IOMMU labels');
      const node = this.node_ref(String(key.value), key);
      if (!is_iommu_node(node)) this.fail(key, `hardware: ${node.path} is not an IOMMU node (no arm-smmu compatible string)`);
      if (seen.has(node)) this.fail(key, `hardware: ${node.path} is listed twice`);
      seen.add(node);
      out.set(node, this.hw_config(this.deref(pair.value), key));
    }
    return out;
  }

  private hw_config(v: YNode | null, key: Scalar): smmu_hw_config {
    const cfg = { ...HW_DEFAULTS };
    if (!v || (isScalar(v) && v.value === null)) return cfg;
    const fields = this.fields(v, `hardware ${String(key.value)}`, ['context_banks', 'stream_match_groups', 'va_bits']);
    const cb = fields.get('context_banks');
    const smr = fields.get('stream_match_groups');
    const va = fields.get('va_bits');
    // SMMUv2 reports at most 128 of each (ID0.NUMSMRG, ID1.NUMCB); the model accepts up to
    // 65,536 (every 16-bit stream ID an entry, every 16-bit ASID a bank) so that scale
    // scenarios can ask "what if" without dozens of SMMUs
    if (cb) cfg.context_banks = this.bounded(cb, 'context_banks', 1, HW_MAX_ENTRIES);
    if (smr) cfg.stream_match_groups = this.bounded(smr, 'stream_match_groups', 1, HW_MAX_ENTRIES);
    if (va) {
      cfg.va_bits = this.bounded(va, 'va_bits', 32, 48);
      if (!VA_BITS.includes(cfg.va_bits)) this.fail(this.at(va), `va_bits must be one of ${VA_BITS.join(', ')}`);
    }
    return cfg;
  }

  private memory(f: Field | undefined): { base: number; size: number } {
    if (!f || this.is_empty(f)) return { ...MEMORY_DEFAULTS };
    const fields = this.fields(f.value!, 'memory', ['base', 'size']);
    const b = fields.get('base');
    const s = fields.get('size');
    const base = b ? this.address(b, 'memory base') : MEMORY_DEFAULTS.base;
    const size = s ? this.address(s, 'memory size') : MEMORY_DEFAULTS.size;
    const at = s ?? b ?? f;
    if (size === 0) this.fail(this.at(at), 'memory size must be > 0');
    if (BigInt(base) + BigInt(size) > PHYS_LIMIT) this.fail(this.at(at), "memory ends beyond the model's physical address space (2^52 bytes)");
    return { base, size };
  }

  private kernel(f: Field | undefined): Scenario['kernel'] {
    const out: Scenario['kernel'] = { flow: '6.15', bypass_unmatched_streams: false, patches: [] };
    if (!f || this.is_empty(f)) return out;
    const fields = this.fields(f.value!, 'kernel', ['flow', 'bypass_unmatched_streams', 'patches']);
    const flow = fields.get('flow');
    const bypass = fields.get('bypass_unmatched_streams');
    const patches = fields.get('patches');
    if (flow) out.flow = this.flow(flow);
    if (bypass) out.bypass_unmatched_streams = this.bool(bypass, 'bypass_unmatched_streams');
    if (patches) out.patches = this.patches(patches);
    return out;
  }

  /** Out-of-tree series by id (harness/kernel/patches.ts), each at most once. */
  private patches(f: Field): string[] {
    const v = f.value;
    if (!v || !isSeq(v)) this.fail(this.at(f), 'kernel patches must be a list of series ids');
    const out: string[] = [];
    for (const item of v.items) {
      const n = this.deref(item);
      if (!n || !isScalar(n) || typeof n.value !== 'string') this.fail(n ?? v, 'a kernel patch must be a series id (a string)');
      const id = n.value;
      if (!kernel_patch(id)) this.fail(n, `unknown kernel patch '${id}' (known: ${KERNEL_PATCHES.map((p) => p.id).join(', ')})`);
      if (out.includes(id)) this.fail(n, `kernel patch '${id}' listed twice`);
      out.push(id);
    }
    return out;
  }

  /** "6.15" or "6.8"; unquoted, YAML reads them as the numbers 6.15 and 6.8, which mean the same. */
  private flow(f: Field): KernelFlow {
    const v = f.value;
    const raw = v && isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number') ? String(v.value) : '';
    const flow = FLOWS.find((x) => x === raw);
    if (!flow) this.fail(this.at(f), `kernel flow must be "6.15" or "6.8"`);
    return flow;
  }

  // ---- the device tree ----

  /**
   * For a literal block (`|`), value line k is file line header+1+k with the block's indentation
   * removed, so the mapping is exact. Other scalar styles fold or escape their text; for them each
   * character is matched forward in the source, which is exact wherever the text is unchanged.
   */
  private dts_pos_map(node: Scalar, value: string): DtsPosMap {
    const start = node.range?.[0] ?? 0;
    const end = node.range?.[1] ?? this.text.length;
    // past the last character (an error at end of input), point just after it
    const clamp = (o: number) => Math.min(o, value.trimEnd().length);
    if (node.type === 'BLOCK_LITERAL') {
      const header = this.lc.linePos(start).line;
      const indent = literal_indent(this.text.split(/\r?\n/), header, value.split('\n'));
      return (offset) => {
        const o = clamp(offset);
        const before = value.slice(0, o);
        const nl = before.lastIndexOf('\n');
        return { line: header + 1 + count_newlines(before), col: indent + o - nl };
      };
    }
    const from = node.type === 'BLOCK_FOLDED' ? this.lc.lineStarts[this.lc.linePos(start).line] ?? start : start;
    return (offset) => this.lc.linePos(align_forward(this.text, from, end, value, clamp(offset)) ?? start);
  }

  /** The loader's own checks of iommus / iommu-map, which the parser cannot know about. */
  private check_node(node: device_node): void {
    const cells = node.properties.get('#iommu-cells');
    if (cells && cells.cells?.length !== 1) this.fail_dts(cells.pos, '#iommu-cells must be a single cell');
    const mask = node.properties.get('iommu-map-mask');
    if (mask && mask.cells?.length !== 1) this.fail_dts(mask.pos, 'iommu-map-mask must be a single cell');
    const iommus = node.properties.get('iommus');
    if (iommus) this.check_iommus(iommus);
    const map = node.properties.get('iommu-map');
    if (map) this.check_iommu_map(map);
  }

  /** The #iommu-cells of the node a phandle cell points at, or an error at that cell. */
  private iommu_cells_at(prop: property, i: number, entry: number): number {
    const ph = prop.cells![i]!;
    const target = this.dt.phandles.get(ph);
    if (!target) this.fail_dts(prop.cellPos[i]!, `${prop.name} entry ${entry}: phandle ${ph} points at no node`);
    const n = target.properties.get('#iommu-cells')?.cells?.[0];
    if (n === undefined) this.fail_dts(prop.cellPos[i]!, `${prop.name} entry ${entry}: ${target.path} has no #iommu-cells`);
    return n;
  }

  private check_iommus(prop: property): void {
    const cells = prop.cells;
    if (!cells) this.fail_dts(prop.pos, 'iommus must be a cell list');
    for (let i = 0, k = 1; i < cells.length; k++) {
      const n = this.iommu_cells_at(prop, i, k);
      if (i + 1 + n > cells.length) this.fail_dts(prop.cellPos[i]!, `iommus entry ${k}: ${n} specifier cells expected after the phandle, found ${cells.length - i - 1}`);
      i += 1 + n;
    }
  }

  /** Entries of 3 + the target's #iommu-cells cells, as the multi-cell of_map_id reads them. */
  private check_iommu_map(prop: property): void {
    const cells = prop.cells;
    if (!cells) this.fail_dts(prop.pos, 'iommu-map must be a cell list');
    if (cells.length === 0) this.fail_dts(prop.pos, 'iommu-map is empty');
    let size = 4;
    for (let i = 0, k = 1; i < cells.length; k++) {
      const short = `iommu-map: length ${cells.length} is not a multiple of the entry size`;
      if (i + 1 >= cells.length) this.fail_dts(prop.cellPos[i]!, `${short} ${size}`);
      size = 3 + this.iommu_cells_at(prop, i + 1, k);
      if (i + size > cells.length) this.fail_dts(prop.cellPos[i]!, `${short} ${size}`);
      if (cells[i + size - 1] === 0) this.fail_dts(prop.cellPos[i + size - 1]!, `iommu-map entry ${k}: length must be > 0`);
      i += size;
    }
  }

  /** A node named by label, by full_name where unique, or by full path. */
  private node_ref(ref: string, at: YNode | Scalar): device_node {
    if (ref.startsWith('/')) {
      const node = this.by_path.get(ref);
      if (!node) this.fail(at, `unknown node path '${ref}'`);
      return node;
    }
    const found = new Set<device_node>(this.by_full_name.get(ref) ?? []);
    const labelled = this.dt.labels.get(ref);
    if (labelled) found.add(labelled);
    if (found.size === 0) this.fail(at, `unknown node '${ref}' (not a label, node name or path)`);
    if (found.size > 1) this.fail(at, `node '${ref}' is ambiguous (${[...found].map((n) => n.path).join(', ')}): use a label or the full path`);
    return [...found][0]!;
  }

  private node_field(f: Field, what: string): device_node {
    return this.node_ref(this.str(f, what), this.at(f));
  }

  /** A node the kernel would have populated: of_platform_populate() skips a node that is not
   *  available (of_device_is_available(): status absent, "okay" or "ok"), and with it its
   *  children, so no driver can bind to it. */
  private available_node(f: Field, what: string): device_node {
    const node = this.node_field(f, what);
    for (let n: device_node | null = node; n !== null; n = n.parent) {
      const status = n.properties.get('status')?.strings?.[0];
      if (status === undefined || status === 'okay' || status === 'ok') continue;
      const whose = n === node ? 'it has' : `its ancestor ${n.path} has`;
      this.fail(this.at(f), `${node.path} is not populated: ${whose} status = "${status}" (set status = "okay" as a board .dts does)`);
    }
    return node;
  }

  // ---- steps: expansion ----

  private read_steps(f: Field): void {
    const v = f.value;
    if (!v || !isSeq(v)) this.fail(this.at(f), 'steps must be a list');
    const state: StepState = { live: new Map(), buffers: new Map(), registered: new Set(), probed: new Set(), count: 0, empty_rounds: 0 };
    this.expand(v, [], null, state);
    this.round = null;
  }

  /** Walks a step list, expanding `repeat` in place; `blame` is the innermost repeat, for the limit. */
  private expand(seq: YAMLSeq, rounds: number[], blame: YAMLMap | null, state: StepState): void {
    for (const item of seq.items) {
      const node = this.deref(item);
      if (!node || !isMap(node)) this.fail(node ?? seq, 'a step must be a map: { action: ... }');
      if (node.has('repeat')) this.repeat(node, rounds, state);
      else this.leaf(node, rounds, blame, state);
    }
  }

  private repeat(step: YAMLMap, rounds: number[], state: StepState): void {
    if (rounds.length >= REPEAT_DEPTH) this.fail(step, `repeat nested more than ${REPEAT_DEPTH} deep`);
    const outer = this.fields(step, 'a repeat step', ['repeat'], (k) => `'${k}' is not allowed beside repeat`);
    const rep = outer.get('repeat')!;
    if (!rep.value) this.fail(rep.key, 'repeat must be a map: { times, steps }');
    const fields = this.fields(rep.value, 'repeat', ['times', 'steps']);
    this.round = rounds.at(-1) ?? null; // `times` may use the enclosing round
    const times = this.integer(this.required(fields, 'times', rep.value, 'repeat'), 'repeat times');
    const body = this.required(fields, 'steps', rep.value, 'repeat');
    if (!body.value || !isSeq(body.value) || body.value.items.length === 0) this.fail(this.at(body), 'repeat steps must be a non-empty list');
    const too_many = `repeat expands the scenario to more than ${STEP_LIMIT_TEXT} steps`;
    if (times > BigInt(STEP_LIMIT)) this.fail(step, too_many);
    for (let r = 0; r < Number(times); r++) {
      const before = state.count;
      this.expand(body.value, [...rounds, r], step, state);
      const size = state.count - before;
      if (r === 0 && before + Number(times) * size > STEP_LIMIT) this.fail(step, too_many);
      if (size === 0 && ++state.empty_rounds > EMPTY_ROUND_LIMIT) this.fail(step, 'repeat runs more than 100,000 rounds that produce no step');
    }
  }

  // ---- steps: one expanded step ----

  private leaf(map: YAMLMap, rounds: number[], blame: YAMLMap | null, state: StepState): void {
    if (++state.count > STEP_LIMIT) this.fail(blame ?? map, `more than ${STEP_LIMIT_TEXT} steps`);
    this.round = rounds.at(-1) ?? null;
    const fields = this.fields(map, 'a step', STEP_KEYS, unknown_step);
    let kind: StepKind | null = null;
    for (const k of fields.keys()) {
      if (k === 'expect') continue;
      if (kind) this.fail(fields.get(k)!.key, `a step has one action: found '${kind}' and '${k}'`);
      kind = k as StepKind;
    }
    if (!kind) this.fail(map, `a step needs an action (${STEP_KINDS.join(', ')})`);
    const action = fields.get(kind)!;
    const expect = this.expect(kind, fields.get('expect'), action);
    const body = this.step_body(kind, action, expect, state);
    // Object.assign onto the fresh body: a spread of the step union is four times slower
    this.steps.push(Object.assign(body, { index: this.steps.length + 1, rounds, pos: this.pos_of(map), expect }));
  }

  /** `expect` beside the action, or inside the action's map; `ok` when absent. */
  private expect(kind: StepKind, outer: Field | undefined, action: Field): StepExpect {
    const inner = action.value && isMap(action.value) ? this.fields_loose(action.value).get('expect') : undefined;
    if (outer && inner) this.fail(inner.key, 'expect given twice');
    const f = outer ?? inner;
    if (!f) return 'ok';
    const allowed = STEP_EXPECTS[kind];
    const v = f.value;
    const value = v && isScalar(v) && typeof v.value === 'string' ? this.subst(v.value) : '';
    const found = allowed.find((x) => x === value);
    if (!found) this.fail(this.at(f), `expect '${value}' is not allowed for a ${kind} step (${allowed.join(' | ')})`);
    return found;
  }

  /** A map's entries without key checks (the step's own parser checks them). */
  private fields_loose(map: YAMLMap): Fields {
    const seen = this.loose_seen.get(map);
    if (seen) return seen;
    const out: Fields = new Map();
    for (const pair of map.items) {
      const key = this.deref(pair.key);
      if (key && isScalar(key)) out.set(String(key.value), { key, value: this.deref(pair.value) });
    }
    this.loose_seen.set(map, out);
    return out;
  }

  private step_body(kind: StepKind, f: Field, expect: StepExpect, state: StepState): StepBody {
    switch (kind) {
      case 'iommu_register': return this.iommu_register(f, state);
      case 'probe': {
        const node = this.available_node(f, 'probe');
        state.probed.add(node);
        return { kind, node };
      }
      case 'remove': return this.remove(f, state);
      case 'destroy_context': return this.destroy_context(f, state);
      case 'create_context': return this.create_context(f, expect, state);
      case 'dma_map': return this.dma_map(f, state);
      case 'dma_unmap': return this.dma_unmap(f, state);
      case 'dma': return this.dma(f, state);
    }
  }

  /** The fields of a map-valued step; `expect` is read separately. */
  private step_fields(f: Field, kind: MapStepKind): { map: YNode; fields: Fields } {
    if (!f.value || !isMap(f.value)) this.fail(this.at(f), `${kind} takes a map: { ${STEP_FIELDS[kind].join(', ')} }`);
    return { map: f.value, fields: this.fields(f.value, `${kind} step`, STEP_FIELDS_EXPECT[kind]) };
  }

  private iommu_register(f: Field, state: StepState): StepBody {
    const iommu = this.node_field(f, 'iommu_register');
    if (!is_iommu_node(iommu)) this.fail(this.at(f), `iommu_register: ${iommu.path} is not an IOMMU node (no arm-smmu compatible string)`);
    if (state.registered.has(iommu)) this.fail(this.at(f), `iommu_register: ${iommu.path} is already registered`);
    state.registered.add(iommu);
    return { kind: 'iommu_register', iommu };
  }

  private remove(f: Field, state: StepState): StepBody {
    const node = this.node_field(f, 'remove');
    if (!state.probed.has(node)) this.fail(this.at(f), `remove: ${node.path} is not probed (no probe step for it since it was last removed)`);
    state.probed.delete(node);
    // the driver destroys its remaining contexts on unbind
    for (const [name, ctx] of state.live) if (ctx.parent === node) state.live.delete(name);
    return { kind: 'remove', node };
  }

  private live_context(f: Field, state: StepState): { name: string; ctx: LiveContext } {
    const name = this.ident(f, 'context');
    const ctx = state.live.get(name);
    if (!ctx) this.fail(this.at(f), `unknown context '${name}': no earlier create_context made it (or it was destroyed)`);
    return { name, ctx };
  }

  private destroy_context(f: Field, state: StepState): StepBody {
    const { name } = this.live_context(f, state);
    state.live.delete(name);
    return { kind: 'destroy_context', context: name };
  }

  private create_context(f: Field, expect: StepExpect, state: StepState): StepBody {
    const { map, fields } = this.step_fields(f, 'create_context');
    const parent = this.node_field(this.required(fields, 'parent', map, 'create_context step'), 'parent');
    const name_f = this.required(fields, 'name', map, 'create_context step');
    const name = this.ident(name_f, 'name');
    const id_f = fields.get('id');
    const node_f = fields.get('node');
    if (id_f && node_f) this.fail(node_f.key, 'create_context takes id or node, not both');
    if (!id_f && !node_f) this.fail(map, 'create_context needs id (through the iommu-map) or node (a child with iommus)');
    const id = id_f ? this.cell(id_f, 'id') : null;
    const node = node_f ? this.node_field(node_f, 'node') : null;
    if (node && node.parent !== parent) this.fail(this.at(node_f!), `node ${node.path} is not a child of ${parent.path}`);
    const mask_f = fields.get('dma_mask');
    const dma_mask_bits = mask_f ? this.bounded(mask_f, 'dma_mask', 1, 64) : 32;
    if (state.live.has(name)) this.fail(this.at(name_f), `context '${name}' already exists`);
    // a context expected to fail never exists for later steps
    if (expect === 'ok') {
      const streams = wired_streams(this.dt, parent, node ? { node } : { id: id! });
      state.live.set(name, { parent, streams });
    }
    return { kind: 'create_context', parent, name, id, node, dma_mask_bits };
  }

  private dma_map(f: Field, state: StepState): StepBody {
    const { map, fields } = this.step_fields(f, 'dma_map');
    const { name, ctx } = this.live_context(this.required(fields, 'context', map, 'dma_map step'), state);
    const buffer_f = this.required(fields, 'buffer', map, 'dma_map step');
    const buffer = this.ident(buffer_f, 'buffer');
    const size_f = this.required(fields, 'size', map, 'dma_map step');
    const size = this.address(size_f, 'size');
    if (size === 0) this.fail(this.at(size_f), 'size must be > 0 (a byte count)');
    const dir_f = fields.get('direction');
    const direction = dir_f ? this.direction(dir_f) : 'bidirectional';
    const prev = state.buffers.get(buffer);
    if (prev && is_mapped(prev, state)) this.fail(this.at(buffer_f), `buffer '${buffer}' is already mapped (on context '${prev.context}')`);
    state.buffers.set(buffer, { ctx, context: name, size, mapped: true });
    return { kind: 'dma_map', context: name, buffer, size, direction };
  }

  private direction(f: Field): DmaDirection {
    const s = this.str(f, 'direction');
    const d = DIRECTIONS.find((x) => x === s);
    if (!d) this.fail(this.at(f), `direction must be ${DIRECTIONS.join(', ')}`);
    return d;
  }

  private dma_unmap(f: Field, state: StepState): StepBody {
    const { map, fields } = this.step_fields(f, 'dma_unmap');
    const { name, ctx } = this.live_context(this.required(fields, 'context', map, 'dma_unmap step'), state);
    const buffer_f = this.required(fields, 'buffer', map, 'dma_unmap step');
    const buffer = this.ident(buffer_f, 'buffer');
    const rec = state.buffers.get(buffer);
    if (!rec || !is_mapped(rec, state) || rec.ctx !== ctx) this.fail(this.at(buffer_f), `buffer '${buffer}' is not mapped on context '${name}'`);
    rec.mapped = false;
    return { kind: 'dma_unmap', context: name, buffer };
  }

  private dma(f: Field, state: StepState): StepBody {
    const { map, fields } = this.step_fields(f, 'dma');
    const ctx_f = fields.get('context');
    const sid_f = fields.get('sid');
    const iommu_f = fields.get('iommu');
    if (ctx_f && sid_f) this.fail(sid_f.key, 'dma takes context or sid, not both');
    if (!ctx_f && !sid_f) this.fail(map, 'dma needs context or sid');
    if (ctx_f && iommu_f) this.fail(iommu_f.key, "iommu goes with sid; a context's IOMMU comes from the device tree");
    const buffer_f = this.required(fields, 'buffer', map, 'dma step');
    const buffer = this.ident(buffer_f, 'buffer');
    const target = ctx_f ? this.dma_by_context(ctx_f, state) : this.dma_by_sid(sid_f!, iommu_f, map);
    const rec = state.buffers.get(buffer);
    if (!rec) this.fail(this.at(buffer_f), `unknown buffer '${buffer}': no earlier dma_map made it`);
    const offset_f = fields.get('offset');
    const offset = offset_f ? this.address(offset_f, 'offset') : 0;
    if (offset_f && offset >= rec.size) this.fail(this.at(offset_f), `offset 0x${offset.toString(16)} is beyond buffer '${buffer}' (0x${rec.size.toString(16)} bytes)`);
    const write_f = fields.get('write');
    const write = write_f ? this.bool(write_f, 'write') : false;
    return { kind: 'dma', context: target.context, sid: target.sid, iommu: target.iommu, buffer, offset, write };
  }

  private dma_by_context(ctx_f: Field, state: StepState): DmaTarget {
    const { name, ctx } = this.live_context(ctx_f, state);
    const first = ctx.streams[0];
    if (!first) this.fail(this.at(ctx_f), `context ${name}: the device tree wires no stream ID to it; give sid`);
    if (!this.iommus.includes(first.iommu)) this.fail(this.at(ctx_f), `context ${name}: its stream goes to ${first.iommu.path}, which is not an arm-smmu IOMMU node`);
    return { context: name, sid: null, iommu: null };
  }

  private dma_by_sid(sid_f: Field, iommu_f: Field | undefined, map: YNode): DmaTarget {
    const sid = this.cell(sid_f, 'sid');
    if (sid & ~STREAMID_MASK) this.fail(this.at(sid_f), `sid 0x${sid.toString(16)} is beyond the SMMU's stream IDs (streamid_mask 0x${STREAMID_MASK.toString(16)})`);
    let iommu: device_node;
    if (iommu_f) {
      iommu = this.node_field(iommu_f, 'iommu');
      if (!is_iommu_node(iommu)) this.fail(this.at(iommu_f), `iommu: ${iommu.path} is not an IOMMU node (no arm-smmu compatible string)`);
    } else {
      if (this.iommus.length !== 1) this.fail(map, `dma with sid needs iommu: the system has ${this.iommus.length} IOMMU nodes`);
      iommu = this.iommus[0]!;
    }
    return { context: null, sid, iommu };
  }
}

/** Mapped and not torn down since: destroying or removing its context ends a mapping too. */
function is_mapped(rec: BufferRecord, state: StepState): boolean {
  return rec.mapped && state.live.get(rec.context) === rec.ctx;
}

function preorder(root: device_node): device_node[] {
  const out: device_node[] = [];
  const walk = (n: device_node) => {
    out.push(n);
    n.children.forEach(walk);
  };
  walk(root);
  return out;
}

function count_newlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** A literal block's indentation: how much longer a source line is than its value line. */
function literal_indent(src_lines: string[], header: number, value_lines: string[]): number {
  for (let k = 0; k < value_lines.length; k++) {
    const v = value_lines[k]!;
    const src = src_lines[header + k]; // header is 1-based, so this is line header+1+k
    if (v !== '' && src !== undefined) return src.length - v.length;
  }
  return 0;
}

/** The source offset of value[target], matching value characters forward from `from`. */
function align_forward(src: string, from: number, end: number, value: string, target: number): number | null {
  let s = from;
  for (let v = 0; v <= target && v < value.length; v++) {
    while (s < end && src[s] !== value[v]) s++;
    if (s >= end) return null;
    if (v === target) return s;
    s++;
  }
  return s < end ? s : null;
}

/** Parses and validates a scenario file's text; throws only ScenarioError. */
export function load_scenario(file: string, text: string): Scenario {
  return new ScenarioLoader(file, text).load();
}

/** A scenario file's text; an unreadable, oversized or non-UTF-8 file is a ScenarioError. */
export function read_scenario_file(path: string): string {
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    if (size > FILE_LIMIT) throw new ScenarioError(path, 1, 1, `the file is ${(size / 2 ** 20).toFixed(1)} MiB; a scenario file may be at most ${FILE_LIMIT / 2 ** 20} MiB (write long runs with repeat)`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioError(path, 1, 1, code === 'EISDIR' ? 'a directory, not a scenario file' : `cannot read the file: ${e instanceof Error ? e.message : String(e)}`);
  }
  return utf8_text(path, bytes);
}

/** The text of a UTF-8 file; another encoding is an error at its first byte that is not text. */
export function utf8_text(path: string, bytes: Buffer): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new ScenarioError(path, 1, 1, 'the file is UTF-16 (it starts with a byte-order mark); scenario files are UTF-8');
  }
  const bad = first_non_utf8(bytes);
  if (bad < 0) return bytes.toString('utf8');
  const before = bytes.subarray(0, bad).toString('utf8');
  const line = count_newlines(before) + 1;
  const col = before.length - before.lastIndexOf('\n');
  const what = bytes[bad] === 0 ? 'a NUL byte' : `the byte 0x${bytes[bad]!.toString(16)}, which is not UTF-8`;
  throw new ScenarioError(path, line, col, `${what}: scenario files are UTF-8 text (is it UTF-16 or Latin-1?)`);
}

/** The offset of the first byte that is NUL or not part of a well-formed UTF-8 sequence, or -1. */
function first_non_utf8(b: Buffer): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c === 0) return i;
    if (c < 0x80) { i++; continue; }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    // overlong three- and four-byte forms, surrogates and code points above U+10FFFF
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

/** Reads and loads a scenario file. */
export function load_scenario_file(path: string): Scenario {
  return load_scenario(path, read_scenario_file(path));
}
