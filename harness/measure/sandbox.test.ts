// The sandbox a job runs in (sandbox.ts, sandbox-host.ts), through the pool as the CLI uses it,
// with fixtures the CLI's source check would refuse (test/fixtures/sandbox/): what gets past
// that check meets Node's permission model and the memory watch, and costs its own job only.
// The sandboxes run the compiled harness: vitest's global setup builds build/ first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pool_create, type Pool } from './pool.ts';
import { prepare_variant } from '../variants.ts';
import type { Job, JobReply } from './jobs.ts';

const FIXTURES = 'test/fixtures/sandbox';
const SCENARIO = 'scenarios/qda-cdsp.yaml';
const work = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
const written = join(work, 'written-from-a-sandbox');

const run = (dir: string): Job => ({ type: 'run', file: SCENARIO, dir, memory: false, patches: null });

function message(reply: JobReply): string {
  if (reply.type === 'crash') return reply.message;
  if (reply.type === 'result') return reply.result.failures.map((f) => f.message).join('\n');
  return reply.type;
}

let pool: Pool;

beforeAll(async () => {
  for (const f of ['allocates-outside-heap', 'kills-its-process', 'writes-a-file']) expect(await prepare_variant(join(FIXTURES, f))).toBeNull();
  process.env['SANDBOX_TEST_FILE'] = written;
  // one slot, so that each job runs where the one before it died; a heap of 256 MiB puts the
  // memory limit at 768 MiB, half of what the allocating fixture asks for
  pool = pool_create(1, 60, 256);
}, 60_000);

afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a job in a sandbox (pool.ts, sandbox.ts)', () => {
  it('a variant that kills its process costs its own job: the next one, on the same slot, passes', async () => {
    const [killed, next] = await pool.run([run(join(FIXTURES, 'kills-its-process')), run('variants/dma-context-bus')]);
    expect(killed).toMatchObject({ type: 'crash', message: 'the worker process died (killed by SIGKILL)', step_last_seen: true });
    expect(next!.type === 'result' && next!.result.verdict).toBe('pass');
  }, 60_000);

  it('a write to a file is refused (ERR_ACCESS_DENIED): the run is an error, and no file appears', async () => {
    const [reply] = await pool.run([run(join(FIXTURES, 'writes-a-file'))]);
    expect(reply!.type === 'result' && reply!.result.verdict).toBe('error');
    expect(message(reply!)).toMatch(/writes-a-file\.boot threw Error: Access to this API has been restricted/);
    expect(existsSync(written)).toBe(false);
  }, 60_000);

  it('typed arrays past the job\'s memory limit end the job, though its heap stays small; the next job passes', async () => {
    const [big, next] = await pool.run([run(join(FIXTURES, 'allocates-outside-heap')), run('variants/dma-context-bus')]);
    expect(big).toMatchObject({ type: 'crash' });
    expect(message(big!)).toMatch(/^the job's memory went over its limit: its process held \d+ MiB, the limit is 768 MiB \(heap, typed arrays and all\)$/);
    expect(next!.type === 'result' && next!.result.verdict).toBe('pass');
  }, 60_000);
});
