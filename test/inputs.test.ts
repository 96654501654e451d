// Inputs that fuzzing found unhandled (issue 12, part 4): each is now an error with a
// position, exit 2, and never replaces the previous reports; and the report files are written
// as a set, also when a run is killed half-way or two compares share --out.
// Loader cases are checked on load_scenario_file directly; the CLI cases run `npm run compare`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results } from '../harness/measure/results.ts';
import { load_scenario_file } from '../harness/scenario/load.ts';
import { ScenarioError } from '../harness/scenario/types.ts';
import { commit_report_set, make_dirs } from '../harness/report/report-set.ts';
import { write_reports } from '../harness/report/write.ts';
import { sample_results } from '../harness/report/sample.test-data.ts';
import { compare_command } from './compare-command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPARE = compare_command(ROOT);
const GOOD = join(ROOT, 'test', 'fixtures', 'late-iommu.yaml');
const STACK_LINE = /^\s+at /m;
const work = mkdtempSync(join(tmpdir(), 'inputs-test-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The good fixture with `edit` applied to its text, written to a file of its own. */
function variant_of_good(name: string, edit: (text: string) => string): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, edit(readFileSync(GOOD, 'utf8')));
  return file;
}

/** "line:col: message" of the ScenarioError loading `file` throws. */
function load_error(file: string): string {
  try {
    load_scenario_file(file);
  } catch (e) {
    if (e instanceof ScenarioError) return `${e.line}:${e.col}: ${e.detail}`;
    throw e;
  }
  throw new Error(`${file} loaded`);
}

describe('scenario files the loader used to take (or choke on)', () => {
  it('the base file loads', () => {
    expect(load_scenario_file(GOOD).id).toBe('late-iommu');
  });

  it('a scenario identifier, context or buffer name longer than 64 characters', () => {
    const long = 'a'.repeat(65);
    expect(load_error(variant_of_good('long-id', (t) => t.replace('scenario: late-iommu', `scenario: ${long}`)))).toMatch(/^5:11: scenario 'a{20}\.\.\.' is 65 characters long; at most 64$/);
    expect(load_error(variant_of_good('long-ctx', (t) => t.replaceAll('non-pixel', 'n'.repeat(70))))).toMatch(/^24:43: name 'n{20}\.\.\.' is 70 characters long; at most 64$/);
    expect(load_error(variant_of_good('long-buf', (t) => t.replaceAll('hfi', 'h'.repeat(1_000_000))))).toMatch(/^26:44: buffer 'h{20}\.\.\.' is 1000000 characters long; at most 64$/);
    expect(load_scenario_file(variant_of_good('64', (t) => t.replaceAll('non-pixel', 'n'.repeat(64)))).steps.length).toBeGreaterThan(0);
  });

  it('remove of a node never probed, or removed already', () => {
    expect(load_error(variant_of_good('remove-unprobed', (t) => t.replace('  - probe: iris\n    expect: deferred\n', '')))).toMatch(/^\d+:13: remove: \/video-codec@aa00000 is not probed/);
    expect(load_error(variant_of_good('remove-twice', (t) => `${t}  - remove: iris\n`))).toMatch(/^\d+:13: remove: \/video-codec@aa00000 is not probed/);
  });

  it("a stream ID beyond the SMMU's streamid_mask", () => {
    const file = variant_of_good('sid', (t) => `${t.replace('  - remove: iris\n', '')}  - dma: { sid: 0x10000, buffer: hfi, expect: fault }\n`);
    expect(load_error(file)).toMatch(/^\d+:17: sid 0x10000 is beyond the SMMU's stream IDs \(streamid_mask 0xffff\)$/);
  });

  it('a directory named *.yaml', () => {
    const dir = join(work, 'dir.yaml');
    mkdirSync(dir, { recursive: true });
    expect(load_error(dir)).toBe('1:1: a directory, not a scenario file');
  });

  it('a file that is not UTF-8: UTF-16 with or without a byte-order mark, Latin-1', () => {
    const text = readFileSync(GOOD, 'utf8');
    const u16 = join(work, 'u16.yaml');
    writeFileSync(u16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(load_error(u16)).toBe('1:1: the file is UTF-16 (it starts with a byte-order mark); scenario files are UTF-8');
    const u16_bare = join(work, 'u16-bare.yaml');
    writeFileSync(u16_bare, Buffer.from(text, 'utf16le'));
    expect(load_error(u16_bare)).toMatch(/^1:2: a NUL byte: scenario files are UTF-8 text/);
    const latin1 = join(work, 'latin1.yaml');
    writeFileSync(latin1, Buffer.from(text.replace('The SMMU registers', 'The SMMU r\u00e9gisters'), 'latin1'));
    expect(load_error(latin1)).toMatch(/^6:20: the byte 0xe9, which is not UTF-8: scenario files are UTF-8 text/);
  });

  it('a valid 48 MB file is refused with the limit', () => {
    const big = join(work, 'big.yaml');
    const fd = openSync(big, 'w');
    const text = readFileSync(GOOD, 'utf8').replace('steps:\n', '');
    const step = '  - dma: { context: non-pixel, buffer: hfi, offset: 0x40, write: true }\n';
    writeSync(fd, text);
    writeSync(fd, 'steps:\n  - iommu_register: apps_smmu\n  - probe: iris\n  - create_context: { parent: iris, name: non-pixel, id: 0 }\n  - dma_map: { context: non-pixel, buffer: hfi, size: 0x10000 }\n');
    const chunk = step.repeat(2 ** 14);
    for (let n = 0; n < 48 * 2 ** 20; n += chunk.length) writeSync(fd, chunk);
    closeSync(fd);
    const t0 = performance.now();
    expect(load_error(big)).toMatch(/^1:1: the file is 48\.\d MiB; a scenario file may be at most 4 MiB \(write long runs with repeat\)$/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('report files as a set', () => {
  it('mkdir -p of a path under /proc fails at once instead of looping', () => {
    expect(() => make_dirs('/proc/self/reports/a')).toThrow(/ENOENT/);
  });

  it("a killed run's journal is rolled forward by the next writer: all of one set, then all of the next", () => {
    const dir = join(work, 'journal');
    write_reports(dir, sample_results());
    // what a run killed after its first rename leaves: its journal, and the files not yet renamed
    const dead = 999_999_999;
    writeFileSync(join(dir, `summary.txt.${dead}.0.tmp`), 'killed run: summary.txt\n');
    writeFileSync(join(dir, `results.json.${dead}.0.tmp`), '{"killed": true}\n');
    writeFileSync(join(dir, '.compare-journal.json'), JSON.stringify({ renames: [[`summary.md.${dead}.0.tmp`, 'summary.md'], [`summary.txt.${dead}.0.tmp`, 'summary.txt'], [`results.json.${dead}.0.tmp`, 'results.json']], remove: [] }));
    writeFileSync(join(dir, '.compare-lock'), String(dead));
    const written: string[] = [];
    // the next writer: it finishes the dead run's set before it starts its own
    commit_report_set(dir, [['summary.txt', 'next\n'], ['extra.txt', 'x\n']]);
    written.push(readFileSync(join(dir, 'results.json'), 'utf8'), readFileSync(join(dir, 'summary.txt'), 'utf8'));
    expect(written).toEqual(['{"killed": true}\n', 'next\n']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);
  });
});

// ------------------------------------------------------------------ the CLI

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function cli(args: string[]): Promise<Run> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(COMPARE.cmd, [...COMPARE.args, '--bench', 'off', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

const empty = join(work, 'empty');
const with_dir = join(work, 'with-dir');
const kept = join(work, 'kept');
const shared = join(work, 'shared');
const locked = join(work, 'locked');
const runs: Record<string, Run> = {};
/** when the process holding `locked`'s lock ended, and when the compare waiting for it did */
const lock_times = { holder_ended: 0, compare_ended: 0 };

/** A compare writing to a directory whose lock a live process (sleep 20, longer than a run) holds. */
async function locked_run(args: string[]): Promise<Run> {
  mkdirSync(locked, { recursive: true });
  const holder = spawn('sleep', ['20']);
  writeFileSync(join(locked, '.compare-lock'), String(holder.pid));
  const ended = new Promise<void>((r) => holder.on('exit', () => { lock_times.holder_ended = performance.now(); r(); }));
  const run = await cli([...args, '--out', locked]);
  lock_times.compare_ended = performance.now();
  await ended;
  return run;
}

beforeAll(async () => {
  mkdirSync(empty, { recursive: true });
  mkdirSync(join(with_dir, 'not-a-file.yaml'), { recursive: true });
  write_reports(kept, sample_results());
  const one = ['--variants', 'dma-context-bus', '--scenarios'];
  const [a, b, c, d, e, f] = await Promise.all([
    cli([...one, empty, '--out', kept]),
    cli([...one, with_dir, GOOD, '--out', kept]),
    cli([...one, GOOD, '--out', '/proc/self/reports']),
    // two compares sharing --out
    cli([...one, GOOD, '--out', shared, '--format', 'json']),
    cli(['--variants', 'iris-vpu-bus', '--scenarios', GOOD, '--out', shared, '--format', 'json']),
    locked_run([...one, GOOD]),
  ]);
  Object.assign(runs, { empty: a, with_dir: b, proc: c, shared_a: d, shared_b: e, locked: f });
}, 180_000);

describe('the CLI on bad input: exit 2 with a position, the previous reports kept', () => {
  it('an empty scenario directory', () => {
    const r = runs['empty']!;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${empty}:1:1: no scenario file (*.yaml, *.yml) in this directory`);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a directory named *.yaml inside a scenario directory', () => {
    const r = runs['with_dir']!;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(with_dir, 'not-a-file.yaml')}:1:1: a directory, not a scenario file`);
  });

  it('bad input leaves the previous reports byte for byte', () => {
    const before = new Map<string, string>();
    const fresh = join(work, 'fresh');
    write_reports(fresh, sample_results());
    for (const f of readdirSync(fresh)) before.set(f, readFileSync(join(fresh, f), 'utf8'));
    expect(readdirSync(kept).sort()).toEqual([...before.keys()].sort());
    for (const [f, text] of before) expect(readFileSync(join(kept, f), 'utf8'), f).toBe(text);
  });

  it('an --out that cannot be written (/proc/...): exit 2 at once, before any run', () => {
    const r = runs['proc']!;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^compare: cannot write reports to \/proc\/self\/reports: ENOENT/);
    expect(r.stdout).toBe('');
  });
});

describe('two compares sharing --out', () => {
  it('a compare waits while another live one holds the lock, then writes its whole set', () => {
    expect(runs['locked']!.code).toBe(0);
    expect(lock_times.compare_ended).toBeGreaterThan(lock_times.holder_ended);
    expect(readdirSync(locked).sort()).toEqual(['details.txt', 'results.json', 'summary.md', 'summary.txt']);
  });

  it('both finish, and the directory holds one whole set: the last writer\'s', () => {
    const a = runs['shared_a']!;
    const b = runs['shared_b']!;
    expect([a.code, b.code]).toEqual([0, 0]);
    const json = readFileSync(join(shared, 'results.json'), 'utf8');
    const ra = JSON.parse(a.stdout) as Results;
    const rb = JSON.parse(b.stdout) as Results;
    const names = (JSON.parse(json) as Results).variants.map((v) => v.name);
    expect([ra.variants.map((v) => v.name), rb.variants.map((v) => v.name)]).toContainEqual(names);
    const winner = names[0] === 'dma-context-bus' ? 'dma-context-bus' : 'iris-vpu-bus';
    for (const f of ['summary.md', 'summary.txt']) expect(readFileSync(join(shared, f), 'utf8'), f).toContain(winner);
    expect(readdirSync(shared).filter((f) => f.startsWith('.') || f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(shared, 'details.txt'))).toBe(true);
  });
});
