// `npm run compare`: compile harness/ into build/ if a source changed since the last build
// (tsc, incremental, tsconfig.build.json; see harness/runtime.ts), then run the compiled CLI.
// Plain JavaScript, as it runs before anything is compiled; the check costs a few stat calls,
// where asking tsc whether anything changed costs a third of a second.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** written after each build that succeeded */
const STAMP = join(ROOT, 'build', '.stamp');

function mtime(path) {
  try { return statSync(path).mtimeMs; } catch { return -1; }
}

/** the newest .ts under dir */
function newest(dir) {
  let t = -1;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(path));
    else if (e.name.endsWith('.ts')) t = Math.max(t, mtime(path));
  }
  return t;
}

const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => mtime(join(ROOT, f)));
if (mtime(STAMP) < Math.max(newest(join(ROOT, 'harness')), ...inputs)) {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.error) process.stderr.write(`compare: cannot compile the harness: ${r.error.message} (did npm ci run?)\n`);
  if (r.status !== 0) process.exit(r.status || 2);
  writeFileSync(STAMP, '');
}
await import(pathToFileURL(join(ROOT, 'build', 'harness', 'cli.js')).href);
