// A small pool of worker threads that runs jobs with a time limit each. A job that times out
// or kills its worker gets a reply saying so; its worker is replaced and the other jobs go on.
// Replies come back in the order of the jobs, whatever order they finished in.
import { Worker } from 'node:worker_threads';
import type { Job, JobReply } from './jobs.ts';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./job-worker.ts', import.meta.url).href;

interface Slot { worker: Worker | null; progress: Int32Array }

function spawn(slot: Slot): Worker {
  const worker = new Worker(BOOT, { workerData: { entry: ENTRY, progress: slot.progress.buffer } });
  // a late error from a worker being replaced must not become the main thread's
  worker.on('error', () => {});
  slot.worker = worker;
  return worker;
}

function kill(slot: Slot): void {
  void slot.worker?.terminate();
  slot.worker = null;
}

function run_job(slot: Slot, job: Job, timeout_ms: number): Promise<JobReply> {
  const worker = slot.worker ?? spawn(slot);
  return new Promise((resolve) => {
    const done = (reply: JobReply, dead: boolean) => {
      clearTimeout(timer);
      worker.off('message', on_message);
      worker.off('error', on_error);
      worker.off('exit', on_exit);
      if (dead) kill(slot);
      resolve(reply);
    };
    const on_message = (reply: JobReply) => done(reply, false);
    const on_error = (e: Error) => done({ type: 'crash', message: e.message }, true);
    const on_exit = (code: number) => done({ type: 'crash', message: `worker exited with code ${code}` }, true);
    const timer = setTimeout(() => done({ type: 'timeout', step: Atomics.load(slot.progress, 0) }, true), timeout_ms);
    worker.on('message', on_message);
    worker.once('error', on_error);
    worker.once('exit', on_exit);
    worker.postMessage(job);
  });
}

export interface Pool {
  run(jobs: Job[]): Promise<JobReply[]>;
  close(): Promise<void>;
}

export function pool_create(concurrency: number, timeout_s: number): Pool {
  const slots: Slot[] = Array.from({ length: Math.max(1, concurrency) }, () => ({ worker: null, progress: new Int32Array(new SharedArrayBuffer(4)) }));
  return {
    async run(jobs) {
      const replies: JobReply[] = new Array(jobs.length);
      let next = 0;
      await Promise.all(slots.map(async (slot) => {
        while (next < jobs.length) {
          const i = next++;
          replies[i] = await run_job(slot, jobs[i]!, timeout_s * 1000);
        }
      }));
      return replies;
    },
    async close() {
      await Promise.all(slots.map(async (s) => { await s.worker?.terminate(); s.worker = null; }));
    },
  };
}
