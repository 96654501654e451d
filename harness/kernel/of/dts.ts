// A parser for the DTS subset of scenario-format.md, building the tree that the kernel would
// unflatten from the FDT (drivers/of/fdt.c). It does what dtc does for that subset: labels,
// phandles given only to referenced nodes, cell lists with `&label`, macros and parenthesised
// integer expressions. Every error is a DtsSyntaxError carrying an offset into the text, so the
// scenario loader can point at the offending character in the YAML file.
//
// A node pasted from a .dtsi names clocks, interrupts, interconnects and the like through
// macros of dt-bindings headers and labels of nodes that were not pasted. The model never
// reads those properties, so there such names are kept opaque (the cell reads as 0), as the
// kernel would leave them to drivers the model does not have. In a property the model reads
// (MODEL_READS), an unknown name is an error. Errors that do not stop the parse are gathered,
// up to MAX_ERRORS, so that one run reports them all; `#include` lines are skipped with a note.
import type { device_node, device_tree, property } from './node.ts';

/** One problem or note at an offset of the text. */
export interface DtsMessage { offset: number; message: string }

export class DtsSyntaxError extends Error {
  /** the further errors of the same text, in order, after this one */
  readonly more: DtsMessage[];
  constructor(readonly offset: number, message: string, more: DtsMessage[] = []) {
    super(message);
    this.name = 'DtsSyntaxError';
    this.more = more;
  }
}

/** The properties whose values the model reads (harness/kernel/of, iommu/of_iommu.ts,
 *  iommu/arm-smmu.ts and the ground truth in harness/scenario/truth.ts): a macro or label in
 *  them must be known. dts.test.ts holds this list to the names the model's code reads. */
export const MODEL_READS: ReadonlySet<string> = new Set([
  'compatible', 'status', 'iommus', 'iommu-map', 'iommu-map-mask', '#iommu-cells',
  'msi-map', 'msi-map-mask', '#msi-cells', 'dma-ranges', 'dma-coherent', 'stream-match-mask',
  '#address-cells', '#size-cells',
]);

/** The most errors reported for one device tree. */
export const MAX_ERRORS = 20;

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name nearest to `name`, when it is near enough to be a slip of the keyboard. */
export function nearest(name: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let best_d = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name, k);
    if (d < best_d) { best = k; best_d = d; }
  }
  return best;
}

function did_you_mean(name: string, known: Iterable<string>): string {
  const near = nearest(name, known);
  return near === null ? '' : `; did you mean '${near}'?`;
}

const CELL_MAX = 0xffffffffn;
/** intermediate expression values stay within 64 bits, like dtc's unsigned long long */
const EXPR_LIMIT = 1n << 64n;
/** deeper nesting (nodes or parentheses) is rejected rather than left to overflow the stack */
const MAX_DEPTH = 256;
/** longer literals are not integers anyone means; this also keeps BigInt conversion cheap */
const MAX_LITERAL = 64;
/** the largest device tree accepted, in bytes of UTF-8 (a real SoC's is a few hundred KiB) */
export const DTS_MAX_BYTES = 1 << 20;
/** the most nodes accepted, the root not counted */
export const DTS_MAX_NODES = 100_000;

const WORD_CHAR = /[A-Za-z0-9,._+?#@-]/;
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;
const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NODE_NAME_RE = /^[A-Za-z0-9,._+-]+(@[A-Za-z0-9,._+-]+)?$/;
const PROP_NAME_RE = /^[A-Za-z0-9,._+?#-]+$/;
const PREPROCESSOR = new Set(['#include', '#define', '#undef', '#if', '#ifdef', '#ifndef', '#else', '#endif']);

/** C precedence of the binary operators accepted inside parentheses (higher binds tighter) */
const BINARY_PREC: ReadonlyMap<string, number> = new Map([
  ['*', 10], ['/', 10], ['%', 10],
  ['+', 9], ['-', 9],
  ['<<', 8], ['>>', 8],
  ['&', 6], ['^', 5], ['|', 4],
]);

/** An `&label` inside a cell list, resolved once the whole text is read (labels may come later). */
interface PendingRef { label: string; offset: number; prop: property; index: number; opaque: boolean }

interface Label { name: string; offset: number }

function new_node(parent: device_node | null, full_name: string, pos: number): device_node {
  const at = full_name.indexOf('@');
  let path = '/';
  if (parent) path = parent.path === '/' ? `/${full_name}` : `${parent.path}/${full_name}`;
  return {
    name: at < 0 ? full_name : full_name.slice(0, at),
    full_name, path, labels: [], phandle: 0, parent, children: [],
    properties: new Map(), pos, refcount: 0,
  };
}

class DtsParser {
  private pos = 0;
  private readonly refs: PendingRef[] = [];
  private readonly labels = new Map<string, device_node>();
  /** the full names of each node's children, for the duplicate check in constant time */
  private readonly child_names = new Map<device_node, Set<string>>();
  private nodes = 0;
  /** errors that did not stop the parse, and notes */
  private readonly errors: DtsMessage[] = [];
  readonly notes: DtsMessage[] = [];
  /** the `#include` lines skipped, said in one note */
  private readonly includes: DtsMessage[] = [];
  /** whether the property being read is one the model never reads (unknown names are opaque) */
  private opaque = false;
  readonly root = new_node(null, '', 0);

  constructor(private readonly text: string, private readonly defines: Map<string, number>) {}

  parse(): device_tree {
    let phandles = new Map<number, device_node>();
    try {
      this.check_size();
      this.parse_top_level();
      // after a syntax error the labels further on were never read: no reference is checked
      phandles = this.resolve_refs();
    } catch (e) {
      if (!(e instanceof DtsSyntaxError)) throw e;
      this.errors.push({ offset: e.offset, message: e.message });
    }
    this.note_includes();
    this.throw_errors();
    return { root: this.root, phandles, labels: this.labels };
  }

  /** One note, at the first `#include`, for all of them. */
  private note_includes(): void {
    const [first] = this.includes;
    if (!first) return;
    const what = this.includes.length === 1 ? first.message : `${first.message} and ${this.includes.length - 1} more #include lines`;
    this.notes.push({ offset: first.offset, message: `${what} ignored: the model reads no header; put the macros it needs under 'defines'` });
  }

  /** An error that does not stop the parse: recorded, and the parse goes on. */
  private report(offset: number, message: string): void {
    this.errors.push({ offset, message });
  }

  private throw_errors(): void {
    if (this.errors.length === 0) return;
    const sorted = [...this.errors].sort((a, b) => a.offset - b.offset).slice(0, MAX_ERRORS);
    const [first, ...more] = sorted;
    if (this.errors.length > MAX_ERRORS) more.push({ offset: first!.offset, message: `${this.errors.length - MAX_ERRORS} more errors not shown` });
    throw new DtsSyntaxError(first!.offset, first!.message, more);
  }

  /** At most DTS_MAX_BYTES of UTF-8: the error points at the first character beyond it. */
  private check_size(): void {
    // a UTF-16 unit is at least one UTF-8 byte, so a text this short cannot be too large
    if (this.text.length <= DTS_MAX_BYTES / 3) return;
    let bytes = 0;
    for (let i = 0; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      // a surrogate pair is 4 bytes: 2 for each half
      bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
      if (bytes > DTS_MAX_BYTES) this.fail(i, `the device tree is larger than 1 MiB (${DTS_MAX_BYTES} bytes of UTF-8): this is byte ${DTS_MAX_BYTES + 1}`);
    }
  }

  // ---- characters, whitespace and comments ----

  private fail(offset: number, message: string): never {
    throw new DtsSyntaxError(offset, message);
  }

  private peek(ahead = 0): string {
    return this.text.charAt(this.pos + ahead);
  }

  private at_end(): boolean {
    return this.pos >= this.text.length;
  }

  /** Skips whitespace and both comment styles. */
  private skip(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '/' && this.peek(1) === '/') {
        const nl = this.text.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.text.length : nl + 1;
      } else if (c === '/' && this.peek(1) === '*') {
        const end = this.text.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail(this.pos, 'unterminated /* comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private expect(c: string, what: string): void {
    this.skip();
    if (this.peek() !== c) this.fail(this.pos, this.at_end() ? `unexpected end of input: '${c}' expected ${what}` : `'${c}' expected ${what}`);
    this.pos++;
  }

  private read_while(re: RegExp): string {
    const start = this.pos;
    while (!this.at_end() && re.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  // ---- structure: top level, nodes, properties ----

  private parse_top_level(): void {
    for (;;) {
      this.skip();
      if (this.at_end()) return;
      if (this.peek() === '/') this.parse_slash();
      else this.parse_item(this.root, 1, true);
    }
  }

  /** `/ { ... };` (the root, merged if given more than once) or the `/dts-v1/;` header. */
  private parse_slash(): void {
    const start = this.pos;
    this.pos++;
    const directive = this.read_while(/[A-Za-z0-9_-]/);
    if (directive === '') {
      if (this.root.pos === 0) this.root.pos = start;
      this.expect('{', 'after / to open the root node');
      this.parse_body(this.root, 1);
      this.expect('}', "to close the root node");
      this.expect(';', "after the root node's '}'");
      return;
    }
    if (this.peek() !== '/') this.fail(start, `unexpected '/${directive}'`);
    this.pos++;
    if (directive !== 'dts-v1') this.fail(start, `/${directive}/ is not supported in scenario device trees`);
    this.expect(';', 'after /dts-v1/');
  }

  private parse_body(node: device_node, depth: number): void {
    for (;;) {
      this.skip();
      if (this.peek() === '}') return;
      if (this.at_end()) this.fail(this.pos, `unexpected end of input: '}' expected to close ${node.path}`);
      this.parse_item(node, depth, false);
    }
  }

  /** One `labels: name { ... };`, `name = value;` or `name;` inside `parent`. */
  private parse_item(parent: device_node, depth: number, top_level: boolean): void {
    const labels: Label[] = [];
    let name_pos = this.pos;
    let name = '';
    for (;;) {
      this.skip();
      name_pos = this.pos;
      if (this.peek() === '&') this.fail(name_pos, 'node references (&label { ... }) are not supported: edit the node itself');
      if (this.text.startsWith('#include', this.pos)) return this.skip_include();
      name = this.read_while(WORD_CHAR);
      if (name === '') this.fail(name_pos, this.at_end() ? 'unexpected end of input' : `unexpected '${this.peek()}': a node or property name expected`);
      if (this.peek() !== ':') break;
      if (!LABEL_RE.test(name)) this.fail(name_pos, `'${name}' is not a valid label`);
      labels.push({ name, offset: name_pos });
      this.pos++;
    }
    if (PREPROCESSOR.has(name)) this.fail(name_pos, `${name} is not supported: paste the nodes and put the macros the model reads under 'defines'`);
    this.skip();
    const c = this.peek();
    if (c === '{') return this.parse_node(parent, name, name_pos, labels, depth);
    if (c !== '=' && c !== ';') this.fail(this.pos, this.at_end() ? 'unexpected end of input' : `'{', '=' or ';' expected after '${name}'`);
    if (top_level) this.fail(name_pos, `property '${name}' outside any node: put it inside / { ... }`);
    if (labels.length > 0) this.fail(labels[0]!.offset, 'labels on properties are not supported');
    this.parse_property(parent, name, name_pos);
  }

  /** `#include <...>` or `#include "..."`: the headers are not read; a macro the model needs
   *  goes under `defines`, and one it never reads is opaque anyway. */
  private skip_include(): void {
    const nl = this.text.indexOf('\n', this.pos);
    const end = nl < 0 ? this.text.length : nl;
    this.includes.push({ offset: this.pos, message: this.text.slice(this.pos, end).trim() });
    this.pos = end;
  }

  private parse_node(parent: device_node, full_name: string, name_pos: number, labels: Label[], depth: number): void {
    if (depth >= MAX_DEPTH) this.fail(name_pos, `nodes nested more than ${MAX_DEPTH} deep`);
    if (!NODE_NAME_RE.test(full_name)) this.fail(name_pos, `'${full_name}' is not a valid node name`);
    let siblings = this.child_names.get(parent);
    if (!siblings) this.child_names.set(parent, siblings = new Set());
    if (siblings.has(full_name)) this.fail(name_pos, `duplicate node '${full_name}' in ${parent.path}`);
    if (++this.nodes > DTS_MAX_NODES) this.fail(name_pos, `more than 100,000 nodes in the device tree`);
    siblings.add(full_name);
    const node = new_node(parent, full_name, name_pos);
    parent.children.push(node);
    for (const label of labels) this.add_label(label, node);
    this.pos++; // '{'
    this.parse_body(node, depth + 1);
    this.pos++; // '}', seen by parse_body
    this.expect(';', `after the '}' of ${node.path}`);
  }

  private add_label(label: Label, node: device_node): void {
    if (this.labels.has(label.name)) this.fail(label.offset, `duplicate label '${label.name}'`);
    this.labels.set(label.name, node);
    node.labels.push(label.name);
  }

  private parse_property(node: device_node, name: string, name_pos: number): void {
    if (!PROP_NAME_RE.test(name)) this.fail(name_pos, `'${name}' is not a valid property name`);
    if (node.properties.has(name)) this.fail(name_pos, `duplicate property '${name}' in ${node.path}`);
    const prop: property = { name, cells: null, strings: null, pos: name_pos, cellPos: [] };
    node.properties.set(name, prop);
    if (this.peek() === ';') {
      this.pos++;
      return;
    }
    this.pos++; // '='
    this.opaque = !MODEL_READS.has(name);
    try {
      this.parse_values(prop);
    } finally {
      this.opaque = false;
    }
  }

  /** `"a", "b"` or `<1 2>, <3>`: a property holds strings or cells, not both. */
  private parse_values(prop: property): void {
    for (;;) {
      this.skip();
      const start = this.pos;
      const c = this.peek();
      if (c === '"') {
        if (prop.cells) this.fail(start, `property '${prop.name}' mixes cells and strings`);
        (prop.strings ??= []).push(this.parse_string());
      } else if (c === '<') {
        if (prop.strings) this.fail(start, `property '${prop.name}' mixes cells and strings`);
        prop.cells ??= [];
        this.parse_cells(prop);
      } else {
        this.fail(start, this.value_error(c));
      }
      this.skip();
      if (this.peek() === ';') {
        this.pos++;
        return;
      }
      if (this.peek() !== ',') this.fail(this.pos, this.at_end() ? 'unexpected end of input' : `',' or ';' expected after a value of '${prop.name}'`);
      this.pos++;
    }
  }

  private value_error(c: string): string {
    if (c === '') return 'unexpected end of input: a value expected';
    if (c === '[') return 'byte strings ([...]) are not supported';
    if (c === '&') return 'path references (&label outside <...>) are not supported';
    if (c === '/') return '/bits/ and other directives are not supported';
    return `unexpected '${c}': a string ("...") or a cell list (<...>) expected`;
  }

  private parse_string(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') this.fail(start, 'unterminated string');
      this.pos++;
      if (c === '"') return out;
      out += c === '\\' ? this.parse_escape() : c;
    }
  }

  private parse_escape(): string {
    const at = this.pos - 1;
    const c = this.peek();
    this.pos++;
    const simple: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
    const s = simple[c];
    if (s !== undefined) return s;
    if (c === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(this.text.slice(this.pos, this.pos + 2))?.[0];
      if (hex === undefined) this.fail(at, '\\x needs hex digits');
      this.pos += hex.length;
      return String.fromCharCode(parseInt(hex, 16));
    }
    this.fail(at, `unknown escape '\\${c}'`);
  }

  // ---- cells and expressions ----

  private parse_cells(prop: property): void {
    this.pos++; // '<'
    const cells = prop.cells!;
    for (;;) {
      this.skip();
      const start = this.pos;
      const c = this.peek();
      if (c === '>') {
        this.pos++;
        return;
      }
      if (c === '') this.fail(start, "unexpected end of input: '>' expected to close the cell list");
      if (c === '&') {
        this.refs.push({ label: this.parse_ref(), offset: start, prop, index: cells.length, opaque: this.opaque });
        cells.push(0);
      } else if (c === '(' || /[0-9]/.test(c) || IDENT_START.test(c)) {
        cells.push(this.check_cell(this.parse_primary(0), start));
      } else {
        this.fail(start, `unexpected '${c}' in a cell list: an integer, a macro, &label or (expression) expected`);
      }
      prop.cellPos.push(start);
    }
  }

  private parse_ref(): string {
    const start = this.pos;
    this.pos++; // '&'
    if (this.peek() === '{') this.fail(start, 'path references (&{/path}) are not supported: use a label');
    const label = this.read_while(IDENT_CHAR);
    if (label === '' || !LABEL_RE.test(label)) this.fail(start, "a label expected after '&'");
    return label;
  }

  private check_cell(v: bigint, offset: number): number {
    if (v < 0n || v > CELL_MAX) this.fail(offset, `cell value ${v} is outside 0..0xffffffff`);
    return Number(v);
  }

  /** An integer, a macro, or a parenthesised expression (with unary - and ~ inside parentheses). */
  private parse_primary(depth: number): bigint {
    this.skip();
    const start = this.pos;
    const c = this.peek();
    if (depth >= MAX_DEPTH) this.fail(start, `expression nested more than ${MAX_DEPTH} deep`);
    if (c === '(') {
      this.pos++;
      const v = this.parse_binary(0, depth + 1);
      this.expect(')', 'to close the expression');
      return v;
    }
    if (depth > 0 && (c === '-' || c === '~')) {
      this.pos++;
      const v = this.parse_primary(depth + 1);
      return c === '-' ? -v : ~v;
    }
    if (/[0-9]/.test(c)) return this.parse_number();
    if (IDENT_START.test(c)) return this.parse_macro();
    if (c === '&') this.fail(start, 'a &label is not allowed inside an expression');
    this.fail(start, c === '' ? 'unexpected end of input in an expression' : `unexpected '${c}' in an expression`);
  }

  /** Precedence climbing over BINARY_PREC; all operators are left-associative, as in C. */
  private parse_binary(min_prec: number, depth: number): bigint {
    let left = this.parse_primary(depth);
    for (;;) {
      this.skip();
      const op_pos = this.pos;
      const op = this.peek_operator();
      const prec = op === null ? undefined : BINARY_PREC.get(op);
      if (op === null || prec === undefined || prec < min_prec) return left;
      this.pos += op.length;
      const right = this.parse_binary(prec + 1, depth + 1);
      left = this.apply(op, left, right, op_pos);
    }
  }

  private peek_operator(): string | null {
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '<<' || two === '>>') return two;
    const one = this.peek();
    return BINARY_PREC.has(one) ? one : null;
  }

  private apply(op: string, a: bigint, b: bigint, at: number): bigint {
    let v: bigint;
    switch (op) {
      case '*': v = a * b; break;
      case '/': case '%':
        if (b === 0n) this.fail(at, 'division by zero');
        v = op === '/' ? a / b : a % b;
        break;
      case '+': v = a + b; break;
      case '-': v = a - b; break;
      case '<<': case '>>':
        if (b < 0n || b > 63n) this.fail(at, `shift count ${b} is outside 0..63`);
        v = op === '<<' ? a << b : a >> b;
        break;
      case '&': v = a & b; break;
      case '^': v = a ^ b; break;
      default: v = a | b; break;
    }
    if (v >= EXPR_LIMIT || v <= -EXPR_LIMIT) this.fail(at, 'expression value does not fit in 64 bits');
    return v;
  }

  /** Decimal or 0x hex, with C's optional U/L suffixes; octal (leading 0) is refused, not misread. */
  private parse_number(): bigint {
    const start = this.pos;
    const word = this.read_while(/[0-9A-Za-z_]/);
    const m = /^(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*$/.exec(word);
    if (!m) this.fail(start, `'${word}' is not an integer`);
    const digits = m[1]!;
    if (digits.length > MAX_LITERAL) this.fail(start, 'integer literal too long');
    if (/^0[0-9]/.test(digits)) this.fail(start, `'${word}': octal numbers are not supported, write decimal or 0x hex`);
    return BigInt(digits);
  }

  private parse_macro(): bigint {
    const start = this.pos;
    const name = this.read_while(IDENT_CHAR);
    const v = this.defines.get(name);
    if (v === undefined && this.opaque) return 0n;
    if (v === undefined) {
      this.report(start, `unknown macro '${name}' (add it under 'defines')${did_you_mean(name, this.defines.keys())}`);
      return 0n;
    }
    if (!Number.isSafeInteger(v)) this.fail(start, `macro '${name}' is not an integer`);
    return BigInt(v);
  }

  // ---- phandles ----

  /** Gives phandles 1, 2, 3... to referenced nodes in order of first reference, as dtc does. */
  private resolve_refs(): Map<number, device_node> {
    const phandles = new Map<number, device_node>();
    for (const ref of this.refs) {
      const node = this.labels.get(ref.label);
      if (!node && ref.opaque) continue;
      if (!node) {
        this.report(ref.offset, `unknown label '${ref.label}' in ${ref.prop.name}${did_you_mean(ref.label, this.labels.keys())}`);
        continue;
      }
      if (node.phandle === 0) {
        node.phandle = phandles.size + 1;
        phandles.set(node.phandle, node);
      }
      ref.prop.cells![ref.index] = node.phandle;
    }
    return phandles;
  }
}

/** Parses `text` (the DTS subset) into a device tree; throws only DtsSyntaxError, which holds
 *  every error found (up to MAX_ERRORS). `notes` receives what was accepted but ignored. */
export function parse_dts(text: string, defines: Map<string, number>, notes: DtsMessage[] = []): device_tree {
  const parser = new DtsParser(text, defines);
  try {
    return parser.parse();
  } finally {
    notes.push(...parser.notes);
  }
}
