// How the harness runs. `npm run compare` (harness/compare.mjs) compiles harness/ into build/
// when a source changed (tsc with tsconfig.build.json, incremental) and runs that JavaScript
// with source maps on: no TypeScript loader to start in the main thread and in every worker,
// and stack traces still name the .ts lines. The tests import the TypeScript directly
// (vitest), and `tsx harness/cli.ts` works too. The project's variants are compiled too
// (build/variants/, tsconfig.variants.json); any other folder of variants, and one changed
// since the last build, is imported as TypeScript through tsx.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

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

/** A worker thread running the harness module `name` (in harness/measure/, without its
 *  extension). Under a TypeScript loader, worker-boot.mjs registers tsx in the thread first
 *  (a worker does not inherit the main thread's module hooks). */
export function harness_worker(name: string, options: WorkerOptions & { workerData?: Record<string, unknown> }): Worker {
  const entry = new URL(`./measure/${name}.${COMPILED ? 'js' : 'ts'}`, import.meta.url);
  if (COMPILED) return new Worker(entry, options);
  const boot = new URL('./measure/worker-boot.mjs', import.meta.url);
  return new Worker(boot, { ...options, workerData: { ...options.workerData, entry: entry.href } });
}

let registered = false;

/** import() of a variant's TypeScript. The compiled harness registers tsx in its thread at the
 *  first one, for import and for require (a folder outside a `"type": "module"` package is
 *  CommonJS): the harness's own modules are loaded by then, so only variants go through tsx.
 *  (A namespaced registration loads a CommonJS variant from a data: URL, and stack traces
 *  would no longer name the variant's file.) */
async function import_typescript(url: string): Promise<unknown> {
  if (COMPILED && !registered) {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    cjs.register();
    esm.register();
    registered = true;
  }
  return import(url);
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

/** import() of a variant's index.ts, a fresh module instance for each `nonce`: its compiled
 *  JavaScript when the harness runs compiled and there is one (compiled_variant), else the
 *  TypeScript through tsx. A worker that imports only JavaScript never starts tsx, whose
 *  loader thread cost each worker about a third of a CPU-second. */
export function import_variant(index: string, nonce: number): Promise<unknown> {
  const js = COMPILED ? compiled_variant(index) : null;
  if (!js) forget_commonjs(dirname(resolve(index)));
  return js ? import(`${pathToFileURL(js).href}?instance=${nonce}`) : import_typescript(`${pathToFileURL(index).href}?instance=${nonce}`);
}
