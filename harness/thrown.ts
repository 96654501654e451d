// Describing what a variant threw, for reports: the error's name and message, and where in
// the variant's own code it was raised (the first stack frame outside the harness), with the
// harness function it was in when the throw came from kernel code the variant called.
import { isAbsolute, relative, sep } from 'node:path';
import { HARNESS_DIRS } from './runtime.ts';

const in_harness = (file: string) => HARNESS_DIRS.some((dir) => file.startsWith(dir));

/** A path as reports show it: relative to the working directory when inside it, else absolute. */
export function shown_path(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

interface Frame { fn: string | null; file: string; line: number; col: number }

/** The frames of a V8 stack trace that name a file ("at f (file:1:2)" or "at file:1:2"). */
export function stack_frames(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:(.*?) \()?(?:file:\/\/)?([^()\s][^()]*?):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    let file = m[2]!;
    if (file.startsWith('node:') || file.includes(`${sep}node_modules${sep}`)) continue;
    try { if (file.startsWith('/') && file.includes('%')) file = decodeURIComponent(file); } catch { /* keep it */ }
    out.push({ fn: m[1] ?? null, file: file.replace(/\?.*$/, ''), line: Number(m[3]), col: Number(m[4]) });
  }
  return out;
}

function at(f: Frame): string {
  return `${shown_path(f.file)}:${f.line}:${f.col}`;
}

/** "RangeError: message (at variants/x/index.ts:12:5)"; for a throw inside kernel code,
 *  "TypeError: message in device_add (harness/kernel/base/core.ts:70:3), called from ...". */
export function describe_thrown(e: unknown): string {
  if (!(e instanceof Error)) return `${typeof e === 'string' ? JSON.stringify(e) : String(e)} (a non-Error value was thrown)`;
  let name = 'Error';
  let message = '';
  let stack = '';
  try {
    name = String(e.name);
    message = String(e.message).split('\n')[0] ?? '';
    stack = String(e.stack ?? '');
  } catch {
    // an error whose own fields throw: say what can be said
  }
  const frames = stack_frames(stack);
  const own = frames.find((f) => !in_harness(f.file));
  const top = frames[0];
  const inside = top && top !== own && in_harness(top.file) ? ` in ${top.fn ?? 'harness code'} (${at(top)})` : '';
  const from = own ? (inside ? `, called from ${at(own)}` : ` (at ${at(own)})`) : '';
  return `${name}: ${message}${inside}${from}`;
}
