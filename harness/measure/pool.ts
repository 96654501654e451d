// A small pool of worker threads that runs jobs with a time limit each. Each slot's thread runs
// in a sandbox of its own (sandbox.ts: a child process that may write no file and start no
// process), so that a variant that ends its process costs its own job only. A job that times
// out or kills its worker gets a reply saying so; its worker is replaced and the other jobs go on.
// A worker that dies between jobs, or that its last job left timers in, is replaced before
// the next job. The workers start with the pool. The time limit starts when the worker is
// ready (its sandbox started, the harness imported), so a slow start on a busy machine is not
// charged to the variant. Replies come
// back in the order of the jobs, whatever order they finished in. stop() (Ctrl-C) ends every
// worker at once: jobs not finished get the reply `cancelled`.
import { totalmem } from 'node:os';
import type { Job, JobReply, WorkerMessage } from './jobs.ts';
import { ProcessDied, Sandbox, type SandboxWorker } from './sandbox.ts';

/** how long a new worker may take to start (its sandbox and the harness modules), whatever --timeout says */
const START_LIMIT_MS = 60_000;

/** Each worker's heap: a share of the machine's memory (the workers and this thread together),
 *  so that a variant that allocates without end loses its worker, not the machine the run. */
function heap_limit_mb(workers: number): number {
  const share = Math.floor(totalmem() / (workers + 1) / 2 ** 20);
  return Math.min(4096, Math.max(512, share));
}

/** What a job's process may hold beyond its heap limit: Node itself and the typed arrays (the
 *  kernel model's page tables, a variant's ArrayBuffers), which the heap limit does not count.
 *  Past it the sandbox ends the job (sandbox-host.ts). */
const OUTSIDE_HEAP_MB = 512;

interface Slot {
  /** the slot's child process, replaced when it died */
  box: Sandbox | null;
  worker: SandboxWorker<WorkerMessage | 'ready'> | null;
  /** true once the worker said it is ready, false if it died or stalled first */
  ready: Promise<boolean> | null;
  progress: Int32Array;
  /** ends the job in flight on this slot (stop()) */
  cancel: (() => void) | null;
  /** what the slot's job printed (stdout and stderr): the first OUTPUT_CAP characters, a count,
   *  the job (the last one, for output that comes after its reply) and a pending flush */
  printed: { text: string; bytes: number; job: Job | null; flush: ReturnType<typeof setTimeout> | null };
}

/** What a job may print that reaches the terminal: a variant's console.log while debugging
 *  is shown, cut; 160 MB of it would have buried the report. */
const OUTPUT_CAP = 4096;

function no_output(job: Job | null): Slot['printed'] {
  return { text: '', bytes: 0, job, flush: null };
}

function record_output(slot: Slot, text: string, chars: number): void {
  const p = slot.printed;
  if (p.text.length < OUTPUT_CAP) p.text += text.slice(0, OUTPUT_CAP - p.text.length);
  p.bytes += chars;
  // output can come after the job's reply: shown a moment after it stops coming
  if (p.flush) clearTimeout(p.flush);
  p.flush = setTimeout(() => show_output(slot), 100);
  p.flush.unref();
}

/** Show what the slot's job printed (cut), naming the job. */
function show_output(slot: Slot): void {
  const { text, bytes, job, flush } = slot.printed;
  if (flush) clearTimeout(flush);
  slot.printed = no_output(job);
  if (!bytes || !job) return;
  const what = job.type === 'scenario' ? job.file : job.type === 'load' ? `loading ${job.dir}` : `${job.dir} on ${job.file}`;
  const cut = bytes > text.length ? ` (${bytes} characters; the first ${text.length} shown)` : '';
  process.stderr.write(`compare: ${what} printed${cut}:\n${text.endsWith('\n') ? text : `${text}\n`}`);
}

function spawn(slot: Slot, heap_mb: number): void {
  if (!slot.box?.alive) slot.box = new Sandbox();
  const worker = slot.box.worker<WorkerMessage | 'ready'>('job-worker', {
    progress: slot.progress, resourceLimits: { maxOldGenerationSizeMb: heap_mb }, memory_limit_mb: heap_mb + OUTSIDE_HEAP_MB,
  });
  worker.on('output', (text, chars) => record_output(slot, text, chars));
  // a late error from a worker being replaced must not become the main thread's
  worker.on('error', () => {});
  // a worker that dies between jobs is replaced when the next job comes
  worker.on('exit', () => { if (slot.worker === worker) kill(slot); });
  slot.worker = worker;
  slot.ready = new Promise((resolve) => {
    const timer = setTimeout(() => settle(false), START_LIMIT_MS);
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      worker.off('message', on_ready);
      worker.off('exit', on_exit);
      resolve(ok);
    };
    const on_ready = (msg: unknown) => { if (msg === 'ready') settle(true); };
    const on_exit = () => settle(false);
    worker.on('message', on_ready);
    worker.once('exit', on_exit);
  });
}

function kill(slot: Slot): void {
  void slot.worker?.terminate();
  slot.worker = null;
  slot.ready = null;
}

async function run_job(slot: Slot, job: Job, timeout_ms: number, heap_mb: number, stopped: () => boolean): Promise<JobReply> {
  if (!slot.worker) spawn(slot, heap_mb);
  const worker = slot.worker!;
  const ok = await slot.ready;
  if (stopped()) return { type: 'cancelled' };
  if (!ok || slot.worker !== worker) {
    kill(slot);
    return { type: 'crash', message: `the worker did not start within ${START_LIMIT_MS / 1000} s`, step: 0 };
  }
  return new Promise((resolve) => {
    const done = (reply: JobReply, dead: boolean) => {
      clearTimeout(timer);
      slot.cancel = null;
      worker.off('message', on_message);
      worker.off('error', on_error);
      worker.off('exit', on_exit);
      if (dead) kill(slot);
      resolve(reply);
    };
    const step = () => Atomics.load(slot.progress, 0);
    const on_message = (msg: WorkerMessage | 'ready') => { if (msg !== 'ready') done(msg.reply, msg.recycle); };
    const on_error = (e: Error) => done({ type: 'crash', message: e.message, step: step(), ...(e instanceof ProcessDied ? { step_last_seen: true as const } : {}) }, true);
    const on_exit = (code: number) => done({ type: 'crash', message: `worker exited with code ${code}`, step: step() }, true);
    const timer = setTimeout(() => done({ type: 'timeout', step: step() }, true), timeout_ms);
    slot.cancel = () => done({ type: 'cancelled' }, true);
    worker.on('message', on_message);
    worker.once('error', on_error);
    worker.once('exit', on_exit);
    show_output(slot);
    slot.printed = no_output(job);
    // the last job's step must not stand for this one's until the sandbox relays a new one
    Atomics.store(slot.progress, 0, 0);
    worker.postMessage(job);
  });
}

export interface Pool {
  /** runs the jobs; `on_reply` is told how many have replied after each reply */
  run(jobs: Job[], on_reply?: (done: number, total: number) => void): Promise<JobReply[]>;
  /** End every worker now: running jobs and jobs not started reply `cancelled`. */
  stop(): void;
  readonly stopped: boolean;
  close(): Promise<void>;
}

/** `heap_mb`: each job's heap limit (a share of the machine's memory unless given). */
export function pool_create(concurrency: number, timeout_s: number, heap_mb = heap_limit_mb(Math.max(1, concurrency))): Pool {
  const slots: Slot[] = Array.from({ length: Math.max(1, concurrency) }, () => ({ box: null, worker: null, ready: null, progress: new Int32Array(new SharedArrayBuffer(4)), cancel: null, printed: no_output(null) }));
  let stopped = false;
  // start the workers now: they get ready while the caller reads its input
  for (const slot of slots) spawn(slot, heap_mb);
  return {
    get stopped() { return stopped; },
    async run(jobs, on_reply) {
      const replies: JobReply[] = jobs.map(() => ({ type: 'cancelled' }));
      let next = 0;
      let done = 0;
      await Promise.all(slots.map(async (slot) => {
        while (!stopped && next < jobs.length) {
          const i = next++;
          replies[i] = await run_job(slot, jobs[i]!, timeout_s * 1000, heap_mb, () => stopped);
          on_reply?.(++done, jobs.length);
        }
      }));
      return replies;
    },
    stop() {
      stopped = true;
      for (const slot of slots) {
        if (slot.cancel) slot.cancel();
        else kill(slot);
        void slot.box?.close();
      }
    },
    async close() {
      for (const s of slots) show_output(s);
      await Promise.all(slots.map(async (s) => { await s.box?.close(); s.box = null; s.worker = null; s.ready = null; }));
    },
  };
}
