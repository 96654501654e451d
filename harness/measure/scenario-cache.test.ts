// The worker's scenario cache (scenario-cache.ts): reused while the file and the device tree
// are as loaded, loaded again when either changed, so that no run sees what an earlier one
// (a variant holding device-tree nodes) did to the tree.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scenario_cached } from './scenario-cache.ts';
import { SMMU_CLIENT_DTS } from '../kernel/test-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'scenario-cache-'));
const file = join(dir, 's.yaml');
const text = (summary: string) => `scenario: s
summary: ${summary}
devicetree: |${SMMU_CLIENT_DTS}
steps:
  - probe: client
`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scenario_cached', () => {
  it('reuses the scenario while the file and its device tree are unchanged', () => {
    writeFileSync(file, text('one'));
    const a = scenario_cached(file);
    a.dt.root.children[0]!.refcount = 5; // the kernel's part: boot() resets it
    expect(scenario_cached(file)).toBe(a);
  });

  it('loads again when the file changed', () => {
    writeFileSync(file, text('one'));
    const a = scenario_cached(file);
    writeFileSync(file, text('two'));
    const b = scenario_cached(file);
    expect(b).not.toBe(a);
    expect(b.summary).toBe('two');
  });

  it('loads again when something changed the device tree (a variant holds its nodes)', () => {
    writeFileSync(file, text('three'));
    const a = scenario_cached(file);
    const client = a.dt.root.children.find((np) => np.name === 'client')!;
    client.properties.get('iommus')!.cells![1] = 0x300;
    const b = scenario_cached(file);
    expect(b).not.toBe(a);
    expect(b.dt.root.children.find((np) => np.name === 'client')!.properties.get('iommus')!.cells![1]).toBe(0x100);
    client.properties.delete('compatible');
    expect(scenario_cached(file)).toBe(b); // b is intact
  });
});
