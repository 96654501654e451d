import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { format_json } from './json.ts';
import { format_ktap } from './ktap.ts';
import { format_markdown } from './markdown.ts';
import { format_terminal } from './terminal.ts';
import { format_report, write_atomic, write_reports } from './write.ts';
import { sample_results } from './sample.test-data.ts';

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'report-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('write_reports', () => {
  it('creates the directory and writes the four files, leaving no temporary file', () => {
    const dir = join(scratch(), 'a', 'reports');
    const paths = write_reports(dir, sample_results());
    expect(paths).toEqual(['summary.md', 'summary.txt', 'details.txt', 'results.json', 'bench.svg'].map((f) => join(dir, f)));
    expect(readdirSync(dir).sort()).toEqual(['bench.svg', 'details.txt', 'results.json', 'summary.md', 'summary.txt']);
    expect(readFileSync(join(dir, 'results.json'), 'utf8')).toBe(format_json(sample_results()));
  });

  it('replaces old reports by rename, not by rewriting them in place', () => {
    const dir = scratch();
    write_reports(dir, sample_results());
    const before = statSync(join(dir, 'summary.txt')).ino;
    const r = sample_results();
    r.kernel = 'Linux v6.13 (modelled)';
    write_reports(dir, r);
    expect(statSync(join(dir, 'summary.txt')).ino).not.toBe(before);
    expect(readFileSync(join(dir, 'summary.txt'), 'utf8')).toContain('Linux v6.13');
    expect(readdirSync(dir).sort()).toEqual(['bench.svg', 'details.txt', 'results.json', 'summary.md', 'summary.txt']);
  });

  it('writes the bar chart only with measured rows, and removes an old one without', () => {
    const dir = scratch();
    write_reports(dir, sample_results());
    expect(readFileSync(join(dir, 'bench.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*translate-hot[\s\S]*<\/svg>\n$/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('](bench.svg)');
    write_reports(dir, { ...sample_results(), bench: [], scaling: [] });
    expect(readdirSync(dir).sort()).toEqual(['details.txt', 'results.json', 'summary.md', 'summary.txt']);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).not.toContain('bench.svg');
  });

  it('removes its temporary file when the rename fails', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'summary.txt'));
    mkdirSync(join(dir, 'summary.txt', 'occupied'));
    expect(() => write_atomic(join(dir, 'summary.txt'), 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['summary.txt']);
  });
});

describe('format_report', () => {
  it('dispatches on the format; text is the terminal tables', () => {
    const r = sample_results();
    expect(format_report(r, 'text')).toBe(format_terminal(r));
    expect(format_report(r, 'markdown')).toBe(format_markdown(r));
    expect(format_report(r, 'json')).toBe(format_json(r));
    expect(format_report(r, 'ktap')).toBe(format_ktap(r));
  });
});
