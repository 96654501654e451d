// Which folders are variants (js-framework-benchmark style): every folder of the variants
// directory with an index.ts; adding one changes no other file. Kept apart from variants.ts,
// which loads them with the kernel model, so that the CLI's thread finds them without loading
// the model it never runs.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
