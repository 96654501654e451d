// Bounded input: every limit of the scenario format rejects what is beyond it with a positioned
// error (file:line:col of the first thing past the limit), and accepts what is at it.
// A device tree of at most 1 MiB and 100,000 nodes, at most 1,000,000 steps after `repeat`,
// cells below 2^32 and addresses below 2^64, at most 65,536 context banks and stream match
// groups per IOMMU.
import { describe, expect, it } from 'vitest';
import { load_scenario } from './load.ts';
import { ScenarioError } from './types.ts';
import { DTS_MAX_BYTES, DTS_MAX_NODES, parse_dts, DtsSyntaxError } from '../kernel/of/dts.ts';

const SMMU = `  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x200 0x0 1>;
  };
`;
const HEAD = 'scenario: t\nsummary: limits\ndevicetree: |\n';
const STEPS = 'steps:\n  - probe: host\n';

function error_of(text: string): ScenarioError {
  try {
    load_scenario('s.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('loaded without an error');
}

/** line:col (1-based) of offset `at` in `text`. */
function pos(text: string, at: number): string {
  const before = text.slice(0, at);
  return `${before.split('\n').length}:${at - before.lastIndexOf('\n')}`;
}

/** `count` nodes in all: parents of up to 100 children each, written compactly. */
function nodes(count: number): string {
  const lines: string[] = [];
  let left = count;
  for (let p = 0; left > 0; p++) {
    left--;
    const n = Math.min(100, left);
    left -= n;
    let kids = '';
    for (let c = 0; c < n; c++) kids += `c@${c.toString(16)}{};`;
    lines.push(`  p@${p.toString(16)}{${kids}};`);
  }
  return lines.join('\n') + '\n';
}

describe('the device tree block', () => {
  it(`is refused beyond 1 MiB (${DTS_MAX_BYTES} bytes), pointing at the first byte past the limit`, () => {
    // a comment line of known length, repeated until the block passes 1 MiB
    const line = `  // ${'x'.repeat(120)}\n`;
    const lines = Math.ceil(DTS_MAX_BYTES / (line.length - 2)) + 1;
    const body = SMMU + line.repeat(lines);
    const text = HEAD + body + STEPS;
    const e = error_of(text);
    expect(e.detail).toMatch(/larger than 1 MiB/);
    // the byte past the limit is byte DTS_MAX_BYTES of the block's value (indentation of 2 removed)
    const value = body.split('\n').map((l) => l.slice(2)).join('\n');
    const cut = value.slice(0, DTS_MAX_BYTES);
    const line_no = cut.split('\n').length;
    const col = DTS_MAX_BYTES - cut.lastIndexOf('\n') + 2;
    expect(`${e.line}:${e.col}`).toBe(`${3 + line_no}:${col}`);
  });

  it('counts bytes of UTF-8, not characters', () => {
    // 'é' is 2 bytes: half as many characters reach the limit
    const dts = `/ { s = "${'é'.repeat(DTS_MAX_BYTES / 2)}"; };`;
    let offset = -1;
    try { parse_dts(dts, new Map()); } catch (e) {
      expect(e).toBeInstanceOf(DtsSyntaxError);
      offset = (e as DtsSyntaxError).offset;
    }
    expect(Buffer.byteLength(dts.slice(0, offset))).toBeLessThanOrEqual(DTS_MAX_BYTES);
    expect(Buffer.byteLength(dts.slice(0, offset + 1))).toBeGreaterThan(DTS_MAX_BYTES);
  });

  it('is accepted at exactly 1 MiB', () => {
    const pad = DTS_MAX_BYTES - 2;
    expect(() => parse_dts(`${' '.repeat(pad)}\n\n`, new Map())).not.toThrow();
    expect(() => parse_dts(`${' '.repeat(pad)}\n\n `, new Map())).toThrow(/larger than 1 MiB/);
  });

  it(`is refused beyond ${DTS_MAX_NODES} nodes, at the name of the first node too many`, () => {
    const body = SMMU + nodes(DTS_MAX_NODES - 1);
    // smmu and host are 2 nodes: DTS_MAX_NODES - 1 more make one too many
    const text = HEAD + body + STEPS;
    const e = error_of(text);
    expect(e.detail).toBe('more than 100,000 nodes in the device tree');
    const last = text.lastIndexOf('c@');
    expect(`${e.line}:${e.col}`).toBe(pos(text, last));
  });

  it(`is accepted with exactly ${DTS_MAX_NODES} nodes, quickly`, () => {
    const t0 = performance.now();
    const s = load_scenario('s.yaml', HEAD + SMMU + nodes(DTS_MAX_NODES - 2) + STEPS);
    expect(s.steps).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('steps, numbers and hardware', () => {
  const base = HEAD + SMMU;

  it('more than 1,000,000 steps after repeat is refused at the repeat', () => {
    const steps = 'steps:\n  - probe: host\n  - repeat: { times: 1000000, steps: [ { probe: host } ] }\n';
    const text = base + steps;
    const e = error_of(text);
    expect(e.detail).toMatch(/more than 1,000,000 steps/);
    expect(`${e.line}:${e.col}`).toBe(pos(text, text.indexOf('repeat:')));
  });

  // (1,000,000 exactly is accepted, but building a million steps takes seconds: not run here)

  it.each([
    ['a cell of 2^32', 'create_context: { parent: host, name: c, id: 0x100000000 }', '0x100000000', /above 2\^32-1/],
    ['an address of 2^64', 'dma_map: { context: c, buffer: b, size: 0x10000000000000000 }', '0x10000000000000000', /above 2\^64-1/],
    ['a DTS cell of 2^32', null, '0x100000000', /outside 0\.\.0xffffffff/],
  ])('%s is refused at the number', (_name, step, number, message) => {
    const dts = step ? SMMU : SMMU.replace('0x200 0x0 1', '0x100000000 0x0 1');
    const steps = step
      ? `steps:\n  - probe: host\n  - create_context: { parent: host, name: c, id: 0 }\n  - ${step}\n`
      : STEPS;
    const text = HEAD + dts + steps;
    const e = error_of(text);
    expect(e.detail).toMatch(message);
    expect(`${e.line}:${e.col}`).toBe(pos(text, text.lastIndexOf(number)));
  });

  it.each(['context_banks', 'stream_match_groups'])('%s: 65536 is accepted, 65537 refused at the value', (key) => {
    const ok = load_scenario('s.yaml', `${base}hardware:\n  smmu: { ${key}: 65536 }\n${STEPS}`);
    expect(ok.hardware.get(ok.iommus[0]!)).toMatchObject({ [key]: 65536 });
    const text = `${base}hardware:\n  smmu: { ${key}: 65537 }\n${STEPS}`;
    const e = error_of(text);
    expect(e.detail).toBe(`${key} must be in 1..65536 (65537)`);
    expect(`${e.line}:${e.col}`).toBe(pos(text, text.indexOf('65537')));
  });
});
