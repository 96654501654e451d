// The command `npm run compare` runs, read from package.json, so that the end-to-end tests run
// the harness exactly as a user does: harness/compare.mjs and the JavaScript compiled into
// build/ (vitest's global setup, test/build.global.ts, compiles it first).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function compare_command(root: string): { cmd: string; args: string[] } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { compare: string } };
  const run = pkg.scripts.compare.trim().split(/\s+/);
  if (run[0] !== 'node') throw new Error(`package.json: the compare script should end in a node command: ${pkg.scripts.compare}`);
  return { cmd: process.execPath, args: run.slice(1) };
}
