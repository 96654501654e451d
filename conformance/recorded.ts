// The committed observations of a real kernel run (recorded/observations.json) and where
// they came from.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseRecord } from './record.ts';

export interface Provenance {
  /** e.g. "Linux 7.3.4" */
  kernel: string;
  /** the kernel's "Linux version ..." banner */
  banner: string;
  /** where the source came from (Debian package and version, or a tree given with --kernel-src) */
  source: string;
  qemu: string;
  machine: string;
  /** the config fragment's settings, in order */
  config: string[];
  /** sha256 of the kit's patch and test source as built */
  patch_sha256: string;
  test_sha256: string;
  /** sha256 of the C table generated from cases.ts: the cases this run ran */
  cases_sha256: string;
  /** UTC date of the run, YYYY-MM-DD */
  date: string;
  /** wall time of the whole `npm run conformance`, seconds */
  wall_seconds: number;
}

export interface Observations {
  provenance: Provenance;
  records: CaseRecord[];
  /** per case, the kernel's IOMMU messages (for the reader; not compared) */
  messages: Record<string, string[]>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** conformance/ in the checkout, from the TypeScript or from JavaScript compiled into build/ */
export const CONFORMANCE_DIR = import.meta.url.endsWith('.js') ? join(HERE, '..', '..', 'conformance') : HERE;
export const RECORDED_PATH = join(CONFORMANCE_DIR, 'recorded', 'observations.json');
/** the serial console of the recorded run, which the observations were read from */
export const RECORDED_CONSOLE = join(CONFORMANCE_DIR, 'recorded', 'console.log');

export function load_recorded(path = RECORDED_PATH): Observations {
  return JSON.parse(readFileSync(path, 'utf8')) as Observations;
}
