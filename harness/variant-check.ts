// The static check of a variant's source before it is loaded (docs/variant-rules.md): a variant
// is like a kernel module, which links against exported symbols only and cannot reach the
// kernel's statics, the machine or the loader. What a module could not do is a load error at
// its file:line:col. TypeScript 7 is a native compiler; its package still offers a JavaScript
// API (`typescript/unstable/sync`), which runs that compiler as a child process and hands back
// the syntax tree and a checker: the checks read that tree, not the text. The folders of
// another --variants-root are also type-checked with the project's tsconfig.json.
import child_process from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { API, type Project, type Snapshot } from 'typescript/unstable/sync';
import { SyntaxKind, type Node, type SourceFile } from 'typescript/unstable/ast';
import { shown_path } from './thrown.ts';

/** Globals a kernel module has no counterpart of, and why. */
const FORBIDDEN_GLOBALS: Record<string, string> = {
  process: 'the process that runs the kernel (a module cannot exit, signal or inspect its host)',
  globalThis: 'the global object (a module sees only exported symbols)',
  global: 'the global object (a module sees only exported symbols)',
  require: 'the module loader (a module links against exported symbols only)',
  module: 'the module loader (a module links against exported symbols only)',
  eval: 'eval (a module cannot compile code at run time)',
  Function: 'the Function constructor (a module cannot compile code at run time)',
  Reflect: 'Reflect (a module cannot rewrite the kernel\'s objects behind its API)',
  Proxy: 'Proxy (a module cannot interpose on the kernel\'s objects)',
  WebAssembly: 'WebAssembly (a module cannot load code at run time)',
  SharedArrayBuffer: 'SharedArrayBuffer (a module shares no memory with its host)',
  Atomics: 'Atomics (a module shares no memory with its host)',
};
// Typed-array memory lies outside the V8 heap a worker's limit counts: a module allocates
// through the kernel (kzalloc), and so does a variant.
for (const t of ['ArrayBuffer', 'Buffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']) {
  FORBIDDEN_GLOBALS[t] = `${t} (typed-array memory escapes the per-job memory limit; a module allocates through the kernel)`;
}
/** Property names that reach a prototype, which no C struct has. */
const PROTOTYPE_KEYS = new Set(['prototype', '__proto__', 'constructor', 'setPrototypeOf', '__defineGetter__', '__defineSetter__']);

/** struct device fields the driver core and the IOMMU core own: a module may read some, but
 *  writing them behind the core's back is a finding (a C compiler would let it through). */
const CORE_PRIVATE = new Map<string, string>([
  ['p', 'the driver core\'s private part (drivers/base/base.h)'],
  ['refcount', 'the kobject reference count (get_device/put_device own it)'],
  ['driver', 'the bound driver (really_probe sets it)'],
  ['iommu_group', 'the IOMMU group (the IOMMU core sets it)'],
  ['iommu', 'struct dev_iommu (the IOMMU core allocates it)'],
  ['dma_ops', 'the DMA ops (arch_setup_dma_ops sets them)'],
  ['dead', 'kill_device()\'s flag'],
  ['released', 'the release state'],
  ['devid', 'the device\'s identity'],
]);

export interface CheckedFolder {
  dir: string;
  error: string | null;
  /** "file:line:col: writes dev->field, ..." for each write to a core-private struct device
   *  field: review findings (kind private-field-write), not load errors */
  private_writes: string[];
}

function at(sf: SourceFile, node: Node): string {
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return `${shown_path(sf.fileName)}:${line + 1}:${character + 1}`;
}

function string_literal(node: Node | undefined): string | null {
  const n = node as { kind?: SyntaxKind; text?: string } | undefined;
  return n && (n.kind === SyntaxKind.StringLiteral || n.kind === SyntaxKind.NoSubstitutionTemplateLiteral) ? n.text ?? null : null;
}

/** Is an import of `spec` from `file` allowed, given whether it brings in only types? */
function import_problem(file: string, dir: string, spec: string, type_only: boolean): string | null {
  if (spec.startsWith('.')) {
    const target = resolve(dirname(file), spec);
    if (target.startsWith(resolve(dir) + sep)) return null;
    if (target.endsWith(`${sep}harness${sep}variant.ts`)) {
      return type_only ? null : `imports values from harness/variant.ts: a variant may import only types from it (use import type); the kernel comes through k`;
    }
  }
  return `imports '${spec}': a variant may import only types from harness/variant.ts and its own files, as a kernel module links against exported symbols only`;
}

/** true when an import or export declaration brings in types only */
function type_only_import(node: Node): boolean {
  const d = node as unknown as {
    kind: SyntaxKind; isTypeOnly?: boolean;
    importClause?: { phaseModifier?: SyntaxKind; name?: unknown; namedBindings?: { kind: SyntaxKind; elements?: ReadonlyArray<{ isTypeOnly: boolean }> } };
    exportClause?: { elements?: ReadonlyArray<{ isTypeOnly: boolean }> };
  };
  if (d.kind === SyntaxKind.ExportDeclaration) return d.isTypeOnly === true || (d.exportClause?.elements?.every((e) => e.isTypeOnly) ?? false);
  const c = d.importClause;
  if (!c) return false; // import './x' runs the module
  if (c.phaseModifier === SyntaxKind.TypeKeyword) return true;
  if (c.name) return false;
  const els = c.namedBindings?.kind === SyntaxKind.NamedImports ? c.namedBindings.elements : undefined;
  return els !== undefined && els.length > 0 && els.every((e) => e.isTypeOnly);
}

/** Is this identifier a reference to a global (not a property name, not a local of the variant)? */
function names_global(project: Project, node: Node, dir: string): boolean {
  const parent = node.parent as unknown as { kind: SyntaxKind; name?: Node };
  if (parent.kind === SyntaxKind.PropertyAccessExpression && parent.name === node) return false;
  if ((parent.kind === SyntaxKind.PropertyAssignment || parent.kind === SyntaxKind.PropertySignature || parent.kind === SyntaxKind.MethodDeclaration || parent.kind === SyntaxKind.PropertyDeclaration) && parent.name === node) return false;
  const sym = project.checker.getSymbolAtLocation(node);
  if (!sym) return true;
  // declared in the variant's own files: a local that happens to share the name
  return !sym.declarations.some((d) => String(d.path).startsWith(resolve(dir) + sep));
}

/** Is the property `name` names declared in the kernel model's file `file` (under harness/kernel/)? */
function kernel_property(project: Project, name: Node, file: string): boolean {
  const sym = project.checker.getSymbolAtLocation(name);
  return sym?.declarations.some((d) => String(d.path).endsWith(`${sep}harness${sep}kernel${sep}${file}`)) ?? false;
}

/** The struct device field an assignment target names (dev.f or dev['f']), if it is a
 *  core-private one. */
function private_field(project: Project, target: Node): string | null {
  const t = target as unknown as { name?: Node & { text: string }; argumentExpression?: Node & { text: string } };
  const name = target.kind === SyntaxKind.PropertyAccessExpression ? t.name
    : target.kind === SyntaxKind.ElementAccessExpression && string_literal(t.argumentExpression) !== null ? t.argumentExpression : undefined;
  if (!name || !CORE_PRIVATE.has(name.text)) return null;
  return kernel_property(project, name, join('base', 'device.ts')) ? name.text : null;
}

function is_assignment(op: SyntaxKind): boolean {
  return op >= SyntaxKind.EqualsToken && op <= SyntaxKind.CaretEqualsToken;
}

/** The first rule a file breaks, as "file:line:col: message", or null; writes to core-private
 *  fields go to `writes`. */
function check_file(project: Project, sf: SourceFile, dir: string, writes: string[]): string | null {
  let found: string | null = null;
  const wrote = (node: Node, target: Node): void => {
    const field = private_field(project, target);
    if (field) writes.push(`${at(sf, node)}: writes dev->${field}, ${CORE_PRIVATE.get(field)}`);
  };
  const visit = (node: Node): void => {
    if (found) return;
    switch (node.kind) {
      case SyntaxKind.BinaryExpression: {
        const b = node as unknown as { left: Node; operatorToken: Node };
        if (is_assignment(b.operatorToken.kind)) wrote(node, b.left);
        break;
      }
      case SyntaxKind.PrefixUnaryExpression:
      case SyntaxKind.PostfixUnaryExpression: {
        const u = node as unknown as { operator: SyntaxKind; operand: Node };
        if (u.operator === SyntaxKind.PlusPlusToken || u.operator === SyntaxKind.MinusMinusToken) wrote(node, u.operand);
        break;
      }
      case SyntaxKind.DeleteExpression:
        wrote(node, (node as unknown as { expression: Node }).expression);
        break;
      case SyntaxKind.ImportDeclaration:
      case SyntaxKind.ExportDeclaration: {
        const spec = string_literal((node as unknown as { moduleSpecifier?: Node }).moduleSpecifier);
        if (spec !== null) {
          const problem = import_problem(sf.fileName, dir, spec, type_only_import(node));
          if (problem) found = `${at(sf, node)}: ${problem}`;
        }
        break;
      }
      case SyntaxKind.ImportEqualsDeclaration:
        found = `${at(sf, node)}: import = require(): a variant may import only types from harness/variant.ts and its own files`;
        break;
      case SyntaxKind.CallExpression:
        if ((node as unknown as { expression: Node }).expression.kind === SyntaxKind.ImportKeyword) found = `${at(sf, node)}: import(): a kernel module cannot load code at run time`;
        break;
      case SyntaxKind.PropertyAccessExpression: {
        const name = (node as unknown as { name: Node & { text: string } }).name;
        if (PROTOTYPE_KEYS.has(name.text)) found = `${at(sf, node)}: touches '${name.text}': a variant must not reach or change any prototype (a C struct has none to patch)`;
        else if (name.text === 'priv' && kernel_property(project, name, join('iommu', 'iommu-types.ts'))) found = `${at(sf, name)}: reaches '.priv', an IOMMU driver's private data (its struct arm_smmu_device, and through it the kernel's state)`;
        break;
      }
      case SyntaxKind.ElementAccessExpression: {
        const key = string_literal((node as unknown as { argumentExpression: Node }).argumentExpression);
        if (key !== null && (PROTOTYPE_KEYS.has(key) || key in FORBIDDEN_GLOBALS)) found = `${at(sf, node)}: touches '${key}': a variant must not reach or change any prototype or global`;
        break;
      }
      case SyntaxKind.Identifier: {
        const text = (node as unknown as { text: string }).text;
        const what = Object.hasOwn(FORBIDDEN_GLOBALS, text) ? FORBIDDEN_GLOBALS[text] : undefined;
        if (what && names_global(project, node, dir)) found = `${at(sf, node)}: uses '${text}', ${what}`;
        break;
      }
    }
    // a type-level import(...) names types only, and is erased
    if (!found && node.kind !== SyntaxKind.ImportType) node.forEachChild(visit);
  };
  visit(sf);
  return found;
}

/** A file of the folder that is neither TypeScript nor Markdown: it would escape this check
 *  (a .js file can be imported as well as a .ts one). */
function foreign_file(dir: string): string | null {
  const other = readdirSync(resolve(dir), { recursive: true, withFileTypes: true })
    .find((e) => e.isFile() && !e.name.endsWith('.ts') && !e.name.endsWith('.md'));
  return other ? join(other.parentPath, other.name) : null;
}

function ts_files(dir: string): string[] {
  return readdirSync(resolve(dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * Run `make` with the compiler's child process spawned with its stderr closed. The API hands
 * tsgo our stderr, and tsgo, stopped by api.close() while some work of its own is in flight,
 * prints "context canceled" there now and then (about one check in twenty): noise in a report
 * a test holds line by line. Everything the check needs comes back over the API's pipe. The
 * API imports spawn by name, which syncBuiltinESMExports() updates; nothing else runs on this
 * thread meanwhile, and the original is back before this returns.
 */
function with_quiet_compiler<T>(make: () => T): T {
  const spawn = child_process.spawn;
  const quiet = (command: string, args: readonly string[], options: child_process.SpawnOptions): child_process.ChildProcess => {
    const given = options.stdio;
    const stdio: child_process.StdioOptions = Array.isArray(given) ? [given[0], given[1], 'ignore', ...given.slice(3)] : [given ?? 'pipe', given ?? 'pipe', 'ignore'];
    return spawn(command, args, { ...options, stdio });
  };
  child_process.spawn = quiet as unknown as typeof child_process.spawn;
  syncBuiltinESMExports();
  try {
    return make();
  } finally {
    child_process.spawn = spawn;
    syncBuiltinESMExports();
  }
}

/**
 * Check every variant folder's TypeScript: the module rules for all, and, for folders outside
 * `project_root/variants/` (which `npm test` type-checks), the project's type rules too.
 * `project_root` holds tsconfig.json and harness/variant.ts.
 */
export function check_variant_sources(dirs: string[], project_root: string): CheckedFolder[] {
  if (!dirs.length) return [];
  const own = resolve(project_root, 'variants') + sep;
  const tmp = mkdtempSync(join(tmpdir(), 'variant-check-'));
  const api = with_quiet_compiler(() => new API({ cwd: project_root }));
  let snapshot: Snapshot | null = null;
  try {
    const files = new Map(dirs.map((d) => [d, ts_files(d)]));
    // the project's options; rootDirs lets a copied folder's ../../harness/variant.ts resolve
    const parents = [...new Set(dirs.map((d) => dirname(dirname(resolve(d)))))];
    const config = join(tmp, 'tsconfig.json');
    writeFileSync(config, JSON.stringify({
      extends: join(project_root, 'tsconfig.json'),
      compilerOptions: { rootDir: '/', rootDirs: [resolve(project_root), ...parents], typeRoots: [join(project_root, 'node_modules', '@types')], noEmit: true },
      files: [...files.values()].flat(),
      include: [],
    }));
    snapshot = api.updateSnapshot({ openProject: config });
    const project = snapshot.getProject(config);
    if (!project) throw new Error('the TypeScript API opened no project');
    return dirs.map((dir): CheckedFolder => {
      const private_writes: string[] = [];
      const foreign = foreign_file(dir);
      if (foreign) return { dir, error: `${shown_path(foreign)}:1:1: a variant folder holds TypeScript and Markdown only; this file would escape the source check`, private_writes };
      for (const file of files.get(dir)!) {
        const sf = project.program.getSourceFile(file);
        if (!sf) return { dir, error: `${shown_path(file)}:1:1: TypeScript could not read the file`, private_writes };
        // a file that does not parse runs no code: loading it reports the error as before
        if (project.program.getSyntacticDiagnostics(file).length) return { dir, error: null, private_writes };
        const broken = check_file(project, sf, dir, private_writes);
        if (broken) return { dir, error: broken, private_writes };
        if (!resolve(dir).startsWith(own)) {
          const semantic = project.program.getSemanticDiagnostics(file).find((d) => d.category === 1);
          if (semantic) return { dir, error: diagnostic_at(sf, semantic), private_writes };
        }
      }
      return { dir, error: null, private_writes };
    });
  } finally {
    // disposed first: closing the API with a snapshot open makes tsgo print "context canceled"
    snapshot?.dispose();
    api.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function diagnostic_at(sf: SourceFile, d: { pos: number; text: string; code: number }): string {
  const { line, character } = sf.getLineAndCharacterOfPosition(d.pos);
  return `${shown_path(sf.fileName)}:${line + 1}:${character + 1}: ${d.text} (TS${d.code})`;
}
