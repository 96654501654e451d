// Loading a variant folder (which folders are variants: variant-dirs.ts) and measuring its
// design cost. A folder that fails to load or does not export the contract's shape is reported
// with its error, and the others still run.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Variant } from './variant.ts';
import type { DesignCost } from './measure/results.ts';
import { boot } from './kernel/boot.ts';
import { kernel_symbols } from './kernel/exports.ts';
import { shown_path, stack_frames } from './thrown.ts';
import { compiled_variant, import_variant } from './runtime.ts';
import { bundle_variant } from './variant-module.ts';
import { variant_dir_name } from './variant-dirs.ts';

export interface LoadedVariant {
  dir: string;
  /** the folder name, used until the module tells its own name */
  name: string;
  variant: Variant | null;
  error: string | null;
  loc: number;
}

/** Non-blank, non-comment lines of the folder's TypeScript (tests excluded). */
export function count_loc(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    let in_block = false;
    for (const raw of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const line = raw.trim();
      if (in_block) { if (line.includes('*/')) in_block = false; continue; }
      if (!line || line.startsWith('//')) continue;
      if (line.startsWith('/*')) { in_block = !line.includes('*/'); continue; }
      n++;
    }
  }
  return n;
}

function shape_error(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'the default export is not an object';
  const o = v as Record<string, unknown>;
  if (typeof o['name'] !== 'string' || !o['name']) return 'the default export has no name';
  if (o['expect'] !== 'works' && o['expect'] !== 'fails') return 'expect must be "works" or "fails"';
  for (const fn of ['boot', 'create_context', 'destroy_context']) {
    if (typeof o[fn] !== 'function') return `the default export has no ${fn}() function`;
  }
  if (typeof o['summary'] !== 'string') return 'the default export has no summary';
  if (!Array.isArray(o['series'])) return 'the default export has no series list';
  return size_error(o);
}

/** The reports show a variant's name, summary and series in tables: each is bounded (a 1 MB
 *  name once held the table drawing for minutes). */
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TEXT_MAX = 500;
const SERIES_MAX = 32;

function size_error(o: Record<string, unknown>): string | null {
  const name = o['name'] as string;
  if (!NAME.test(name)) return `the name must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit (got ${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? '...' : ''})`;
  const summary = o['summary'] as string;
  if (summary.length > TEXT_MAX || summary.includes('\n')) return `the summary must be one line of at most ${TEXT_MAX} characters`;
  const series = o['series'] as unknown[];
  if (series.length > SERIES_MAX) return `the series list has ${series.length} entries; at most ${SERIES_MAX}`;
  for (const ref of series) {
    const r = ref as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r['subject'] !== 'string' || typeof r['link'] !== 'string') return 'each series entry must be { subject, link } strings';
    if (r['subject'].length > TEXT_MAX || r['link'].length > TEXT_MAX) return `a series entry's subject and link must be at most ${TEXT_MAX} characters`;
  }
  return null;
}

/**
 * "file:line:col: message" from a load error: a syntax error as an esbuild transform reports it
 * ("<file>:7:51: ERROR: Unexpected ';'"), else the first
 * stack frame in the variant's folder (a throw at import), else the import a resolution error
 * is about, else any position the message gives, else the index.
 */
function describe_load_error(e: unknown, index: string, dir: string): string {
  let message = '';
  let stack = '';
  try {
    message = e instanceof Error ? String(e.message) : String(e);
    stack = e instanceof Error ? String(e.stack ?? '') : '';
  } catch { /* an error whose own fields throw */ }
  const syntax = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  if (syntax) return `${shown_path(syntax[1]!)}:${syntax[2]}:${esbuild_column(syntax[1]!, Number(syntax[2]), Number(syntax[3]))}: ${syntax[4]}`;
  const name = e instanceof Error ? e.name : 'thrown';
  const first = message.split('\n')[0] ?? '';
  const frame = stack_frames(stack).find((f) => f.file.startsWith(resolve(dir) + sep));
  if (frame) return `${shown_path(frame.file)}:${frame.line}:${frame.col}: ${name}: ${first}`;
  const imp = import_site(message, dir);
  if (imp) return `${imp}: ${name}: ${first}`;
  const at = /(\/[^\s():]+\.ts):(\d+):(\d+)/.exec(message);
  if (at) return `${shown_path(at[1]!)}:${at[2]}:${at[3]}: ${first.replace(/^\/\S+:\d+:\d+:? /, '')}`;
  return `${shown_path(index)}: ${name}: ${first}`;
}

/**
 * "file:line:col" of the import a module-resolution error is about (Node names the module,
 * not the line): the first line of the importing file (or of the folder's .ts files) that
 * quotes the module and, for a missing export, names it.
 */
function import_site(message: string, dir: string): string | null {
  const missing = /Cannot find (?:module|package) '([^']+)' imported from (\S+)/.exec(message);
  const named = /The requested module '([^']+)' does not provide an export named '([^']+)'/.exec(message);
  let files: string[];
  let quoted: string;
  let also = '';
  if (missing) {
    const from = missing[2]!.replace(/^file:\/\//, '');
    files = [from];
    quoted = missing[1]!.split('/').pop()!;
  } else if (named) {
    try { files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)); } catch { return null; }
    quoted = named[1]!;
    also = named[2]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  } else {
    return null;
  }
  for (const file of files) {
    let lines: string[];
    try { lines = readFileSync(file, 'utf8').split('\n'); } catch { continue; }
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const q = Math.max(line.indexOf(`${quoted}'`), line.indexOf(`${quoted}"`));
      if (q < 0 || (also && !new RegExp(`\\b${also}\\b`).test(line))) continue;
      // the missing name, or the opening quote of the module's specifier
      const col = also ? line.search(new RegExp(`\\b${also}\\b`)) + 1 : Math.max(line.lastIndexOf("'", q - 1), line.lastIndexOf('"', q - 1)) + 1;
      return `${shown_path(file)}:${i + 1}:${Math.max(col, 1)}`;
    }
  }
  return null;
}

/** esbuild counts a column from 0 in UTF-8 bytes; an editor from 1 in characters. */
function esbuild_column(file: string, line: number, byte_col: number): number {
  try {
    const text = readFileSync(file, 'utf8').split('\n')[line - 1] ?? '';
    return Buffer.from(text, 'utf8').subarray(0, byte_col).toString('utf8').length + 1;
  } catch {
    return byte_col + 1;
  }
}

/** "line:col" of the file's `export default` (or `as default`), else "1:1". */
function default_export_pos(index: string): string {
  let text = '';
  try { text = readFileSync(index, 'utf8'); } catch { return '1:1'; }
  const m = /^[ \t]*export[ \t]+default\b|\bas[ \t]+default\b/m.exec(text);
  if (!m) return '1:1';
  const before = text.slice(0, m.index + (m[0].length - m[0].trimStart().length));
  const line = before.split('\n').length;
  return `${line}:${before.length - before.lastIndexOf('\n')}`;
}

/** A folder outside any `"type": "module"` package is CommonJS to Node when its TypeScript is
 *  imported as it is (a test's own process): its `export default` then arrives as
 *  module.exports.default. (The sandboxes import a bundle, an ES module.) */
function default_export(mod: { default?: unknown }): unknown {
  const d = mod.default;
  if (typeof d !== 'object' || d === null) return d;
  const cjs = d as { __esModule?: unknown; default?: unknown };
  return cjs.__esModule === true && 'default' in cjs ? cjs.default : d;
}

/** Import a variant folder; a new `nonce` gives a fresh module instance (fresh statics). */
export async function load_variant(dir: string, nonce = 0): Promise<LoadedVariant> {
  const index = join(dir, 'index.ts');
  const name = variant_dir_name(dir);
  try {
    const mod = (await import_variant(index, nonce)) as { default?: unknown };
    const exported = default_export(mod);
    const problem = shape_error(exported);
    if (problem) return { dir, name, variant: null, error: `${shown_path(index)}:${default_export_pos(index)}: ${problem}`, loc: count_loc(dir) };
    const variant = exported as Variant;
    return { dir, name: variant.name, variant, error: null, loc: count_loc(dir) };
  } catch (e) {
    return { dir, name, variant: null, error: describe_load_error(e, index, dir), loc: 0 };
  }
}

/** Make the JavaScript the sandboxes will import for the folder (variant-module.ts), unless
 *  build/variants/ has it: its load error at file:line:col when esbuild cannot bundle it. */
export async function prepare_variant(dir: string): Promise<string | null> {
  const index = join(dir, 'index.ts');
  if (compiled_variant(index)) return null;
  try {
    const e = await bundle_variant(dir);
    return e && `${shown_path(e.file)}:${e.line}:${esbuild_column(e.file, e.line, e.column)}: ${e.text}`;
  } catch (e) {
    return `${shown_path(index)}: cannot bundle the folder: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Design cost, measured by booting the variant on an empty device tree and reading the log. */
export function design_cost(v: Variant, loc: number): DesignCost {
  const root = { name: '', full_name: '', path: '/', labels: [], phandle: 0, parent: null, children: [], properties: new Map(), pos: 0, refcount: 0 };
  const k = boot(
    { flow: '6.15', patches: new Set(), bypass_unmatched_streams: false, smmu_hw: new Map(), memory: { base: 0x80000000, size: 0x100000000 } },
    { root, phandles: new Map(), labels: new Map() },
    { postcore_initcall: (kk) => v.boot(kernel_symbols(kk)) },
  );
  const cost: DesignCost = { bus_types: [], core_edits: [], exported_symbols: [], loc, per_driver: null };
  const core_buses = new Set([k.platform_bus_type.name, k.auxiliary_bus_type.name]);
  k.log.each(['bus_register', 'core_edit', 'export_symbol'], (e) => {
    if (e.type === 'bus_register' && !core_buses.has(e.bus)) cost.bus_types.push(e.bus);
    if (e.type === 'core_edit') cost.core_edits.push({ file: e.file, what: e.what, bus: e.bus });
    if (e.type === 'export_symbol' && !e.mainline) cost.exported_symbols.push(e.symbol);
  });
  return cost;
}
