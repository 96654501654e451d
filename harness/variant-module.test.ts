// The bundles the CLI makes of variant folders for the sandboxes (variant-module.ts): named by
// the folder's path and sources, an edit makes a new one, a folder esbuild cannot bundle gives
// the place, and bundles unused for a week go.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundle_path, bundle_variant } from './variant-module.ts';

const work = mkdtempSync(join(tmpdir(), 'variant-module-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('bundle_variant', () => {
  it('writes one ES module with the folder\'s own files in it, where bundle_path says, with a source map', async () => {
    const dir = folder('ok', { 'index.ts': "import { n } from './helper.ts';\nexport default { n };\n", 'helper.ts': 'export const n: number = 41 + 1;\n' });
    expect(await bundle_variant(dir)).toBeNull();
    const text = readFileSync(bundle_path(dir), 'utf8');
    expect(text).toMatch(/41 \+ 1/);
    expect(text).not.toMatch(/from ['"]\.\/helper/);
    expect(text).toMatch(/sourceMappingURL=data:application\/json;base64,/);
  });

  it('an edit of any source names another bundle', async () => {
    const dir = folder('edited', { 'index.ts': 'export default 1;\n' });
    const before = bundle_path(dir);
    writeFileSync(join(dir, 'index.ts'), 'export default 2;\n');
    expect(bundle_path(dir)).not.toBe(before);
  });

  it('a folder esbuild cannot bundle gives the file, the line and the byte column', async () => {
    const dir = folder('broken', { 'index.ts': "import { x } from './missing.ts';\nexport default x;\n" });
    expect(await bundle_variant(dir)).toEqual({ file: join(dir, 'index.ts'), line: 1, column: 18, text: 'Could not resolve "./missing.ts"' });
  });

  it('a bundle unused for a week goes when another is made; one used again is kept', async () => {
    const used = folder('used', { 'index.ts': 'export default 3;\n' });
    expect(await bundle_variant(used)).toBeNull();
    const old = join(dirname(bundle_path(used)), `old-${process.pid}.mjs`);
    writeFileSync(old, '');
    const eight_days_ago = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    for (const f of [old, bundle_path(used)]) utimesSync(f, eight_days_ago, eight_days_ago);
    // used again (its time renewed), then another folder bundled
    expect(await bundle_variant(used)).toBeNull();
    expect(await bundle_variant(folder('new', { 'index.ts': 'export default 4;\n' }))).toBeNull();
    expect(existsSync(old)).toBe(false);
    expect(existsSync(bundle_path(used))).toBe(true);
  });
});
