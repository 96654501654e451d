// The worker side of a job: load a variant folder (fresh module instance per job, so one
// job's module state cannot leak into the next), check a scenario file, or replay one scenario
// with one variant.
// The step being replayed is published in shared memory so a timed-out job can be located.
// A job that leaves timers behind, or an exception thrown outside any job (a variant's
// setTimeout or unhandled promise), marks the worker for replacement: the next job, maybe
// another variant's, must not meet it.
import { parentPort, workerData } from 'node:worker_threads';
import { PROGRESS_DESIGN_COST, type Job, type JobReply, type WorkerMessage } from './jobs.ts';
import { load_variant, design_cost } from '../variants.ts';
import { ScenarioError } from '../scenario/types.ts';
import { scenario_cached } from './scenario-cache.ts';
import { scenario_digest } from '../scenario/digest.ts';
import { run_with_needs, with_patches } from './needs.ts';

const progress = new Int32Array(workerData.progress as SharedArrayBuffer);
let nonce = 0;
let stray_error = false;

process.on('uncaughtException', () => { stray_error = true; });
process.on('unhandledRejection', () => { stray_error = true; });

/** Check a scenario file; the worker keeps what it loaded for the runs that follow. */
function check_scenario(file: string, patches: string[] | null): JobReply {
  try {
    return { type: 'scenario', digest: scenario_digest(with_patches(scenario_cached(file), patches)) };
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const more = e.more.map((m) => ({ file: e.file, line: m.line, col: m.col, message: m.detail }));
    return { type: 'bad-scenario', error: { file: e.file, line: e.line, col: e.col, message: e.detail }, more };
  }
}

async function handle(job: Job): Promise<JobReply> {
  Atomics.store(progress, 0, 0);
  if (job.type === 'scenario') return check_scenario(job.file, job.patches);
  const lv = await load_variant(job.dir, ++nonce);
  if (job.type === 'load') {
    if (!lv.variant) return { type: 'loaded', info: null, error: lv.error };
    const v = lv.variant;
    let cost = null;
    Atomics.store(progress, 0, PROGRESS_DESIGN_COST);
    try { cost = design_cost(v, lv.loc); } catch { cost = null; }
    return { type: 'loaded', info: { name: v.name, expect: v.expect, summary: v.summary, series: v.series, cost }, error: null };
  }
  if (!lv.variant) return { type: 'failed', message: `the variant did not load this time: ${lv.error ?? 'no error given'}` };
  const scn = with_patches(scenario_cached(job.file), job.patches);
  return { type: 'result', result: run_with_needs(scn, lv.variant, { on_step: (index) => Atomics.store(progress, 0, index), memory: job.memory }) };
}

/** Timers or immediates still pending once a job is over belong to the variant. */
function left_behind(): boolean {
  return process.getActiveResourcesInfo().some((r) => r === 'Timeout' || r === 'Immediate');
}

parentPort!.on('message', (job: Job) => {
  const post = (reply: JobReply) => {
    const msg: WorkerMessage = { reply, recycle: stray_error || left_behind() };
    parentPort!.postMessage(msg);
  };
  handle(job).then(post, (e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }));
});

// the pool starts a job's clock from here: starting the sandbox and the harness is not the variant's time
parentPort!.postMessage('ready');
