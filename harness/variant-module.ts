// The JavaScript a sandbox imports for a variant folder. The sandbox (measure/sandbox.ts) can
// neither start a compiler process nor write a cache, so the CLI makes the JavaScript before
// the jobs run: the project's variants are compiled into build/variants/ by harness/build.mjs
// (compiled_variant in runtime.ts); any other folder, and one edited since the last build, is
// bundled here with esbuild into one ES module, with an inline source map so that stack
// traces still name the folder's .ts lines. One module per folder also gives a folder that
// Node would load as CommonJS (outside a "type": "module" package) what every job needs: a
// fresh instance for each import URL. The file is named by a hash of the folder's path and
// sources, so that the sandbox finds it without being told, and an edit makes a new one.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';

function bundle_dir(): string {
  let user = 'user';
  try { user = String(userInfo().uid); } catch { /* no passwd entry */ }
  return join(tmpdir(), `iommu-ctx-harness-${user}`, 'variants');
}

/** the folder's TypeScript, by path relative to it, in a stable order */
function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && statSync(join(dir, f)).isFile())
    .sort();
}

/** Where the bundle of the folder's current sources is (it may not exist yet). */
export function bundle_path(dir: string): string {
  const abs = resolve(dir);
  const hash = createHash('sha256').update(abs);
  for (const f of sources(abs)) hash.update(`\0${f}\0`).update(readFileSync(join(abs, f)));
  return join(bundle_dir(), `${hash.digest('hex').slice(0, 32)}.mjs`);
}

/** Bundles not used for a week go, as each edit of a folder makes a new one; a run that uses a
 *  bundle renews its time first (bundle_variant), so none goes from under a run. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

function forget_old_bundles(): void {
  const now = Date.now();
  for (const f of readdirSync(bundle_dir())) {
    const path = join(bundle_dir(), f);
    try {
      if (now - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { force: true });
    } catch { /* another run removed it */ }
  }
}

/** A place in a source that esbuild could not bundle: a 1-based line, a 0-based byte column. */
export interface BundleError { file: string; line: number; column: number; text: string }

interface EsbuildFailure { errors?: Array<{ text: string; location: { file: string; line: number; column: number } | null }> }

/** Bundle the folder's index.ts, unless its bundle is there already; the error esbuild found
 *  first, or null. Written to a temporary name and renamed, as two runs may bundle at once. */
export async function bundle_variant(dir: string): Promise<BundleError | null> {
  const out = bundle_path(dir);
  try {
    const now = new Date();
    utimesSync(out, now, now);
    return null;
  } catch { /* not bundled yet */ }
  const { build } = await import('esbuild');
  const index = join(resolve(dir), 'index.ts');
  try {
    const result = await build({
      entryPoints: [index], bundle: true, format: 'esm', platform: 'node', target: 'node20',
      sourcemap: 'inline', outfile: out, write: false, logLevel: 'silent', packages: 'external',
    });
    mkdirSync(bundle_dir(), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0]!.contents);
    renameSync(tmp, out);
    forget_old_bundles();
    return null;
  } catch (e) {
    const first = (e as EsbuildFailure).errors?.[0];
    if (!first) throw e;
    const at = first.location;
    return at ? { file: resolve(at.file), line: at.line, column: at.column, text: first.text } : { file: index, line: 1, column: 0, text: first.text };
  }
}
