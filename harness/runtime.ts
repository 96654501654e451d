// How the harness runs. `npm run compare` (harness/compare.mjs) compiles harness/ into build/
// when a source changed (tsc with tsconfig.build.json, incremental) and runs that JavaScript
// with source maps on. The tests import the TypeScript directly (vitest), and `tsx
// harness/cli.ts` works too; either way the variants run in sandboxes (measure/sandbox.ts),
// child processes that may start no compiler, so what runs there is always JavaScript: the
// harness's from build/, and each variant's from build/variants/ (tsconfig.variants.json) or
// from the bundle the CLI made of it (variant-module.ts).
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { bundle_path } from './variant-module.ts';

/** true when this is the JavaScript in build/, false under a TypeScript loader */
export const COMPILED = import.meta.url.endsWith('.js');

const HERE = dirname(fileURLToPath(import.meta.url));
/** the project's root: build/harness/ or harness/ is below it */
const ROOT = COMPILED ? join(HERE, '..', '..') : join(HERE, '..');
/** the project's root, where tsconfig.json and harness/variant.ts are */
export const PROJECT_ROOT = ROOT;

/** Where the harness's code is, each with a trailing separator: the TypeScript (what stack
 *  frames name through the source maps) and, when compiled, the JavaScript (without them). */
export const HARNESS_DIRS: readonly string[] = COMPILED
  ? [join(ROOT, 'harness') + sep, HERE + sep]
  : [HERE + sep];

/** The compiled JavaScript of the harness module `name` (in harness/measure/, without its
 *  extension), which a sandbox runs whether this is the compiled harness or the TypeScript:
 *  under a TypeScript loader, build/ is brought up to date first (ensure_built). */
export function harness_entry(name: string): URL {
  return pathToFileURL(join(ROOT, 'build', 'harness', 'measure', `${name}.js`));
}

/** Compile into build/ what changed since the last build (harness/build.mjs), for a harness
 *  running as TypeScript; the compiled harness was built by compare.mjs before it started.
 *  The exit status of tsc, 0 when nothing needed compiling. */
export async function ensure_built(): Promise<number> {
  if (COMPILED) return 0;
  const build = (await import(new URL('./build.mjs', import.meta.url).href)) as { build_if_stale(root: string): number };
  return build.build_if_stale(ROOT);
}

/** A folder outside any `"type": "module"` package is CommonJS, and Node keeps a CommonJS
 *  module in require.cache by file name, whatever query the import's URL carries: its files are
 *  dropped from the cache, so that each job gets a fresh instance (fresh statics) of them too. */
function forget_commonjs(dir: string): void {
  const cache = createRequire(import.meta.url).cache;
  for (const file of Object.keys(cache)) if (file.startsWith(dir + sep)) delete cache[file];
}

function mtime(path: string): number {
  try { return statSync(path).mtimeMs; } catch { return -1; }
}

/**
 * The JavaScript that harness/build.mjs compiled a variant's `index` into: only for a folder of
 * the project's variants/ that holds nothing but TypeScript and Markdown (tsc copies no other
 * file into build/, where the variant would then miss it), and only when it is newer than every
 * .ts file of the folder (one edited since the last build is loaded as it is now). null: load
 * the TypeScript.
 */
export function compiled_variant(index: string, root = ROOT): string | null {
  const dir = dirname(resolve(index));
  let files: Dirent[];
  try {
    if (realpathSync(dirname(dir)) !== realpathSync(join(root, 'variants'))) return null;
    files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory());
  } catch {
    return null;
  }
  if (!files.every((e) => e.name.endsWith('.ts') || e.name.endsWith('.md'))) return null;
  const js = join(root, 'build', 'variants', basename(dir), 'index.js');
  const built = mtime(js);
  return built >= 0 && files.every((e) => e.name.endsWith('.md') || mtime(join(e.parentPath, e.name)) <= built) ? js : null;
}

/** import() of a variant's index.ts, a fresh module instance for each `nonce`. The compiled
 *  harness (a sandbox) imports JavaScript only: the folder's build/variants/ module, or its
 *  bundle, which the CLI made before the jobs (variant-module.ts). Under a TypeScript loader
 *  (a test loading a variant in its own process) the TypeScript is imported as it is. */
export function import_variant(index: string, nonce: number): Promise<unknown> {
  if (!COMPILED) {
    forget_commonjs(dirname(resolve(index)));
    return import(`${pathToFileURL(index).href}?instance=${nonce}`);
  }
  const js = compiled_variant(index) ?? bundle_path(dirname(index));
  return import(`${pathToFileURL(js).href}?instance=${nonce}`);
}
