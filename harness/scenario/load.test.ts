import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load_scenario, load_scenario_file } from './load.ts';
import { ScenarioError } from './types.ts';
import type { Scenario, Step } from './types.ts';

const DTS = `  apps_smmu: iommu@15000000 {
      compatible = "qcom,sm8550-smmu-500", "arm,mmu-500";
      #iommu-cells = <2>;
  };
  video-codec@aa00000 {
      compatible = "qcom,sm8550-iris";
      iommus = <&apps_smmu 0x1940 0x0>;
      iommu-map = <0 &apps_smmu 0x1940 0x0 1>,
                  <1 &apps_smmu 0x1947 0x0 1>;
  };
`;

const PROBE = '  - probe: video-codec@aa00000\n';
const CTX0 = '  - create_context: { parent: video-codec@aa00000, name: np, id: 0 }\n';
const MAP0 = '  - dma_map: { context: np, buffer: buf, size: 0x10000 }\n';

/** A scenario file: the given steps (block-sequence lines), device tree and extra top-level keys. */
function scn(steps: string, opts: { dts?: string; extra?: string } = {}): string {
  return `scenario: t\nsummary: a test\ndevicetree: |\n${opts.dts ?? DTS}${opts.extra ?? ''}steps:\n${steps}`;
}

function load(text: string): Scenario {
  return load_scenario('s.yaml', text);
}

function steps_of(text: string): Step[] {
  return load(text).steps;
}

/** The mark that tests put right before the offending value; removed before loading. */
const MARK = '⟨';

/** line:col (1-based) of the nth occurrence of `marker` in `text`. */
function where(text: string, marker: string, nth = 1): string {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(marker, at + 1);
    if (at < 0) throw new Error(`marker '${marker}' #${nth} not in the text`);
  }
  const before = text.slice(0, at);
  return `${before.split('\n').length}:${at - before.lastIndexOf('\n')}`;
}

function error_of(text: string): ScenarioError {
  try {
    load(text);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw new Error(`threw something other than ScenarioError: ${String(e)}`);
  }
  throw new Error('no error');
}

/**
 * Loads `marked` without its one MARK and expects a ScenarioError at the MARK's position, with a
 * message equal to `message` (a string) or matching it (a RegExp).
 */
function expect_error(marked: string, message: string | RegExp): void {
  expect(marked.split(MARK).length).toBe(2);
  const text = marked.replace(MARK, '');
  const e = error_of(text);
  if (typeof message === 'string') expect(e.detail).toBe(message);
  else expect(e.detail).toMatch(message);
  expect(`${e.line}:${e.col}`).toBe(where(marked, MARK));
  expect(e.message).toBe(`s.yaml:${e.line}:${e.col}: ${e.detail}`);
}

const EXAMPLE = `scenario: iris-sm8550
summary: Iris on SM8550 makes a non-pixel and a pixel context device at probe
devicetree: |
${DTS}hardware:
  apps_smmu: { context_banks: 64, stream_match_groups: 128 }
steps:
  - probe: video-codec@aa00000
  - create_context: { parent: video-codec@aa00000, name: non-pixel, id: 0 }
  - create_context: { parent: video-codec@aa00000, name: pixel, id: 1 }
  - dma_map: { context: non-pixel, buffer: hfi-queue, size: 0x10000 }
  - dma: { context: non-pixel, buffer: hfi-queue, offset: 0x40, write: true }
  - dma: { context: pixel, buffer: hfi-queue, expect: isolated }
  - dma_unmap: { context: non-pixel, buffer: hfi-queue }
  - dma: { context: non-pixel, buffer: hfi-queue, expect: fault }
  - remove: video-codec@aa00000
`;

describe('the example of scenario-format.md', () => {
  it('loads with every field filled', () => {
    const s = load(EXAMPLE);
    expect(s).toMatchObject({ file: 's.yaml', id: 'iris-sm8550', summary: 'Iris on SM8550 makes a non-pixel and a pixel context device at probe' });
    expect(s.iommus.map((n) => n.path)).toEqual(['/iommu@15000000']);
    expect(s.memory).toEqual({ base: 0x80000000, size: 0x100000000 });
    expect(s.kernel).toEqual({ flow: '6.15', bypass_unmatched_streams: false, patches: [] });
    expect(s.defines.size).toBe(0);
    expect(s.steps.map((st) => [st.index, st.kind, st.expect])).toEqual([
      [1, 'probe', 'ok'], [2, 'create_context', 'ok'], [3, 'create_context', 'ok'], [4, 'dma_map', 'ok'],
      [5, 'dma', 'ok'], [6, 'dma', 'isolated'], [7, 'dma_unmap', 'ok'], [8, 'dma', 'fault'], [9, 'remove', 'ok'],
    ]);
    const codec = s.dt.root.children[1]!;
    expect(s.steps[0]).toEqual({ kind: 'probe', node: codec, index: 1, rounds: [], pos: { file: 's.yaml', line: 17, col: 5 }, expect: 'ok' });
    expect(s.steps[1]).toMatchObject({ kind: 'create_context', parent: codec, name: 'non-pixel', id: 0, node: null, dma_mask_bits: 32 });
    expect(s.steps[3]).toMatchObject({ kind: 'dma_map', context: 'non-pixel', buffer: 'hfi-queue', size: 0x10000, direction: 'bidirectional' });
    expect(s.steps[4]).toMatchObject({ kind: 'dma', context: 'non-pixel', sid: null, iommu: null, buffer: 'hfi-queue', offset: 0x40, write: true });
    expect(s.steps[5]).toMatchObject({ kind: 'dma', context: 'pixel', offset: 0, write: false });
    expect(s.steps[8]!.pos).toEqual({ file: 's.yaml', line: where(EXAMPLE, 'remove:').split(':').map(Number)[0], col: 5 });
  });
});

describe('top-level keys', () => {
  it('fills hardware defaults for every IOMMU node, listed or not, keyed by node', () => {
    const dts = `${DTS}  soc { smmu_b: iommu@1 { compatible = "arm,mmu-500"; #iommu-cells = <1>; }; };\n`;
    const s = load(scn(PROBE, { dts, extra: 'hardware:\n  smmu_b: { context_banks: 8, va_bits: 40 }\n' }));
    expect(s.iommus.map((n) => n.path)).toEqual(['/iommu@15000000', '/soc/iommu@1']);
    expect(s.hardware.get(s.iommus[0]!)).toEqual({ context_banks: 64, stream_match_groups: 128, va_bits: 48 });
    expect(s.hardware.get(s.iommus[1]!)).toEqual({ context_banks: 8, stream_match_groups: 128, va_bits: 40 });
    expect(s.hardware.size).toBe(2);
  });

  it('lists IOMMU nodes in tree order (pre-order)', () => {
    const dts = '  a { z: iommu@2 { compatible = "arm,mmu-500"; }; };\n  y: iommu@1 { compatible = "arm,smmu-v2"; };\n';
    expect(load(scn(' []\n', { dts })).iommus.map((n) => n.path)).toEqual(['/a/iommu@2', '/iommu@1']);
  });

  it('reads memory, kernel and defines', () => {
    const dts = DTS.replace('0x1947', '(SID_BASE + 7)');
    const extra = 'defines: { SID_BASE: 0x1940 }\nmemory: { base: 0x100000000, size: 0x40000000 }\nkernel: { flow: "6.8", bypass_unmatched_streams: true }\n';
    const s = load(scn(PROBE, { dts, extra }));
    expect(s.memory).toEqual({ base: 0x100000000, size: 0x40000000 });
    expect(s.kernel).toEqual({ flow: '6.8', bypass_unmatched_streams: true, patches: [] });
    expect(s.defines).toEqual(new Map([['SID_BASE', 0x1940]]));
    expect(s.dt.root.children[1]!.properties.get('iommu-map')?.cells?.[7]).toBe(0x1947);
  });

  it('takes an unquoted flow number and a partial memory map', () => {
    const s = load(scn(PROBE, { extra: 'memory: { size: 0x1000 }\nkernel: { flow: 6.8 }\n' }));
    expect(s.kernel.flow).toBe('6.8');
    expect(s.memory).toEqual({ base: 0x80000000, size: 0x1000 });
  });

  it('accepts an empty step list', () => {
    expect(load(scn(' []\n')).steps).toEqual([]);
  });

  it.each([
    ['scenario: t\nsummary: s\ndevicetree: |\n  n { };\nsteps: []\n⟨colour: red\n', "unknown key 'colour' at the top level"],
    ['⟨scenario: t\ndevicetree: |\n  n { };\nsteps: []\n', "missing required key 'summary' in the scenario"],
    ['scenario: ⟨Bad_Id\nsummary: s\ndevicetree: |\n  n { };\nsteps: []\n', "scenario 'Bad_Id' must use only a-z, 0-9 and '-'"],
    ['scenario: t\nsummary: ⟨[a]\ndevicetree: |\n  n { };\nsteps: []\n', 'summary must be a string'],
    ['scenario: t\nsummary: s\ndevicetree: |\n  n { };\nsteps: ⟨{ probe: n }\n', 'steps must be a list'],
    ['scenario: t\nsummary: s\ndevicetree: ⟨12\nsteps: []\n', 'devicetree must be a string (a block scalar: devicetree: |)'],
    ['⟨- a\n- b\n', 'the scenario must be a map'],
  ])('rejects %j', (text, message) => {
    expect_error(text, message);
  });

  it('rejects an empty file at 1:1', () => {
    const e = error_of('');
    expect([e.line, e.col]).toEqual([1, 1]);
    expect(e.detail).toMatch(/empty scenario file/);
  });

  it.each([
    ['hardware:\n  ⟨video-codec@aa00000: { context_banks: 8 }\n', 'hardware: /video-codec@aa00000 is not an IOMMU node (no arm-smmu compatible string)'],
    ['hardware:\n  ⟨nope: { context_banks: 8 }\n', "unknown node 'nope' (not a label, node name or path)"],
    ['hardware:\n  apps_smmu: { ⟨context_bank: 8 }\n', "unknown key 'context_bank' in hardware apps_smmu"],
    ['hardware:\n  apps_smmu: { va_bits: ⟨39 }\n', 'va_bits must be one of 32, 36, 40, 42, 44, 48'],
    ['hardware:\n  apps_smmu: { context_banks: ⟨0 }\n', 'context_banks must be in 1..65536 (0)'],
    ['hardware:\n  apps_smmu: {}\n  ⟨/iommu@15000000: {}\n', 'hardware: /iommu@15000000 is listed twice'],
    ['memory: { base: 0x80000000, ⟨sise: 4 }\n', "unknown key 'sise' in memory"],
    ['memory: { size: ⟨0 }\n', 'memory size must be > 0'],
    ['memory: { base: ⟨0xff0000000000000, size: 0x1000 }\n', "memory base 0xff0000000000000 is beyond the model's physical address space (2^52 bytes)"],
    ['memory: { base: 0xfffffffff0000, size: ⟨0x20000 }\n', "memory ends beyond the model's physical address space (2^52 bytes)"],
    ['memory: { size: ⟨0x10000000000000000 }\n', 'memory size 0x10000000000000000 is above 2^64-1'],
    ['memory: { size: ⟨-4096 }\n', 'memory size must not be negative (-4096)'],
    ['kernel: { flow: ⟨"5.4" }\n', 'kernel flow must be "6.15" or "6.8"'],
    ['kernel: { bypass_unmatched_streams: ⟨1 }\n', 'bypass_unmatched_streams must be true or false'],
    ['kernel: { ⟨flw: "6.8" }\n', "unknown key 'flw' in kernel"],
    ['defines: { ⟨9X: 1 }\n', "'9X' is not a macro name"],
    ['defines: { X: ⟨1.5 }\n', 'define X must be an integer, not 1.5'],
  ])('rejects %j', (extra, message) => {
    expect_error(scn(PROBE, { extra }), message);
  });
});

describe('YAML errors', () => {
  it('reports a syntax error at its position', () => {
    expect_error('scenario: t\nsummary: s\nsteps: [a, b\n⟨x: 1\n', /Flow sequence/);
    expect_error('a: 1\n⟨a: 2\n', 'Map keys must be unique');
  });
});

describe('the device tree block', () => {
  it('maps a DTS syntax error back to the file line and column', () => {
    const text = scn(PROBE, { dts: DTS.replace('#iommu-cells = <2>;', '#iommu-cells = <2 ⟨NOPE>;') });
    expect_error(text, "unknown macro 'NOPE' (add it under 'defines')");
  });

  it('accounts for deeper indentation, blank lines and an indentation indicator', () => {
    const dts = '\n      a { };\n\n      b { iommus = <⟨&missing>; };\n';
    expect_error(scn(PROBE, { dts }), "unknown label 'missing' in iommus");
    const text = `scenario: t\nsummary: s\ndevicetree: |4 # a comment\n      a { };\n      b { iommus = <⟨&missing>; };\nsteps: []\n`;
    expect_error(text, "unknown label 'missing' in iommus");
  });

  it('points just after the last character for an error at the end of the block', () => {
    expect_error(scn(PROBE, { dts: '  a { p = <1>;⟨\n' }), /end of input/);
  });

  it('maps positions in a file with CRLF line ends', () => {
    const text = scn(PROBE, { dts: '  a { };\n  b { iommus = <⟨&missing>; };\n' }).replace(/\n/g, '\r\n');
    expect_error(text, "unknown label 'missing' in iommus");
  });

  it('maps positions in quoted and folded scalars', () => {
    expect_error('scenario: t\nsummary: s\ndevicetree: "a { }; b { iommus = <⟨&missing>; };"\nsteps: []\n', "unknown label 'missing' in iommus");
    expect_error('scenario: t\nsummary: s\ndevicetree: >\n  a { };\n  b { iommus = <⟨&missing>; };\nsteps: []\n', "unknown label 'missing' in iommus");
  });

  it('rejects an iommu-map whose length is not a multiple of the entry size', () => {
    const text = scn(PROBE, { dts: DTS.replace('<1 &apps_smmu 0x1947 0x0 1>', '<⟨1 &apps_smmu 0x1947 0x0>') });
    expect_error(text, 'iommu-map: length 9 is not a multiple of the entry size 5');
    const short = scn(PROBE, { dts: '  s: smmu { #iommu-cells = <1>; };\n  n { iommu-map = <0 &s 1 1 ⟨2>; };\n' });
    expect_error(short, 'iommu-map: length 5 is not a multiple of the entry size 4');
  });

  it('rejects an iommu-map entry of length 0, numbering entries from 1', () => {
    const text = scn(PROBE, { dts: DTS.replace('0x1947 0x0 1>', '0x1947 0x0 ⟨0>') });
    expect_error(text, 'iommu-map entry 2: length must be > 0');
  });

  it('rejects an empty iommu-map', () => {
    expect_error(scn(PROBE, { dts: '  n { ⟨iommu-map = <>; };\n' }), 'iommu-map is empty');
  });

  it('rejects a phandle to a node without #iommu-cells, in iommus and iommu-map', () => {
    const dts = '  plain: p { };\n  smmu: s { #iommu-cells = <1>; };\n  a { iommus = <&smmu 1>, <⟨&plain 2>; };\n';
    expect_error(scn(PROBE, { dts }), 'iommus entry 2: /p has no #iommu-cells');
    const dts2 = '  plain: p { };\n  b { iommu-map = <0 ⟨&plain 1 1>; };\n';
    expect_error(scn(PROBE, { dts: dts2 }), 'iommu-map entry 1: /p has no #iommu-cells');
  });

  it('rejects an iommus entry cut short and a raw phandle that points at no node', () => {
    const dts = '  smmu: s { #iommu-cells = <2>; };\n  a { iommus = <⟨&smmu 1>; };\n';
    expect_error(scn(PROBE, { dts }), 'iommus entry 1: 2 specifier cells expected after the phandle, found 1');
    const dts2 = '  smmu: s { #iommu-cells = <1>; };\n  a { iommus = <&smmu 1 ⟨7 1>; };\n';
    expect_error(scn(PROBE, { dts: dts2 }), 'iommus entry 2: phandle 7 points at no node');
  });

  it('rejects a #iommu-cells or iommu-map-mask that is not one cell', () => {
    expect_error(scn(PROBE, { dts: '  s { ⟨#iommu-cells = <1 2>; };\n' }), '#iommu-cells must be a single cell');
    expect_error(scn(PROBE, { dts: '  s { ⟨iommu-map-mask = "x"; };\n' }), 'iommu-map-mask must be a single cell');
  });
});

describe('node references', () => {
  const dts = `${DTS}  soc { dev@1 { }; cam: camera@2 { }; };\n  bus { dev@1 { }; };\n`;

  it('resolves a label, a unique node name and a full path', () => {
    const s = load(scn('  - probe: cam\n  - probe: camera@2\n  - probe: /soc/dev@1\n  - probe: /\n', { dts }));
    expect(s.steps.map((st) => (st.kind === 'probe' ? st.node.path : ''))).toEqual(['/soc/camera@2', '/soc/camera@2', '/soc/dev@1', '/']);
  });

  it.each([
    ['  - probe: ⟨dev@1\n', "node 'dev@1' is ambiguous (/soc/dev@1, /bus/dev@1): use a label or the full path"],
    ['  - probe: ⟨camera\n', "unknown node 'camera' (not a label, node name or path)"],
    ['  - probe: ⟨/soc/nope\n', "unknown node path '/soc/nope'"],
    ['  - iommu_register: ⟨cam\n', 'iommu_register: /soc/camera@2 is not an IOMMU node (no arm-smmu compatible string)'],
    ['  - iommu_register: apps_smmu\n  - iommu_register: ⟨apps_smmu\n', 'iommu_register: /iommu@15000000 is already registered'],
  ])('rejects %j', (steps, message) => {
    expect_error(scn(steps, { dts }), message);
  });
});

describe('steps', () => {
  it('reads every step kind with its defaults', () => {
    const dts = `${DTS}  soc { ctx@1 { iommus = <&apps_smmu 0x10 0x0>; }; };\n`;
    const steps = `  - iommu_register: apps_smmu
  - probe: soc
  - create_context: { parent: soc, name: c, node: ctx@1, dma_mask: 38 }
  - dma_map: { context: c, buffer: b, size: 4096, direction: to_device }
  - dma: { sid: 0x10, buffer: b }
  - dma: { sid: 0x11, iommu: apps_smmu, buffer: b, offset: 4095, expect: fault }
  - dma_unmap: { context: c, buffer: b }
  - destroy_context: c
  - remove: soc
`;
    const s = load(scn(steps, { dts }));
    const smmu = s.iommus[0]!;
    expect(s.steps[0]).toMatchObject({ kind: 'iommu_register', iommu: smmu });
    expect(s.steps[2]).toMatchObject({ kind: 'create_context', name: 'c', id: null, dma_mask_bits: 38 });
    expect(s.steps[2]!.kind === 'create_context' && s.steps[2]!.node?.path).toBe('/soc/ctx@1');
    expect(s.steps[3]).toMatchObject({ direction: 'to_device', size: 4096 });
    expect(s.steps[4]).toMatchObject({ kind: 'dma', context: null, sid: 0x10, iommu: smmu, offset: 0, write: false, expect: 'ok' });
    expect(s.steps[5]).toMatchObject({ kind: 'dma', sid: 0x11, iommu: smmu, offset: 4095, expect: 'fault' });
    expect(s.steps[7]).toMatchObject({ kind: 'destroy_context', context: 'c' });
    expect(s.steps[8]!.kind).toBe('remove');
  });

  it('takes expect beside the action as well as inside its map', () => {
    const s = load(scn(`${PROBE}    expect: deferred\n  - create_context: { parent: video-codec@aa00000, name: x, id: 0 }\n    expect: error\n`));
    expect(s.steps.map((st) => st.expect)).toEqual(['deferred', 'error']);
  });

  it.each([
    [`${PROBE}  - ⟨dma_mapp: { context: np }\n`, "unknown step 'dma_mapp'"],
    [`${PROBE}${CTX0}${MAP0}  - dma: { ⟨contxt: np, buffer: buf }\n`, "unknown key 'contxt' in dma step"],
    [`${PROBE}${CTX0}  - dma_map: ⟨{ context: np, buffer: buf }\n`, "missing required key 'size' in dma_map step"],
    [`${PROBE}  - create_context: ⟨{ parent: video-codec@aa00000, id: 0 }\n`, "missing required key 'name' in create_context step"],
    [`${PROBE}  - ⟨expect: ok\n`, 'a step needs an action (iommu_register, probe, create_context, destroy_context, dma_map, dma_unmap, dma, remove)'],
    ['  - probe: video-codec@aa00000\n    ⟨remove: video-codec@aa00000\n', "a step has one action: found 'probe' and 'remove'"],
    ['  - ⟨probe\n', 'a step must be a map: { action: ... }'],
    ['  - probe: ⟨{ node: x }\n', 'probe must be a string'],
    [`${PROBE}    expect: ⟨fault\n`, "expect 'fault' is not allowed for a probe step (ok | deferred)"],
    [`${PROBE}${CTX0}  - destroy_context: np\n    expect: ⟨error\n`, "expect 'error' is not allowed for a destroy_context step (ok)"],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: 0, ⟨expect: ok }\n    expect: ok\n`, 'expect given twice'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: 0, ⟨node: video-codec@aa00000 }\n`, 'create_context takes id or node, not both'],
    [`${PROBE}  - create_context: ⟨{ parent: video-codec@aa00000, name: x }\n`, 'create_context needs id (through the iommu-map) or node (a child with iommus)'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: y, node: ⟨apps_smmu }\n`, 'node /iommu@15000000 is not a child of /video-codec@aa00000'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: 0, dma_mask: ⟨0 }\n`, 'dma_mask must be in 1..64 (0)'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: 0, dma_mask: ⟨65 }\n`, 'dma_mask must be in 1..64 (65)'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: ⟨0x100000000 }\n`, 'id 0x100000000 is above 2^32-1 (0xffffffff), the largest cell value'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: ⟨-1 }\n`, 'id must not be negative (-1)'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: ⟨1.5 }\n`, 'id must be an integer, not 1.5'],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: x, id: ⟨zero }\n`, "id must be an integer, not 'zero'"],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: ⟨"", id: 0 }\n`, 'name must not be empty'],
    [`${PROBE}${CTX0}  - dma_map: { context: np, buffer: buf, size: ⟨0 }\n`, 'size must be > 0 (a byte count)'],
    [`${PROBE}${CTX0}  - dma_map: { context: np, buffer: buf, size: ⟨0x10000000000000000 }\n`, 'size 0x10000000000000000 is above 2^64-1'],
    [`${PROBE}${CTX0}  - dma_map: { context: np, buffer: buf, size: ⟨0x10000000000000 }\n`, "size 0x10000000000000 is beyond the model's physical address space (2^52 bytes)"],
    [`${PROBE}${CTX0}  - dma_map: { context: np, buffer: buf, size: 4096, direction: ⟨both }\n`, 'direction must be bidirectional, to_device, from_device'],
    [`${PROBE}${CTX0}${MAP0}  - dma: { context: np, buffer: buf, write: ⟨"yes" }\n`, 'write must be true or false'],
    [`${PROBE}${CTX0}${MAP0}  - dma: { context: np, buffer: buf, offset: ⟨0x10000 }\n`, "offset 0x10000 is beyond buffer 'buf' (0x10000 bytes)"],
    [`${PROBE}${CTX0}${MAP0}  - dma: { context: np, buffer: buf, offset: ⟨0x10000000000000000 }\n`, 'offset 0x10000000000000000 is above 2^64-1'],
    [`${PROBE}${CTX0}${MAP0}  - dma: { context: np, ⟨sid: 1, buffer: buf }\n`, 'dma takes context or sid, not both'],
    [`${PROBE}${CTX0}${MAP0}  - dma: ⟨{ buffer: buf }\n`, 'dma needs context or sid'],
    [`${PROBE}${CTX0}${MAP0}  - dma: { context: np, ⟨iommu: apps_smmu, buffer: buf }\n`, "iommu goes with sid; a context's IOMMU comes from the device tree"],
    [`${PROBE}${CTX0}${MAP0}  - dma: { sid: ⟨0x100000000, buffer: buf }\n`, 'sid 0x100000000 is above 2^32-1 (0xffffffff), the largest cell value'],
  ])('rejects %j', (steps, message) => {
    expect_error(scn(steps), message);
  });

  it('needs iommu for a dma by sid when the system has several IOMMUs', () => {
    const dts = `${DTS}  other: iommu@1 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };\n`;
    expect_error(scn(`${PROBE}${CTX0}${MAP0}  - dma: ⟨{ sid: 1, buffer: buf }\n`, { dts }), 'dma with sid needs iommu: the system has 2 IOMMU nodes');
    const ok = load(scn(`${PROBE}${CTX0}${MAP0}  - dma: { sid: 1, iommu: other, buffer: buf }\n`, { dts }));
    expect(ok.steps[3]).toMatchObject({ kind: 'dma', sid: 1, iommu: ok.iommus[1] });
    expect_error(scn(`${PROBE}${CTX0}${MAP0}  - dma: { sid: 1, iommu: ⟨np, buffer: buf }\n`, { dts }), "unknown node 'np' (not a label, node name or path)");
  });
});

describe('context and buffer names, checked in step order', () => {
  const gone = "unknown context 'np': no earlier create_context made it (or it was destroyed)";
  it.each([
    [`${PROBE}  - dma_map: { context: ⟨np, buffer: buf, size: 4096 }\n`, gone],
    [`${PROBE}${CTX0}  - destroy_context: np\n  - dma_map: { context: ⟨np, buffer: buf, size: 4096 }\n`, gone],
    [`${PROBE}${CTX0}  - remove: video-codec@aa00000\n  - destroy_context: ⟨np\n`, gone],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: np, id: 0, expect: deferred }\n  - destroy_context: ⟨np\n`, gone],
    [`${PROBE}${CTX0}  - create_context: { parent: video-codec@aa00000, name: ⟨np, id: 1 }\n`, "context 'np' already exists"],
    [`${PROBE}${CTX0}  - dma: { context: np, buffer: ⟨buf }\n`, "unknown buffer 'buf': no earlier dma_map made it"],
    [`${PROBE}${CTX0}  - dma_unmap: { context: np, buffer: ⟨buf }\n`, "buffer 'buf' is not mapped on context 'np'"],
    [`${PROBE}${CTX0}${MAP0}  - dma_unmap: { context: np, buffer: buf }\n  - dma_unmap: { context: np, buffer: ⟨buf }\n`, "buffer 'buf' is not mapped on context 'np'"],
    [`${PROBE}${CTX0}${MAP0}  - dma_map: { context: np, buffer: ⟨buf, size: 4096 }\n`, "buffer 'buf' is already mapped (on context 'np')"],
    [`${PROBE}${CTX0}  - create_context: { parent: video-codec@aa00000, name: px, id: 1 }\n${MAP0}  - dma_unmap: { context: px, buffer: ⟨buf }\n`, "buffer 'buf' is not mapped on context 'px'"],
    [`${PROBE}  - create_context: { parent: video-codec@aa00000, name: c5, id: 5 }\n  - dma_map: { context: c5, buffer: buf, size: 4096 }\n  - dma: { context: ⟨c5, buffer: buf }\n`, 'context c5: the device tree wires no stream ID to it; give sid'],
  ])('rejects %j', (steps, message) => {
    expect_error(scn(steps), message);
  });

  it('allows a re-created context, a re-mapped buffer and a dma after unmap or after its context is gone', () => {
    const steps = `${PROBE}${CTX0}${MAP0}  - dma_unmap: { context: np, buffer: buf }\n  - dma: { context: np, buffer: buf, expect: fault }\n${MAP0}  - destroy_context: np\n${CTX0}${MAP0}  - dma: { sid: 0x1940, buffer: buf }\n`;
    expect(steps_of(scn(steps)).map((s) => s.kind)).toEqual(['probe', 'create_context', 'dma_map', 'dma_unmap', 'dma', 'dma_map', 'destroy_context', 'create_context', 'dma_map', 'dma']);
  });

  it('allows a dma with explicit sid for a context the tree does not wire', () => {
    const steps = `${PROBE}  - create_context: { parent: video-codec@aa00000, name: c5, id: 5 }\n  - dma_map: { context: c5, buffer: buf, size: 4096 }\n  - dma: { sid: 5, buffer: buf }\n`;
    expect(steps_of(scn(steps))[3]).toMatchObject({ kind: 'dma', sid: 5, context: null });
  });

  it('rejects a dma whose context streams go to a node that is not an arm-smmu', () => {
    const dts = '  other: iommu@1 { compatible = "vendor,iommu"; #iommu-cells = <1>; };\n  dev { iommu-map = <0 &other 0x10 1>; };\n';
    const steps = '  - create_context: { parent: dev, name: c, id: 0 }\n  - dma_map: { context: c, buffer: b, size: 4096 }\n  - dma: { context: ⟨c, buffer: b }\n';
    expect_error(scn(steps, { dts }), 'context c: its stream goes to /iommu@1, which is not an arm-smmu IOMMU node');
  });
});

describe('repeat', () => {
  it('expands rounds with {i} in strings and numeric strings', () => {
    const steps = `${PROBE}  - repeat:
      times: 2
      steps:
        - create_context: { parent: video-codec@aa00000, name: "ctx{i}", id: "{i}" }
        - dma_map: { context: "ctx{i}", buffer: "b{i}", size: "0x1000" }
  - dma: { context: ctx1, buffer: b0, expect: isolated }
`;
    const s = load(scn(steps));
    expect(s.steps.map((st) => [st.index, st.kind, st.rounds])).toEqual([
      [1, 'probe', []], [2, 'create_context', [0]], [3, 'dma_map', [0]], [4, 'create_context', [1]], [5, 'dma_map', [1]], [6, 'dma', []],
    ]);
    expect(s.steps[1]).toMatchObject({ name: 'ctx0', id: 0 });
    expect(s.steps[3]).toMatchObject({ name: 'ctx1', id: 1 });
    expect(s.steps[4]).toMatchObject({ context: 'ctx1', buffer: 'b1', size: 0x1000 });
    expect(s.steps[1]!.pos).toEqual(s.steps[3]!.pos);
    expect(`${s.steps[1]!.pos.line}:${s.steps[1]!.pos.col}`).toBe(where(scn(steps), 'create_context'));
  });

  it('nests, with {i} naming the innermost round and times evaluated in the enclosing round', () => {
    const steps = `  - repeat:
      times: 2
      steps:
        - repeat:
            times: "{i}"
            steps:
              - probe: "video-codec@aa0000{i}"
        - probe: video-codec@aa00000
`;
    const s = load(scn(steps));
    expect(s.steps.map((st) => [st.kind, st.rounds])).toEqual([['probe', [0]], ['probe', [1, 0]], ['probe', [1]]]);
  });

  it('rejects an expansion above 1,000,000 steps at the repeat', () => {
    const limit = 'repeat expands the scenario to more than 1,000,000 steps';
    expect_error(scn(`${PROBE}  - ⟨repeat: { times: 1000001, steps: [ { probe: video-codec@aa00000 } ] }\n`), limit);
    expect_error(scn(`${PROBE}  - ⟨repeat:\n      times: 1001\n      steps:\n        - repeat: { times: 1000, steps: [ { probe: video-codec@aa00000 } ] }\n`), limit);
    expect_error(scn(`${PROBE}  - ⟨repeat: { times: 500000, steps: [ { probe: video-codec@aa00000 }, { probe: video-codec@aa00000 } ] }\n`), limit);
  });

  it('bounds rounds that expand to nothing', () => {
    const steps = '  - repeat:\n      times: 1000000\n      steps:\n        - ⟨repeat: { times: 1000000, steps: [ { repeat: { times: 0, steps: [ { probe: apps_smmu } ] } } ] }\n';
    expect_error(scn(steps), 'repeat runs more than 100,000 rounds that produce no step');
  });

  it.each([
    ['  - repeat: { times: 2, steps: ⟨[] }\n', 'repeat steps must be a non-empty list'],
    ['  - repeat: ⟨{ times: 2 }\n', "missing required key 'steps' in repeat"],
    ['  - repeat: { times: ⟨-1, steps: [ { probe: apps_smmu } ] }\n', 'repeat times must not be negative (-1)'],
    ['  - repeat: { times: 2, ⟨step: [] }\n', "unknown key 'step' in repeat"],
    ['  - repeat: { times: 1, steps: [ { probe: apps_smmu } ] }\n    ⟨expect: ok\n', "'expect' is not allowed beside repeat"],
    ['  - repeat: { times: 2, steps: [ { create_context: { parent: video-codec@aa00000, name: ⟨x, id: "{i}" } } ] }\n', "context 'x' already exists"],
  ])('rejects %j', (steps, message) => {
    expect_error(scn(steps), message);
  });
});

describe('load_scenario_file', () => {
  it('reads a file and names it as given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scn-'));
    const path = join(dir, 'iris.yaml');
    writeFileSync(path, EXAMPLE);
    expect(load_scenario_file(path)).toMatchObject({ file: path, id: 'iris-sm8550' });
  });

  it('reports an unreadable file at 1:1', () => {
    const path = join(tmpdir(), 'no-such-dir-scn', 'missing.yaml');
    let err: unknown;
    try {
      load_scenario_file(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect(err).toMatchObject({ file: path, line: 1, col: 1 });
  });
});

describe('robustness', () => {
  it('throws nothing but ScenarioError on damaged files', () => {
    const pieces = ['{', '}', '[', ']', ':', '-', ' ', '\n', '"', '&', '*a', '<', '>', ';', '0x', '{i}', 'repeat', 'expect', '#', '|'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let errors = 0;
    for (let i = 0; i < 500; i++) {
      let text = EXAMPLE;
      for (let k = 0; k < 1 + rnd(3); k++) {
        const at = rnd(text.length);
        text = rnd(2) === 0 ? text.slice(0, at) + pieces[rnd(pieces.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + rnd(8));
      }
      try {
        load(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        const { line, col } = e as ScenarioError;
        expect(line).toBeGreaterThanOrEqual(1);
        expect(col).toBeGreaterThanOrEqual(1);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(50);
  });
});

describe('a device tree pasted from a .dtsi', () => {
  it('notes an #include line at its position and reads the rest', () => {
    const dts = `  #include <dt-bindings/clock/qcom,rpmh.h>\n${DTS}`;
    const s = load(scn(PROBE, { dts }));
    expect(s.notes).toEqual([{ file: 's.yaml', line: 4, col: 3, message: expect.stringContaining('#include <dt-bindings/clock/qcom,rpmh.h> ignored') }]);
    expect(s.steps.length).toBe(1);
  });

  it('gives every error of the device tree in one ScenarioError, each at its line and column', () => {
    const dts = DTS.replace('0x1940 0x0>;', 'SID_NP 0x0>;').replace('<1 &apps_smmu 0x1947', '<1 &apps_smu 0x1947');
    const e = error_of(scn(PROBE, { dts, extra: 'defines: { SID_NPX: 0x1940 }\n' }));
    expect(e.detail).toBe("unknown macro 'SID_NP' (add it under 'defines'); did you mean 'SID_NPX'?");
    expect([e.line, e.col]).toEqual([10, 28]);
    expect(e.more).toEqual([{ line: 12, col: 22, detail: "unknown label 'apps_smu' in iommu-map; did you mean 'apps_smmu'?" }]);
  });

  // drivers/of/platform.c: of_platform_bus_create() returns early for a node that
  // of_device_is_available() refuses, so neither it nor its children become devices
  it('refuses to probe a node whose status is "disabled", or whose ancestor\'s is, naming the status', () => {
    const disabled = DTS.replace('compatible = "qcom,sm8550-iris";', 'compatible = "qcom,sm8550-iris";\n      status = "disabled";');
    expect(error_of(scn(PROBE, { dts: disabled })).detail)
      .toBe('/video-codec@aa00000 is not populated: it has status = "disabled" (set status = "okay" as a board .dts does)');
    const parent = `  soc {\n      status = "disabled";\n${DTS}  };\n`;
    expect(error_of(scn(PROBE, { dts: parent })).detail).toMatch(/^\/soc\/video-codec@aa00000 is not populated: its ancestor \/soc has status = "disabled"/);
    expect(load(scn(PROBE, { dts: DTS.replace('compatible = "qcom,sm8550-iris";', 'compatible = "qcom,sm8550-iris";\n      status = "okay";') })).steps.length).toBe(1);
  });
});
