// Compiling into build/ when a source changed since the last build: what `npm run compare`
// (harness/compare.mjs) does before it runs, and what the tests' global setup
// (test/build.global.ts) does before the end-to-end tests. Two tsc projects, both emit only
// (`npm test` does the type checking):
//   - the harness (tsconfig.build.json): a failure stops the command;
//   - the project's variants (tsconfig.variants.json), so that the sandboxes import them as
//     JavaScript (see harness/runtime.ts). A folder that does not compile must still be
//     reported as that variant's load error, at its position: when tsc finds any error there,
//     build/variants/ is removed and the CLI bundles every variant itself
//     (harness/variant-module.ts), as if nothing had been compiled.
// Plain JavaScript, as it runs before anything is compiled. The check costs a few stat calls,
// where asking tsc whether anything changed costs a third of a second.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function mtime(path) {
  try { return statSync(path).mtimeMs; } catch { return -1; }
}

/** every .ts file under dir (relative to root) into out.files, the newest mtime into out.newest */
function sources(root, dir, out) {
  let entries;
  try { entries = readdirSync(join(root, dir), { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) sources(root, path, out);
    else if (e.name.endsWith('.ts')) {
      out.files.push(path);
      out.newest = Math.max(out.newest, mtime(join(root, path)));
    }
  }
}

/** the last build's stamp: written after it, listing the files it compiled */
function read_stamp(path) {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
}

/** Compile the harness and the variants under `root` if a source is newer than the last build,
 *  or a file came or went since; 0 when build/ is ready, else the exit status to stop with. */
export function build_if_stale(root) {
  const stamp = join(root, 'build', '.stamp');
  const src = { files: [], newest: -1 };
  sources(root, 'harness', src);
  sources(root, 'conformance', src);
  sources(root, 'variants', src);
  const listing = src.files.sort().join('\n');
  const configs = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.variants.json', 'package-lock.json'].map((f) => mtime(join(root, f)));
  if (read_stamp(stamp) === listing && mtime(stamp) >= Math.max(src.newest, ...configs)) return 0;
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const harness = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (harness.error) process.stderr.write(`compare: cannot compile the harness: ${harness.error.message} (did npm ci run?)\n`);
  if (harness.status !== 0) return harness.status || 2;
  // compiled afresh each time, so that no folder keeps the output of an older build
  const variants = join(root, 'build', 'variants');
  rmSync(variants, { recursive: true, force: true });
  const v = spawnSync(tsc, ['-p', join(root, 'tsconfig.variants.json')], { stdio: 'ignore' });
  if (v.status !== 0) rmSync(variants, { recursive: true, force: true });
  writeFileSync(stamp, listing);
  return 0;
}
