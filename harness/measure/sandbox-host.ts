// The child process of a sandbox (sandbox.ts): it runs under Node's permission model (read any
// file, write none, start no process) and hosts the harness worker threads its parent asks for,
// relaying their messages, their output (cut) and the step they publish. It also holds a
// thread to its memory limit: a worker's resourceLimits bound its heap, but not the
// ArrayBuffers it allocates (typed arrays live outside the heap), so the process's resident
// memory is read with the step and a thread over its limit is ended. It holds no state of its
// own worth keeping: when its parent goes, it goes.
import { Worker } from 'node:worker_threads';
import type { HostMessage, ParentMessage } from './sandbox-protocol.ts';

/** what a thread may print between two messages from the parent (a job), relayed whole; past
 *  it only the count of characters goes up */
const OUTPUT_RELAYED = 64 * 1024;
/** how often a thread's published step is read (and, when it changed, sent up) and the
 *  process's memory measured */
const WATCH_EVERY_MS = 20;

interface Hosted {
  worker: Worker;
  /** characters relayed since the last message from the parent */
  relayed: number;
  progress: Int32Array | null;
  last_progress: number;
  memory_limit_mb: number | null;
}

const threads = new Map<number, Hosted>();

function send(msg: HostMessage): void {
  process.send?.(msg);
}

function relay_output(id: number, t: Hosted, stream: 'stdout' | 'stderr', chunk: Buffer): void {
  const text = chunk.toString('utf8');
  const room = Math.max(0, OUTPUT_RELAYED - t.relayed);
  t.relayed += text.length;
  send({ type: 'output', id, stream, text: text.slice(0, room), chars: text.length });
}

function start(msg: Extract<ParentMessage, { type: 'start' }>): void {
  const progress = msg.progress ? new Int32Array(new SharedArrayBuffer(4)) : null;
  const workerData = { ...msg.workerData, ...(progress ? { progress: progress.buffer } : {}) };
  const worker = new Worker(new URL(msg.entry), { workerData, resourceLimits: msg.resourceLimits, stdout: true, stderr: true });
  const t: Hosted = { worker, relayed: 0, progress, last_progress: 0, memory_limit_mb: msg.memory_limit_mb };
  threads.set(msg.id, t);
  worker.stdout.on('data', (chunk: Buffer) => relay_output(msg.id, t, 'stdout', chunk));
  worker.stderr.on('data', (chunk: Buffer) => relay_output(msg.id, t, 'stderr', chunk));
  worker.on('message', (message: unknown) => send({ type: 'message', id: msg.id, message }));
  worker.on('error', (e: Error) => send({ type: 'error', id: msg.id, message: e.message }));
  worker.on('exit', (code) => {
    threads.delete(msg.id);
    send({ type: 'exit', id: msg.id, code });
  });
}

process.on('message', (msg: ParentMessage) => {
  if (msg.type === 'start') return start(msg);
  const t = threads.get(msg.id);
  if (!t) return;
  if (msg.type === 'post') {
    t.relayed = 0;
    t.worker.postMessage(msg.message);
  } else void t.worker.terminate();
});

/** A thread took its process over its memory limit: say so, then end the process (memory
 *  freed by a thread is not always given back, and the next job must not start over it). */
function over_limit(id: number, t: Hosted, rss_mb: number): void {
  const message = `the job's memory went over its limit: its process held ${Math.round(rss_mb)} MiB, the limit is ${t.memory_limit_mb} MiB (heap, typed arrays and all)`;
  t.memory_limit_mb = null;
  process.send?.({ type: 'over-limit', id, message } satisfies HostMessage, () => process.exit(1));
}

setInterval(() => {
  const rss_mb = process.memoryUsage.rss() / 2 ** 20;
  for (const [id, t] of threads) {
    const value = t.progress ? Atomics.load(t.progress, 0) : 0;
    if (value !== t.last_progress) send({ type: 'progress', id, value });
    t.last_progress = value;
    if (t.memory_limit_mb !== null && rss_mb > t.memory_limit_mb) over_limit(id, t, rss_mb);
  }
}, WATCH_EVERY_MS);

// the parent went (ended, or killed): nothing here is worth finishing
process.on('disconnect', () => process.exit(0));
