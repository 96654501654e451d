// The report files are written as a set: a reader finds all of one run's files, never some of
// this run's beside some of the last's. Each file is first written whole to a temporary name
// in the same directory and flushed; a journal naming every rename is then written (atomically,
// by rename itself) before the first rename, and removed after the last. A run killed between
// the two leaves the journal: the next compare writing there rolls it forward first, so the
// set it finds is whole. A lock file serialises two compares sharing --out: the second waits.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, parse, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const JOURNAL = '.compare-journal.json';
const LOCK = '.compare-lock';
/** how long a compare waits for another one writing to the same directory */
const LOCK_WAIT_MS = 120_000;

interface Journal { renames: Array<[string, string]>; remove: string[] }

/**
 * mkdir -p, one component at a time. (Node's recursive mkdirSync loops for ever on a path
 * below /proc/<pid>/, where mkdir answers ENOENT for a parent that exists.)
 */
export function make_dirs(dir: string): void {
  const path = resolve(dir);
  const { root } = parse(path);
  const parts: string[] = [];
  for (let p = path; p !== root; p = dirname(p)) parts.unshift(p);
  for (const p of parts) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if (!statSync(path).isDirectory()) throw new Error(`${dir} is not a directory`);
}

function write_flushed(path: string, content: string): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep_ms(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The pid of a live compare holding the directory's lock, or null. */
export function lock_holder(dir: string): number | null {
  let holder = NaN;
  try { holder = Number(readFileSync(join(dir, LOCK), 'utf8')); } catch { return null; }
  return Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder) ? holder : null;
}

/** Take the directory's lock (waiting while a live compare holds it); returns its release. */
function lock(dir: string): () => void {
  const path = join(dir, LOCK);
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      write_flushed(path, String(process.pid));
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try { holder = Number(readFileSync(path, 'utf8')); } catch { /* just released */ }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(path, { force: true });
    else if (Date.now() > until) throw new Error(`another compare (pid ${holder}) has been writing to ${dir} for ${LOCK_WAIT_MS / 1000} s`);
    else sleep_ms(50);
  }
}

function apply(dir: string, j: Journal): void {
  for (const [from, to] of j.renames) {
    try {
      renameSync(join(dir, from), join(dir, to));
    } catch (e) {
      // rolled forward already (a rename done before the kill)
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  for (const f of j.remove) rmSync(join(dir, f), { force: true });
  rmSync(join(dir, JOURNAL), { force: true });
}

/** A killed run's journal is finished; temporary files of dead runs without one are removed. */
function recover(dir: string): void {
  let text: string | null = null;
  try { text = readFileSync(join(dir, JOURNAL), 'utf8'); } catch { /* none */ }
  if (text !== null) {
    let j: Journal | null = null;
    try { j = JSON.parse(text) as Journal; } catch { /* a journal is renamed into place whole */ }
    if (j) apply(dir, j);
    else rmSync(join(dir, JOURNAL), { force: true });
  }
  for (const f of readdirSync(dir)) {
    const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, f), { force: true });
  }
}

/** Replace the set of report files in `dir` by `files` (name, content), removing `remove`. */
export function commit_report_set(dir: string, files: Array<[string, string]>, remove: string[] = []): string[] {
  make_dirs(dir);
  const unlock = lock(dir);
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const staged: Array<[string, string]> = [];
  try {
    recover(dir);
    for (const [name, content] of files) {
      const tmp = `${name}.${tag}.tmp`;
      staged.push([tmp, name]);
      write_flushed(join(dir, tmp), content);
    }
    const journal: Journal = { renames: staged, remove };
    const jtmp = `${JOURNAL}.${tag}.tmp`;
    write_flushed(join(dir, jtmp), JSON.stringify(journal));
    renameSync(join(dir, jtmp), join(dir, JOURNAL));
    apply(dir, journal);
    return files.map(([name]) => join(dir, name));
  } catch (e) {
    for (const [tmp] of staged) rmSync(join(dir, tmp), { force: true });
    throw e;
  } finally {
    unlock();
  }
}
