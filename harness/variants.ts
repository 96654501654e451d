// Discovery of variants (js-framework-benchmark style): every folder under variants/ with an
// index.ts is one; adding a folder changes no other file. A folder that fails to load or does
// not export the contract's shape is reported with its error, and the others still run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Variant } from './variant.ts';
import type { DesignCost } from './measure/results.ts';
import { boot } from './kernel/boot.ts';
import { kernel_symbols } from './kernel/exports.ts';

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
  return null;
}

/** "file:line:col: message" from a load error, where the stack or the error says where. */
function describe_load_error(e: unknown, index: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const first = err.message.split('\n')[0] ?? '';
  const at = /(?:^|\s|\()(\/[^\s():]+\.ts):(\d+):(\d+)/.exec(`${err.message}\n${err.stack ?? ''}`);
  const where = at ? `${relative(process.cwd(), at[1]!)}:${at[2]}:${at[3]}` : relative(process.cwd(), index);
  return `${where}: ${first.replace(/^\/\S+:\d+:\d+: /, '')}`;
}

/** Import a variant folder; a new `nonce` gives a fresh module instance (fresh statics). */
export async function load_variant(dir: string, nonce = 0): Promise<LoadedVariant> {
  const index = join(dir, 'index.ts');
  const name = variant_dir_name(dir);
  try {
    const mod = (await import(`${pathToFileURL(index).href}?instance=${nonce}`)) as { default?: unknown };
    const problem = shape_error(mod.default);
    if (problem) return { dir, name, variant: null, error: `${relative(process.cwd(), index)}: ${problem}`, loc: count_loc(dir) };
    const variant = mod.default as Variant;
    return { dir, name: variant.name, variant, error: null, loc: count_loc(dir) };
  } catch (e) {
    return { dir, name, variant: null, error: describe_load_error(e, index), loc: 0 };
  }
}

export function variant_dir_name(dir: string): string {
  return dir.split(/[\\/]/).filter(Boolean).pop()!;
}

/** The variant folders: every directory under `root` with an index.ts, sorted. */
export function variant_dirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'index.ts')))
    .map((d) => join(root, d.name))
    .sort();
}

/** Design cost, measured by booting the variant on an empty device tree and reading the log. */
export function design_cost(v: Variant, loc: number): DesignCost {
  const root = { name: '', full_name: '', path: '/', labels: [], phandle: 0, parent: null, children: [], properties: new Map(), pos: 0, refcount: 0 };
  const k = boot(
    { flow: '6.15', bypass_unmatched_streams: false, smmu_hw: new Map(), memory: { base: 0x80000000, size: 0x100000000 } },
    { root, phandles: new Map(), labels: new Map() },
    { postcore_initcall: (kk) => v.boot(kernel_symbols(kk)) },
  );
  const cost: DesignCost = { bus_types: [], core_edits: [], exported_symbols: [], loc };
  const core_buses = new Set([k.platform_bus_type.name, k.auxiliary_bus_type.name]);
  for (const e of k.log.events) {
    if (e.type === 'bus_register' && !core_buses.has(e.bus)) cost.bus_types.push(e.bus);
    if (e.type === 'core_edit') cost.core_edits.push({ file: e.file, what: e.what });
    if (e.type === 'export_symbol') cost.exported_symbols.push(e.symbol);
  }
  return cost;
}
