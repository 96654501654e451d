// Compiling ahead (build.mjs) and loading what was compiled (runtime.ts, compiled_variant): a
// variant is imported as JavaScript only when that JavaScript is the folder as it is now, and a
// variant that does not compile is left to tsx, which reports it at its position. Each build
// runs the real tsc on a small project in a temporary directory.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build_if_stale } from './build.mjs';
import { compiled_variant } from './runtime.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'build-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function write(root: string, path: string, text: string): string {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Sets a file's modification time, seconds from now. */
function age(file: string, seconds: number): void {
  const t = new Date(Date.now() + seconds * 1000);
  utimesSync(file, t, t);
}

/** A project with the repository's tsconfigs, one harness file and the variants given. */
function project(name: string, variants: Record<string, string>): string {
  const root = join(work, name);
  mkdirSync(root);
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.variants.json', 'package.json']) copyFileSync(join(ROOT, f), join(root, f));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  write(root, 'harness/x.ts', 'export const x = 1;\n');
  for (const [dir, text] of Object.entries(variants)) write(root, `variants/${dir}/index.ts`, text);
  return root;
}

const GOOD = "import { two } from './two.ts';\nexport default { name: 'a', n: two };\n";

describe('build_if_stale', () => {
  it('compiles the harness and the variants, then nothing until a file changes, comes or goes', () => {
    const root = project('p1', { a: GOOD });
    write(root, 'variants/a/two.ts', 'export const two: number = 2;\n');
    expect(build_if_stale(root)).toBe(0);
    expect(existsSync(join(root, 'build/harness/x.js'))).toBe(true);
    expect(readFileSync(join(root, 'build/variants/a/index.js'), 'utf8')).toContain("from './two.js'");
    // a stamp dated ahead: a build would write it anew, dated now
    const stamp = join(root, 'build/.stamp');
    age(stamp, 60);
    const before = statSync(stamp).mtimeMs;
    expect(build_if_stale(root)).toBe(0);
    expect(statSync(stamp).mtimeMs).toBe(before);
    // a new file older than the stamp still makes a build: the list of files changed
    age(write(root, 'variants/b/index.ts', "export default { name: 'b' };\n"), -120);
    expect(build_if_stale(root)).toBe(0);
    expect(existsSync(join(root, 'build/variants/b/index.js'))).toBe(true);
  });

  it('leaves every variant to tsx when one of them does not compile, and compiles them again once it is gone', () => {
    const root = project('p2', { a: GOOD, broken: "export default {\n  name: 'x',;\n};\n" });
    write(root, 'variants/a/two.ts', 'export const two = 2;\n');
    expect(build_if_stale(root)).toBe(0);
    expect(existsSync(join(root, 'build/harness/x.js'))).toBe(true);
    expect(existsSync(join(root, 'build/variants'))).toBe(false);
    rmSync(join(root, 'variants/broken'), { recursive: true });
    expect(build_if_stale(root)).toBe(0);
    expect(existsSync(join(root, 'build/variants/a/index.js'))).toBe(true);
  });

  it('stops when the harness does not compile', () => {
    const root = project('p3', { a: GOOD });
    write(root, 'harness/x.ts', 'export const x = ;\n');
    expect(build_if_stale(root)).not.toBe(0);
    expect(existsSync(join(root, 'build/.stamp'))).toBe(false);
  });
});

describe('compiled_variant', () => {
  const root = join(work, 'c');
  const index = write(root, 'variants/a/index.ts', 'export default {};\n');
  const helper = write(root, 'variants/a/lib/helper.ts', 'export {};\n');
  const js = write(root, 'build/variants/a/index.js', 'export default {};\n');
  write(root, 'variants/a/README.md', '# a\n');
  const outside = write(root, 'elsewhere/a/index.ts', 'export default {};\n');

  it('gives the compiled JavaScript of a folder of the project\'s variants/ when it is newer than every .ts of the folder', () => {
    for (const f of [index, helper]) age(f, -60);
    age(js, -30);
    expect(compiled_variant(index, root)).toBe(js);
  });

  it('gives nothing when a .ts of the folder, nested or not, changed after the build', () => {
    age(helper, -10);
    expect(compiled_variant(index, root)).toBe(null);
    age(helper, -60);
    age(index, -10);
    expect(compiled_variant(index, root)).toBe(null);
    age(index, -60);
  });

  it('gives nothing for a folder that holds a file other than TypeScript and Markdown (tsc would not copy it)', () => {
    const data = write(root, 'variants/a/lib/table.json', '{}\n');
    age(data, -60);
    expect(compiled_variant(index, root)).toBe(null);
    rmSync(data);
    expect(compiled_variant(index, root)).toBe(js);
  });

  it('gives nothing without a build, or for a folder outside the project\'s variants/', () => {
    expect(compiled_variant(outside, root)).toBe(null);
    rmSync(js);
    expect(compiled_variant(index, root)).toBe(null);
  });
});
