// vitest global setup: compile the harness and the variants into build/ when a source changed,
// as `npm run compare` does before it runs (harness/build.mjs), so that the end-to-end tests
// run what a user runs, and their CLI runs, two at a time, find build/ ready and never compile
// it at once.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build_if_stale } from '../harness/build.mjs';

export default function setup(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const status = build_if_stale(root);
  if (status !== 0) throw new Error(`compiling into build/ failed (tsc exit status ${status})`);
}
