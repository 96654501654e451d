// The worker side of a job: load a variant folder (fresh module instance per job, so one
// job's module state cannot leak into the next), or replay one scenario with one variant.
// The step being replayed is published in shared memory so a timed-out job can be located.
import { parentPort, workerData } from 'node:worker_threads';
import type { Job, JobReply } from './jobs.ts';
import { load_variant, design_cost } from '../variants.ts';
import { load_scenario_file } from '../scenario/load.ts';
import { run_scenario } from './run.ts';

const progress = new Int32Array(workerData.progress as SharedArrayBuffer);
let nonce = 0;

async function handle(job: Job): Promise<JobReply> {
  Atomics.store(progress, 0, 0);
  const lv = await load_variant(job.dir, ++nonce);
  if (job.type === 'load') {
    if (!lv.variant) return { type: 'loaded', info: null, error: lv.error };
    const v = lv.variant;
    let cost = null;
    try { cost = design_cost(v, lv.loc); } catch { cost = null; }
    return { type: 'loaded', info: { name: v.name, expect: v.expect, summary: v.summary, series: v.series, cost }, error: null };
  }
  if (!lv.variant) throw new Error(lv.error ?? 'variant did not load');
  const scn = load_scenario_file(job.file);
  return { type: 'result', result: run_scenario(scn, lv.variant, (index) => Atomics.store(progress, 0, index)) };
}

parentPort!.on('message', (job: Job) => {
  handle(job).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ type: 'crash', message: e instanceof Error ? e.message : String(e) } satisfies JobReply),
  );
});
