import { describe, expect, it } from 'vitest';
import { DtsSyntaxError, MAX_ERRORS, parse_dts } from './dts.ts';
import type { device_node, device_tree } from './node.ts';

const NO_DEFINES = new Map<string, number>();

function parse(text: string, defines = NO_DEFINES): device_tree {
  return parse_dts(text, defines);
}

function node(dt: device_tree, path: string): device_node {
  const walk = (n: device_node): device_node | undefined => (n.path === path ? n : n.children.map(walk).find((x) => x));
  const found = walk(dt.root);
  if (!found) throw new Error(`no node ${path}`);
  return found;
}

function cells(dt: device_tree, path: string, prop: string): number[] | null | undefined {
  return node(dt, path).properties.get(prop)?.cells;
}

/** The error parse_dts throws for `text`; fails the test if it throws nothing or something else. */
function error_of(text: string, defines = NO_DEFINES): DtsSyntaxError {
  try {
    parse_dts(text, defines);
  } catch (e) {
    if (e instanceof DtsSyntaxError) return e;
    throw new Error(`threw something other than DtsSyntaxError: ${String(e)}`);
  }
  throw new Error('no error');
}

/** Expects an error whose offset is at the `nth` occurrence of `marker` and whose message matches. */
function expect_error(text: string, marker: string, message: RegExp, defines = NO_DEFINES, nth = 1): void {
  let at = -1;
  for (let i = 0; i < nth; i++) at = text.indexOf(marker, at + 1);
  expect(at).toBeGreaterThanOrEqual(0);
  const e = error_of(text, defines);
  expect(e.message).toMatch(message);
  expect(e.offset).toBe(at);
}

describe('nodes', () => {
  it('puts top-level nodes under an implicit root and fills every field', () => {
    const text = 'apps_smmu: smmu0: iommu@15000000 { };\nsoc { dev@1 { }; };';
    const dt = parse(text);
    expect(dt.root).toMatchObject({ name: '', full_name: '', path: '/', parent: null, phandle: 0, refcount: 0 });
    const smmu = node(dt, '/iommu@15000000');
    expect(smmu).toMatchObject({ name: 'iommu', full_name: 'iommu@15000000', labels: ['apps_smmu', 'smmu0'], phandle: 0, refcount: 0 });
    expect(smmu.parent).toBe(dt.root);
    expect(smmu.pos).toBe(text.indexOf('iommu@'));
    const dev = node(dt, '/soc/dev@1');
    expect(dev.parent).toBe(node(dt, '/soc'));
    expect(dev.name).toBe('dev');
    expect(dt.root.children.map((c) => c.full_name)).toEqual(['iommu@15000000', 'soc']);
    expect(dt.labels.get('apps_smmu')).toBe(smmu);
    expect(dt.labels.get('smmu0')).toBe(smmu);
  });

  it('reads an explicit root with its own properties', () => {
    const dt = parse('/dts-v1/;\n/ {\n  model = "board";\n  soc { };\n};');
    expect(dt.root.properties.get('model')?.strings).toEqual(['board']);
    expect(dt.root.children.map((c) => c.path)).toEqual(['/soc']);
  });

  it('merges nodes given beside an explicit root', () => {
    const dt = parse('/ { a { }; };\nb { };');
    expect(dt.root.children.map((c) => c.path)).toEqual(['/a', '/b']);
  });
});

describe('properties', () => {
  it('concatenates several <...> groups and records each cell offset', () => {
    const text = 'n { p = <1 2>, <0x10>; e = <>; };';
    const dt = parse(text);
    const p = node(dt, '/n').properties.get('p')!;
    expect(p).toMatchObject({ name: 'p', cells: [1, 2, 16], strings: null, pos: text.indexOf('p =') });
    expect(p.cellPos).toEqual([text.indexOf('1 2'), text.indexOf('2>'), text.indexOf('0x10')]);
    expect(cells(dt, '/n', 'e')).toEqual([]);
  });

  it('reads strings, string lists and escapes', () => {
    const dt = parse('n { compatible = "qcom,sm8550-smmu-500", "arm,mmu-500"; s = "a\\"b\\\\c\\x41"; };');
    const n = node(dt, '/n');
    expect(n.properties.get('compatible')).toMatchObject({ strings: ['qcom,sm8550-smmu-500', 'arm,mmu-500'], cells: null, cellPos: [] });
    expect(n.properties.get('s')?.strings).toEqual(['a"b\\cA']);
  });

  it('reads boolean properties and names with # and ,', () => {
    const dt = parse('n { dma-coherent; #iommu-cells = <2>; qcom,flag; };');
    const n = node(dt, '/n');
    expect(n.properties.get('dma-coherent')).toMatchObject({ cells: null, strings: null, cellPos: [] });
    expect(n.properties.get('#iommu-cells')?.cells).toEqual([2]);
    expect(n.properties.has('qcom,flag')).toBe(true);
  });

  it('skips both comment styles, anywhere whitespace may go', () => {
    const dt = parse('// top\n/* a\n block */ n /* x */ { p = < 1 /* one */ 2 // two\n 3 >; // end\n };');
    expect(cells(dt, '/n', 'p')).toEqual([1, 2, 3]);
  });
});

describe('integers, macros and expressions', () => {
  it('reads decimal, hex and C suffixes', () => {
    expect(cells(parse('n { p = <0 10 0x1A 0XfF 4294967295 0xffffffff 1U 2ul>; };'), '/n', 'p')).toEqual([0, 10, 26, 255, 0xffffffff, 0xffffffff, 1, 2]);
  });

  it('replaces macro names from defines', () => {
    const defines = new Map([['TEGRA234_SID_HOST1X_CTX0', 0x35], ['IRIS_PIXEL', 1]]);
    expect(cells(parse('n { p = <TEGRA234_SID_HOST1X_CTX0 IRIS_PIXEL>; };', defines), '/n', 'p')).toEqual([0x35, 1]);
  });

  it.each([
    ['(0x1800 | 0x3)', 0x1803],
    ['(1 + 2 * 3)', 7],
    ['((1 + 2) * 3)', 9],
    ['(10 - 2 - 3)', 5],
    ['(1 << 4 | 1)', 17],
    ['(1 + 1 << 2)', 8],
    ['(0xff & 0x0f | 0x30)', 0x3f],
    ['(0x30 | 0xff & 0x0f)', 0x3f],
    ['(0x100 >> 4)', 0x10],
    ['(~0 & 0xffff)', 0xffff],
    ['(-1 + 2)', 1],
    ['(7 / 2 + 7 % 2)', 4],
    ['(6 ^ 3)', 5],
    ['(BASE + 7)', 0x1947],
  ])('%s = %i', (expr, value) => {
    expect(cells(parse(`n { p = <${expr}>; };`, new Map([['BASE', 0x1940]])), '/n', 'p')).toEqual([value]);
  });

  it('lets intermediate values leave the cell range if the result is back in it', () => {
    expect(cells(parse('n { p = <((0xffffffff + 1) >> 1)>; };'), '/n', 'p')).toEqual([0x80000000]);
  });
});

describe('phandles', () => {
  it('gives phandles only to referenced nodes, in order of first reference, forward references included', () => {
    const text = 'a: x { }; b: y { }; c: z { };\nd { p = <&c 1>, <&a 2 &c>; };';
    const dt = parse(text);
    expect(node(dt, '/z').phandle).toBe(1);
    expect(node(dt, '/x').phandle).toBe(2);
    expect(node(dt, '/y').phandle).toBe(0);
    expect(cells(dt, '/d', 'p')).toEqual([1, 1, 2, 2, 1]);
    expect([...dt.phandles.entries()].map(([ph, n]) => [ph, n.path])).toEqual([[1, '/z'], [2, '/x']]);
    expect(node(dt, '/d').properties.get('p')?.cellPos[0]).toBe(text.indexOf('&c'));
  });

  it('resolves a reference to a label defined later in the text', () => {
    const dt = parse('d { p = <&later>; };\nlater: l { };');
    expect(cells(dt, '/d', 'p')).toEqual([1]);
    expect(dt.phandles.get(1)?.path).toBe('/l');
  });
});

describe('errors', () => {
  it('reports an unknown macro at its name', () => {
    expect_error('n { iommus = <1 NOPE>; };', 'NOPE', /unknown macro 'NOPE'/);
  });

  it('reports an unknown label at its reference', () => {
    expect_error('a: x { };\nn { iommus = <&a &b>; };', '&b', /unknown label 'b'/);
  });

  it('rejects a cell above 2^32-1', () => {
    expect_error('n { p = <1 0x100000000>; };', '0x100000000', /outside 0\.\.0xffffffff/);
  });

  it('rejects an expression result above 2^32-1 or below 0', () => {
    expect_error('n { p = <(0xffffffff + 1)>; };', '(', /outside 0\.\.0xffffffff/);
    expect_error('n { p = <2 (1 - 2)>; };', '(', /outside 0\.\.0xffffffff/);
  });

  it('rejects a duplicate label at the second one', () => {
    expect_error('a: x { };\na: y { };', 'a:', /duplicate label 'a'/, NO_DEFINES, 2);
  });

  it('rejects a duplicate node name among siblings, not among cousins', () => {
    expect_error('s { n@1 { }; n@1 { }; };', 'n@1', /duplicate node 'n@1' in \/s/, NO_DEFINES, 2);
    expect(() => parse('s { n@1 { }; }; t { n@1 { }; };')).not.toThrow();
  });

  it('rejects a duplicate property', () => {
    expect_error('n { p = <1>; p = <2>; };', 'p', /duplicate property 'p'/, NO_DEFINES, 2);
  });

  it.each([
    ['n { p = <1> };', '}', /',' or ';' expected/],
    ['n { p = <1>; }', '', /unexpected end of input: ';' expected/],
    ['n { p = <1>;', '', /unexpected end of input: '}' expected to close \/n/],
    ['n { p = <1 2', '', /'>' expected/],
    ['n { /* open', '/*', /unterminated \/\* comment/],
    ['n { s = "abc; };', '"', /unterminated string/],
    ['n { p = <1>, "a"; };', '"', /mixes cells and strings/],
    ['n { p = <010>; };', '010', /octal/],
    ['n { p = <0x>; };', '0x', /not an integer/],
    ['n { p = <1 - 2>; };', '-', /unexpected '-' in a cell list/],
    ['n { l: p = <1>; };', 'l:', /labels on properties/],
    ['p = <1>;', 'p', /outside any node/],
    ['#define X 1\nn { };', '#define', /not supported/],
    ['n { p = <(1 / 0)>; };', '/ 0', /division by zero/],
    ['n { p = <(1 << 64)>; };', '<<', /shift count/],
    ['n { p = <(0xffffffffffffffff * 2)>; };', '*', /64 bits/],
    ['n { p = <(1 + )>; };', ')', /unexpected '\)' in an expression/],
    ['n { p = <(1 + 2>; };', '>', /'\)' expected/],
    ['n { p = <(&a)>; };', '&a', /not allowed inside an expression/],
    ['&a { };', '&a', /node references/],
    ['n { p = [00 01]; };', '[', /byte strings/],
    ['n { p = /bits/ 64 <1>; };', '/bits/', /not supported/],
    ['/plugin/;', '/plugin/', /not supported/],
    ['n { p = &a; };', '&a', /path references/],
    ['n@ { };', 'n@', /not a valid node name/],
    ['1a: n { };', '1a', /not a valid label/],
    ['n { = <1>; };', '=', /name expected/],
    ['n { p <1>; };', '<', /'\{', '=' or ';' expected/],
  ])('%j', (text, marker, message) => {
    const e = error_of(text);
    expect(e.message).toMatch(message);
    expect(e.offset).toBe(marker === '' ? text.length : text.indexOf(marker));
  });

  it('rejects a non-integer macro value instead of failing inside BigInt', () => {
    expect_error('n { p = <X>; };', 'X', /not an integer/, new Map([['X', 1.5]]));
  });

  it('rejects deep nesting with a DtsSyntaxError, not a stack overflow', () => {
    expect(error_of('n {'.repeat(100_000)).message).toMatch(/nested more than/);
    expect(error_of(`n { p = <${'('.repeat(100_000)}1${')'.repeat(100_000)}>; };`).message).toMatch(/nested more than/);
  });

  it('throws nothing but DtsSyntaxError on arbitrary input', () => {
    const alphabet = ['a', 'b', '@', '1', '0x', '{', '}', ';', '=', '<', '>', '(', ')', '&', 'a:', '"', ',', ' ', '\n', '/', '*', '+', '-', '<<', '#', 'X', '~', '\\'];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const len = 1 + rnd(40);
      let text = '';
      for (let j = 0; j < len; j++) text += alphabet[rnd(alphabet.length)];
      try {
        parse_dts(text, new Map([['X', 3]]));
      } catch (e) {
        expect(e).toBeInstanceOf(DtsSyntaxError);
        expect((e as DtsSyntaxError).offset).toBeGreaterThanOrEqual(0);
        expect((e as DtsSyntaxError).offset).toBeLessThanOrEqual(text.length);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('a node pasted from a .dtsi', () => {
  const PASTED = [
    '#include <dt-bindings/interrupt-controller/arm-gic.h>',
    'smmu: iommu@15000000 {',
    '    #iommu-cells = <2>;',
    '    interrupts = <GIC_SPI 65 IRQ_TYPE_LEVEL_HIGH 0>;',
    '};',
    'dsp {',
    '    interrupts-extended = <&intc GIC_SPI 578 IRQ_TYPE_EDGE_RISING 0>;',
    '    clocks = <&rpmhcc RPMH_CXO_CLK>;',
    '    interconnects = <&nsp_noc MASTER_CDSP_PROC QCOM_ICC_TAG_ALWAYS>;',
    '    power-domains = <&rpmhpd RPMHPD_CX>, <(RPMHPD_MXC | 1)>;',
    '    iommus = <&smmu 0x1961 0x0>;',
    '};',
  ].join('\n');

  it('keeps unknown macros and labels opaque where the model reads nothing (of_property_read_u32_array is never asked for them)', () => {
    const notes: Array<{ offset: number; message: string }> = [];
    const dt = parse_dts(PASTED, NO_DEFINES, notes);
    expect(cells(dt, '/dsp', 'clocks')).toEqual([0, 0]);
    expect(cells(dt, '/dsp', 'power-domains')).toEqual([0, 0, 1]);
    expect(cells(dt, '/dsp', 'iommus')).toEqual([1, 0x1961, 0]);
    expect(notes).toEqual([{ offset: 0, message: expect.stringMatching(/^#include <dt-bindings\/interrupt-controller\/arm-gic.h> ignored/) }]);
  });

  it('reports every unknown name in properties the model reads, in one error, with did you mean', () => {
    const text = 'smmu: iommu@1 { #iommu-cells = <1>; };\nd { iommus = <&smu SID_A>; iommu-map = <0 &smmu SID_B 1>; };';
    const e = error_of(text, new Map([['SID_AA', 1]]));
    expect(e.message).toBe("unknown label 'smu' in iommus; did you mean 'smmu'?");
    expect(e.more.map((m) => m.message)).toEqual([
      "unknown macro 'SID_A' (add it under 'defines'); did you mean 'SID_AA'?",
      "unknown macro 'SID_B' (add it under 'defines'); did you mean 'SID_AA'?",
    ]);
    expect(e.offset).toBe(text.indexOf('&smu'));
  });

  it('stops gathering at MAX_ERRORS and says how many more there were', () => {
    const text = `d { iommus = <${Array.from({ length: MAX_ERRORS + 5 }, (_v, i) => `M${i}`).join(' ')}>; };`;
    const e = error_of(text);
    expect(e.more.length).toBe(MAX_ERRORS);
    expect(e.more.at(-1)!.message).toBe('5 more errors not shown');
  });
});

describe('MODEL_READS', () => {
  // every property name the model's code looks up (of_find_property, of_property_read_*,
  // properties.get) must be in the list, or a pasted macro there would read as 0 unnoticed
  it('holds every property the kernel model and the scenario loader read', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { MODEL_READS } = await import('./dts.ts');
    const root = new URL('../..', import.meta.url).pathname;
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []));
    const read = new Set<string>();
    for (const f of [...files(join(root, 'kernel')), ...files(join(root, 'scenario'))]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:of_find_property|of_property_read_[a-z0-9_]+|properties\.get)\([\w.]+, *'([^']+)'|properties\.get\('([^']+)'\)/g)) read.add(m[1] ?? m[2]!);
    }
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((p) => !MODEL_READS.has(p))).toEqual([]);
  });
});
