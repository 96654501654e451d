// `npm run compare`: compile harness/ and variants/ into build/ if a source changed since the
// last build (harness/build.mjs), then run the compiled CLI. Plain JavaScript, as it runs
// before anything is compiled.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build_if_stale } from './build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const status = build_if_stale(ROOT);
if (status !== 0) process.exit(status);
await import(pathToFileURL(join(ROOT, 'build', 'harness', 'cli.js')).href);
