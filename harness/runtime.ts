// How the harness runs. `npm run compare` (harness/compare.mjs) compiles harness/ into build/
// when a source changed (tsc with tsconfig.build.json, incremental) and runs that JavaScript
// with source maps on: no TypeScript loader to start in the main thread and in every worker,
// and stack traces still name the .ts lines. The tests import the TypeScript directly
// (vitest), and `tsx harness/cli.ts` works too. Variants are TypeScript either way and are
// never compiled ahead: a folder added under variants/ is picked up as it is.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** true when this is the JavaScript in build/, false under a TypeScript loader */
export const COMPILED = import.meta.url.endsWith('.js');

const HERE = dirname(fileURLToPath(import.meta.url));

/** Where the harness's code is, each with a trailing separator: the TypeScript (what stack
 *  frames name through the source maps) and, when compiled, the JavaScript (without them). */
export const HARNESS_DIRS: readonly string[] = COMPILED
  ? [join(HERE, '..', '..', 'harness') + sep, HERE + sep]
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
export async function import_typescript(url: string): Promise<unknown> {
  if (COMPILED && !registered) {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    cjs.register();
    esm.register();
    registered = true;
  }
  return import(url);
}
