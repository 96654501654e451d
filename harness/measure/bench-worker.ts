// One variant's benchmark worker (started in a sandbox, like the job workers): it
// builds and verifies that variant's fixtures once, then runs one tinybench pass each time
// the main thread asks. Each variant has a worker, and so a heap, of its own: the garbage one
// variant's fixtures leave does not slow the passes of the next.
import { parentPort } from 'node:worker_threads';
import type { BenchReply, BenchRequest, Prepared } from './bench-tasks.ts';
import { prepare, run_pass } from './bench-tasks.ts';
import { load_variant } from '../variants.ts';
import { load_scenario_file } from '../scenario/load.ts';
import { describe_thrown } from '../thrown.ts';

let prepared: Prepared | null = null;

async function handle(req: BenchRequest): Promise<BenchReply> {
  if (req.type === 'setup') {
    const lv = await load_variant(req.dir);
    if (!lv.variant) return { type: 'failed', message: `the variant did not load: ${lv.error ?? 'no error given'}` };
    const scn = req.file ? load_scenario_file(req.file) : null;
    const scale = req.scale_file ? load_scenario_file(req.scale_file) : null;
    prepared = prepare(lv.variant, scn, scale);
    return { type: 'setup', tasks: [...prepared.batches.keys()], skipped: [...prepared.skipped].map(([task, why]) => ({ task, why })) };
  }
  if (!prepared) return { type: 'failed', message: 'a pass before the setup' };
  return { type: 'pass', results: run_pass(prepared, req.options) };
}

parentPort!.on('message', (req: BenchRequest) => {
  handle(req).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ type: 'failed', message: describe_thrown(e) } satisfies BenchReply),
  );
});

parentPort!.postMessage({ type: 'ready' } satisfies BenchReply);
