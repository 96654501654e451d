// Property-based tests (fast-check) of the DTS parser, the YAML loader and the step validator:
// whatever the input (random characters, random bytes, token soup, the shipped scenarios with
// random damage, random steps), the outcome is a tree / a Scenario or a positioned error
// (DtsSyntaxError with an offset inside the text, ScenarioError with a line and column inside
// the file); never another exception, never a position outside the file.
//
// Seeded: every property runs from SEED (+ its index), so a run is reproducible. Set FC_SEED to
// explore other cases; on failure fast-check's message gives the seed, the path and the
// shrunk counterexample, and the test title names the seed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DtsSyntaxError, parse_dts } from '../kernel/of/dts.ts';
import { load_scenario } from './load.ts';
import { ScenarioError } from './types.ts';

const SEED = Number(process.env['FC_SEED'] ?? 20260424);
/** runs per property, by weight; the total is at least 10,000 */
const RUNS = { dts_chars: 2500, dts_tokens: 1500, dts_grammar: 3000, yaml_chars: 1000, yaml_bytes: 500, yaml_tokens: 1000, damage: 1000, steps: 1000 };

/** fc.assert with this property's seed; the thrown message names the seed and counterexample. */
function check<T>(index: number, runs: number, arb: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  const seed = SEED + index;
  const out = fc.check(fc.property(arb, predicate), { seed, numRuns: runs });
  if (out.failed) {
    throw new Error(`property failed (FC_SEED base ${SEED}, this property's seed ${seed}):\n${fc.defaultReportMessage(out) ?? ''}`);
  }
  expect(out.numRuns).toBe(runs);
}

// ------------------------------------------------------------------ outcomes

/** parse_dts either returns or throws a DtsSyntaxError at an offset within the text. */
function dts_outcome(text: string): void {
  try {
    parse_dts(text, new Map([['MACRO', 0x10]]));
  } catch (e) {
    if (!(e instanceof DtsSyntaxError)) throw new Error(`parse_dts threw ${String(e)} on ${JSON.stringify(text)}`);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > text.length) {
      throw new Error(`offset ${e.offset} outside 0..${text.length} (${e.message}) on ${JSON.stringify(text)}`);
    }
  }
}

/** load_scenario either returns a Scenario or throws a ScenarioError inside the file. */
function load_outcome(text: string): void {
  let scn;
  try {
    scn = load_scenario('p.yaml', text);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw new Error(`load_scenario threw ${e instanceof Error ? e.stack : String(e)}`);
    in_file(text, e.line, e.col, e.detail);
    if (e.message !== `p.yaml:${e.line}:${e.col}: ${e.detail}`) throw new Error(`message not positioned: ${e.message}`);
    return;
  }
  for (const step of scn.steps) in_file(text, step.pos.line, step.pos.col, `step ${step.index}`);
}

/** line in 1..lines+1, col in 1..(that line's length)+1 */
function in_file(text: string, line: number, col: number, what: string): void {
  const lines = text.split('\n');
  const ok = Number.isInteger(line) && Number.isInteger(col) && line >= 1 && line <= lines.length + 1
    && col >= 1 && col <= (lines[line - 1]?.length ?? 0) + 1;
  if (!ok) throw new Error(`position ${line}:${col} outside the file (${lines.length} lines) for '${what}'`);
}

// ------------------------------------------------------------------ arbitraries

/** any UTF-16 unit, lone surrogates included */
const unit16 = fc.nat(0xffff).map((c) => String.fromCharCode(c));
const any_text = (max: number) => fc.oneof(
  fc.string({ unit: unit16, maxLength: max }),
  fc.string({ unit: 'grapheme', maxLength: max }),
  fc.string({ unit: 'binary-ascii', maxLength: max }),
);
const bytes_text = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b).toString('utf8'));

const DTS_TOKENS = [
  ' ', '\n', '\t', '{', '}', ';', '=', '<', '>', ',', '&', '"', ':', '(', ')', '/', '*', '//', '/*', '*/', '\\', '@',
  '|', '<<', '>>', '-', '~', '+', '%', '^', '[', ']', '#',
  'smmu', 'smmu: ', 'iommu@15000000', 'node@1', 'n', '/ {', '/dts-v1/;', '#include', '&smmu', '&{/x}', '&nope',
  'compatible = "arm,mmu-500";', '#iommu-cells = <2>;', '#iommu-cells = <1>;', 'iommus = <&smmu 0x1 0x0>;',
  'iommu-map = <0 &smmu 0x10 0x0 1>;', 'status = "disabled";', 'dma-coherent;', '"s"', '"a\\x4', '"\\q"',
  '0', '1', '0x', '0x1f', '0xffffffff', '0x100000000', '08', '99999999999999999999999999999999999999999', 'MACRO', 'UNKNOWN',
  '(1 << 63)', '(1 / 0)', '(0x10 | 0x3)', '(-1)', '(~0)', '1U', '0x10UL',
];

// ---- a DTS grammar, so that random damage lands deep inside valid structure

const LABELS = ['smmu', 'a', 'b', 'nope'];
const expr_arb: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 6, withCrossShrink: true },
    fc.constantFrom('0', '1', '0x10', '0xffffffff', '0x100000000', 'MACRO', '7U'),
    fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '<<', '>>', '&', '|', '^'), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('expr').map((e) => `(-${e})`),
    tie('expr').map((e) => `(~${e})`),
  ),
})).expr;
const cell_arb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('0', '1', '2', '0x1940', 'MACRO') }, { weight: 1, arbitrary: fc.constantFrom(...LABELS).map((l) => `&${l}`) }, { weight: 1, arbitrary: expr_arb });
const prop_arb = fc.oneof(
  fc.tuple(fc.constantFrom('iommus', 'iommu-map', '#iommu-cells', 'reg', 'x'), fc.array(fc.array(cell_arb, { maxLength: 6 }).map((c) => `<${c.join(' ')}>`), { minLength: 1, maxLength: 3 }))
    .map(([n, groups]) => `${n} = ${groups.join(', ')};`),
  fc.tuple(fc.constantFrom('compatible', 'status'), fc.array(fc.constantFrom('"arm,mmu-500"', '"disabled"', '"a\\"b"', '"\\x41"', '""'), { minLength: 1, maxLength: 3 }))
    .map(([n, strs]) => `${n} = ${strs.join(', ')};`),
  fc.constantFrom('dma-coherent;', '#iommu-cells = <1>;'),
);
const node_arb: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.tuple(
    fc.option(fc.constantFrom(...LABELS), { freq: 2 }),
    fc.constantFrom('n', 'iommu@15000000', 'ctx@0', 'ctx@1', 'host@b000000'),
    fc.array(prop_arb, { maxLength: 4 }),
    fc.oneof({ maxDepth: 4, depthIdentifier: 'dts' }, fc.constant([]), fc.array(tie('node'), { maxLength: 3 })),
  ).map(([label, name, props, kids]) => `${label ? `${label}: ` : ''}${name} {\n${[...props, ...kids].map((l) => `  ${l}`).join('\n')}\n};`),
})).node;
const dts_arb = fc.tuple(
  fc.array(node_arb, { minLength: 1, maxLength: 3 }).map((nodes) => nodes.join('\n')),
  fc.array(fc.record({ at: fc.nat(), cut: fc.nat(3), put: fc.oneof(fc.constant(''), fc.constantFrom(...DTS_TOKENS)) }), { maxLength: 2 }),
).map(([text, edits]) => edits.reduce((t, e) => { const at = e.at % (t.length + 1); return t.slice(0, at) + e.put + t.slice(at + e.cut); }, text));

const token_soup = (tokens: readonly string[], max: number) =>
  fc.array(fc.constantFrom(...tokens), { maxLength: max }).map((a) => a.join(''));

const YAML_TOKENS = [
  '\n', ' ', '  ', '    ', '\t', '- ', ': ', ':', '{', '}', '[', ']', ',', '"', "'", '#', '|', '>', '|-', '>+', '&a ', '*a', '*b',
  '!!str ', '!!int ', '!foo ', '? ', '---\n', '...\n', '%YAML 1.2\n', '~', 'null', 'true', 'yes', '0x10', '-1', '1.5', '1e3',
  '0x10000000000000000', '"{i}"', 'scenario: t\n', 'scenario: ', 'summary: s\n', 'devicetree: |\n', 'devicetree: ',
  '  n: node@1 { };\n', '  smmu: iommu@1 { compatible = "arm,mmu-500"; #iommu-cells = <1>; };\n', 'steps:\n', 'steps: ',
  'defines: ', 'hardware: ', 'memory: ', 'kernel: ', 'probe: n', 'probe: smmu', 'remove: n', 'iommu_register: smmu',
  'create_context: ', 'parent: n', 'name: c', 'id: 0', 'node: n', 'dma_mask: 64', 'destroy_context: c', 'dma_map: ',
  'context: c', 'buffer: b', 'size: 4096', 'dma_unmap: ', 'dma: ', 'sid: 1', 'offset: 0', 'write: true', 'expect: fault',
  'repeat: ', 'times: 2', 'times: 1000001', 'context_banks: 4097', 'flow: "6.8"', 'base: 0',
];

/** Scenarios that expand to more steps take too long to load thousands of times. */
const DAMAGE_MAX_STEPS = 2000;

/** The shipped scenarios (and the test fixtures) small enough to damage many times: scale
 *  scenarios, whose repeats expand to 100,000 steps and more, are left out. */
function shipped(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const dir of ['scenarios', join('test', 'fixtures')]) {
    for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
      const path = join(dir, f);
      if (statSync(path).size > 64 * 1024) continue;
      const text = readFileSync(path, 'utf8');
      if (load_scenario(path, text).steps.length <= DAMAGE_MAX_STEPS) out.push({ name: path, text });
    }
  }
  return out;
}

type Damage =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; s: string }
  | { op: 'replace'; at: number; len: number; s: string }
  | { op: 'delete-line'; at: number }
  | { op: 'duplicate-line'; at: number }
  | { op: 'swap-lines'; at: number; with: number }
  | { op: 'indent-line'; at: number; by: number };

const damage_arb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: fc.oneof(fc.constantFrom(...YAML_TOKENS, ...DTS_TOKENS), any_text(6)) }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 6 }), s: fc.oneof(fc.constantFrom(...YAML_TOKENS, ...DTS_TOKENS), any_text(4)) }),
  fc.record({ op: fc.constant('delete-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ op: fc.constant('indent-line' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function apply(text: string, d: Damage): string {
  const at = d.at % (text.length + 1);
  const lines = text.split('\n');
  const ln = d.at % lines.length;
  switch (d.op) {
    case 'delete': return text.slice(0, at) + text.slice(at + d.len);
    case 'insert': return text.slice(0, at) + d.s + text.slice(at);
    case 'replace': return text.slice(0, at) + d.s + text.slice(at + d.len);
    case 'delete-line': lines.splice(ln, 1); return lines.join('\n');
    case 'duplicate-line': lines.splice(ln, 0, lines[ln]!); return lines.join('\n');
    case 'swap-lines': {
      const other = d.with % lines.length;
      [lines[ln], lines[other]] = [lines[other]!, lines[ln]!];
      return lines.join('\n');
    }
    case 'indent-line': {
      const l = lines[ln]!;
      lines[ln] = d.by >= 0 ? ' '.repeat(d.by) + l : l.replace(new RegExp(`^ {0,${-d.by}}`), '');
      return lines.join('\n');
    }
  }
}

// ---- random steps for the step validator

const BASE = `scenario: p
summary: random steps
defines: { CTX_SID: 0x20 }
devicetree: |
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  other: iommu@16000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <1>;
  };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x10 0x0 2>, <2 &smmu CTX_SID 0x0 1>;
      kid: ctx@0 { iommus = <&smmu 0x30 0x0>; };
      bare: ctx@1 { };
  };
  plain: plain@c000000 { compatible = "test,plain"; };
hardware:
  smmu: { context_banks: 4, stream_match_groups: 4 }
steps:
`;

const names = fc.constantFrom('host', 'smmu', 'other', 'kid', 'bare', 'plain', 'host@b000000', '/host@b000000', '/host@b000000/ctx@0', 'ctx@0', 'nope', 'c0', 'c1', 'c{i}', 'b0', 'b1', '');
const numbers = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 32, 64, 65, 4096, 0x10000, -1, 1.5, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, '0x10', '{i}', '"{i}"', 'x', '0x', '-0x1'),
  fc.integer({ min: -10, max: 0x20000 }),
);
const any_value: fc.Arbitrary<unknown> = fc.oneof(names, numbers, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
const field = <K extends string>(keys: readonly K[]) =>
  fc.dictionary(fc.constantFrom(...keys), fc.oneof({ weight: 3, arbitrary: fc.oneof(names, numbers) }, { weight: 1, arbitrary: any_value }), { maxKeys: keys.length + 1 });
const expects = fc.constantFrom('ok', 'deferred', 'error', 'fault', 'isolated', 'maybe');

const leaf_step: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ probe: names }),
  fc.record({ remove: names }),
  fc.record({ iommu_register: names }),
  fc.record({ destroy_context: names }),
  fc.record({ create_context: field(['parent', 'name', 'id', 'node', 'dma_mask', 'expect', 'color']) }),
  fc.record({ dma_map: field(['context', 'buffer', 'size', 'direction']) }),
  fc.record({ dma_unmap: field(['context', 'buffer']) }),
  fc.record({ dma: field(['context', 'sid', 'iommu', 'buffer', 'offset', 'write', 'expect']) }),
  fc.record({ frobnicate: any_value }),
  any_value.map((v) => ({ probe: v })),
).chain((s) => fc.option(expects, { freq: 4 }).map((e) => (e === null ? s : { ...s, expect: e })));

const steps_arb = fc.letrec<{ steps: Array<Record<string, unknown>>; step: Record<string, unknown> }>((tie) => ({
  step: fc.oneof(
    { weight: 6, arbitrary: leaf_step },
    { weight: 1, arbitrary: fc.record({ repeat: fc.record({ times: fc.oneof(fc.integer({ min: 0, max: 3 }), numbers), steps: tie('steps') }) }) },
  ),
  steps: fc.array(tie('step'), { maxLength: 6, depthIdentifier: 'steps' }),
})).steps;

/** A valid prefix (probe, two contexts, a mapped buffer) and then random steps, as YAML flow
 *  maps (JSON is YAML), one per line. */
function steps_text(steps: Array<Record<string, unknown>>): string {
  const prefix = [
    { probe: 'host' },
    { create_context: { parent: 'host', name: 'c0', id: 0 } },
    { create_context: { parent: 'host', name: 'c1', node: 'kid' } },
    { dma_map: { context: 'c0', buffer: 'b0', size: 4096 } },
  ];
  return BASE + [...prefix, ...steps].map((s) => `  - ${JSON.stringify(s)}\n`).join('');
}

// ------------------------------------------------------------------ the properties

describe(`property tests (fast-check, seed ${SEED}; set FC_SEED to change it)`, () => {
  it('the base of the random-steps property loads', () => {
    expect(load_scenario('p.yaml', steps_text([])).steps).toHaveLength(4);
  });

  it(`parse_dts: any characters give a tree or a DtsSyntaxError inside the text (${RUNS.dts_chars} cases)`, () => {
    check(1, RUNS.dts_chars, any_text(300), dts_outcome);
  });

  it(`parse_dts: DTS token soup gives a tree or a DtsSyntaxError inside the text (${RUNS.dts_tokens} cases)`, () => {
    check(2, RUNS.dts_tokens, token_soup(DTS_TOKENS, 60), dts_outcome);
  });

  it(`parse_dts: generated device trees with random damage give a tree or a DtsSyntaxError inside the text (${RUNS.dts_grammar} cases)`, () => {
    check(8, RUNS.dts_grammar, dts_arb, dts_outcome);
  });

  it(`load_scenario: any characters give a Scenario or a ScenarioError inside the file (${RUNS.yaml_chars} cases)`, () => {
    check(3, RUNS.yaml_chars, any_text(400), load_outcome);
  });

  it(`load_scenario: random bytes read as UTF-8 give a Scenario or a ScenarioError inside the file (${RUNS.yaml_bytes} cases)`, () => {
    check(4, RUNS.yaml_bytes, bytes_text(400), load_outcome);
  });

  it(`load_scenario: YAML token soup gives a Scenario or a ScenarioError inside the file (${RUNS.yaml_tokens} cases)`, () => {
    check(5, RUNS.yaml_tokens, token_soup(YAML_TOKENS, 50), load_outcome);
  });

  it(`load_scenario: the shipped scenarios with random damage give a Scenario or a ScenarioError inside the file (${RUNS.damage} cases)`, () => {
    const files = shipped();
    expect(files.length).toBeGreaterThanOrEqual(4);
    const arb = fc.record({ file: fc.nat(files.length - 1), damage: fc.array(damage_arb, { minLength: 1, maxLength: 4 }) });
    check(6, RUNS.damage, arb, ({ file, damage }) => load_outcome(damage.reduce(apply, files[file]!.text)));
  });

  it(`the step validator: random steps after a valid prefix give a Scenario or a ScenarioError inside the file (${RUNS.steps} cases)`, () => {
    check(7, RUNS.steps, steps_arb, (steps) => load_outcome(steps_text(steps)));
  });

  it('runs at least 10,000 cases in all', () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
  });
});
