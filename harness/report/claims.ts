// The claims ledger (claims/ledger.yaml, docs/reports.md): what the review threads asserted,
// each claim with who made it, where, and the observations that test it, written as queries
// over results.json (json.ts). A claim is upheld when every observation comes out as it
// predicts, refuted when none does, qualified when some do; untested when the run holds
// nothing a query looks at (a variant or scenario left out). A new claim is a new entry: the
// query forms below cover the run's verdicts, failures, coverage, review findings and design
// cost, and nothing here names a claim.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Scalar, YAMLMap } from 'yaml';
import type { ClaimOutcome, Results } from '../measure/results.ts';
import { json_results } from './json.ts';

type Json = ReturnType<typeof json_results>;
type JsonRun = Json['results'][number];

/** One observation: a query and what it is in words. */
export type Query =
  | { form: 'run'; variant: string; scenario: string | null; verdict: string[] }
  | { form: 'design'; variant: string; verdict: string[] }
  | { form: 'failure'; variant: string; scenario: string | null; check: string | null; says: string }
  | { form: 'coverage'; variant: string; scenario: string | null; of: CoverageField; is: 'none' | 'all' }
  | { form: 'finding'; variant: string; kind: string }
  | { form: 'cost'; variant: string; of: CostField; at_least: number | null; at_most: number | null };

const COVERAGE_FIELDS = ['add_notified', 'removed_notified', 'dma_configured', 'iommu_probed', 'iommu_released'] as const;
type CoverageField = typeof COVERAGE_FIELDS[number];
const COST_FIELDS = ['bus_types', 'core_edits', 'exported_symbols', 'loc'] as const;
type CostField = typeof COST_FIELDS[number];

export interface Observation { query: Query; as: string | null }

export interface Claim {
  id: string;
  claim: string;
  who: string;
  link: string;
  /** observations the claim predicts, and observations that would contradict it */
  for: Observation[];
  against: Observation[];
}

/** A ledger that does not read: `file:line:col: message`, as for a scenario file. */
export class LedgerError extends Error {
  constructor(readonly file: string, readonly line: number, readonly col: number, readonly detail: string) {
    super(`${file}:${line}:${col}: ${detail}`);
  }
}

// ---------------------------------------------------------------- reading the ledger

const QUERY_KEYS: Record<Query['form'], { required: string[]; optional: string[] }> = {
  run: { required: ['variant', 'verdict'], optional: ['scenario'] },
  design: { required: ['variant', 'verdict'], optional: [] },
  failure: { required: ['variant', 'says'], optional: ['scenario', 'check'] },
  coverage: { required: ['variant', 'of', 'is'], optional: ['scenario'] },
  finding: { required: ['variant', 'kind'], optional: [] },
  cost: { required: ['variant', 'of'], optional: ['at_least', 'at_most'] },
};
const CLAIM_KEYS = ['id', 'claim', 'who', 'link', 'for', 'against'];

class LedgerReader {
  private readonly lc = new LineCounter();
  constructor(private readonly file: string, private readonly text: string) {}

  private fail(node: { range?: [number, number, number] | null } | null | undefined, message: string): never {
    const { line, col } = this.lc.linePos(node?.range?.[0] ?? 0);
    throw new LedgerError(this.file, Math.max(line, 1), Math.max(col, 1), message);
  }

  read(): Claim[] {
    const doc = parseDocument(this.text, { lineCounter: this.lc, prettyErrors: false });
    if (doc.errors[0]) {
      const { line, col } = this.lc.linePos(doc.errors[0].pos[0]);
      throw new LedgerError(this.file, line, col, doc.errors[0].message);
    }
    const root = doc.contents;
    if (!isSeq(root)) this.fail(null, 'the ledger must be a list of claims');
    const ids = new Set<string>();
    return root.items.map((item) => {
      const c = this.claim(item);
      if (ids.has(c.id)) this.fail(item as YAMLMap, `duplicate claim id '${c.id}'`);
      ids.add(c.id);
      return c;
    });
  }

  private map(node: unknown, what: string, allowed: string[]): Map<string, unknown> {
    if (!isMap(node)) this.fail(node as Scalar, `${what} must be a map`);
    const out = new Map<string, unknown>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(key)) this.fail(pair.key as Scalar, `unknown key '${key}' in ${what} (known: ${allowed.join(', ')})`);
      out.set(key, pair.value);
    }
    return out;
  }

  private str(node: unknown, what: string): string {
    if (!isScalar(node) || typeof node.value !== 'string' || node.value.trim() === '') this.fail(node as Scalar, `${what} must be a non-empty string`);
    return node.value.trim();
  }

  private claim(node: unknown): Claim {
    const m = this.map(node, 'a claim', CLAIM_KEYS);
    for (const k of ['id', 'claim', 'who', 'link']) if (!m.has(k)) this.fail(node as YAMLMap, `a claim needs '${k}'`);
    const c: Claim = {
      id: this.str(m.get('id'), 'id'), claim: this.str(m.get('claim'), 'claim'),
      who: this.str(m.get('who'), 'who'), link: this.str(m.get('link'), 'link'),
      for: this.observations(m.get('for'), 'for'), against: this.observations(m.get('against'), 'against'),
    };
    if (c.for.length + c.against.length === 0) this.fail(node as YAMLMap, `claim '${c.id}' has no observation: give 'for' or 'against'`);
    return c;
  }

  private observations(node: unknown, what: string): Observation[] {
    if (node === undefined || node === null) return [];
    if (!isSeq(node)) this.fail(node as Scalar, `'${what}' must be a list of observations`);
    return node.items.map((item) => this.observation(item));
  }

  private observation(node: unknown): Observation {
    const forms = Object.keys(QUERY_KEYS);
    const m = this.map(node, 'an observation', [...forms, 'as']);
    const form = [...m.keys()].filter((k) => k !== 'as');
    if (form.length !== 1) this.fail(node as YAMLMap, `an observation has one query (${forms.join(', ')}) and an optional 'as'`);
    const as = m.has('as') ? this.str(m.get('as'), 'as') : null;
    return { query: this.query(form[0] as Query['form'], m.get(form[0]!)), as };
  }

  private query(form: Query['form'], node: unknown): Query {
    const keys = QUERY_KEYS[form];
    const m = this.map(node, `a ${form} query`, [...keys.required, ...keys.optional]);
    for (const k of keys.required) if (!m.has(k)) this.fail(node as YAMLMap, `a ${form} query needs '${k}'`);
    const s = (k: string): string => this.str(m.get(k), k);
    const opt = (k: string): string | null => (m.has(k) ? s(k) : null);
    const list = (k: string): string[] => {
      const v = m.get(k);
      return isSeq(v) ? v.items.map((x) => this.str(x, k)) : [s(k)];
    };
    const num = (k: string): number | null => {
      if (!m.has(k)) return null;
      const v = m.get(k);
      if (!isScalar(v) || typeof v.value !== 'number') this.fail(v as Scalar, `${k} must be a number`);
      return v.value;
    };
    const one = <T extends string>(k: string, allowed: readonly T[]): T => {
      const v = s(k);
      if (!(allowed as readonly string[]).includes(v)) this.fail(m.get(k) as Scalar, `${k} must be one of ${allowed.join(', ')}`);
      return v as T;
    };
    switch (form) {
      case 'run': return { form, variant: s('variant'), scenario: opt('scenario'), verdict: list('verdict') };
      case 'design': return { form, variant: s('variant'), verdict: list('verdict') };
      case 'failure': return { form, variant: s('variant'), scenario: opt('scenario'), check: opt('check'), says: s('says') };
      case 'coverage': return { form, variant: s('variant'), scenario: opt('scenario'), of: one('of', COVERAGE_FIELDS), is: one('is', ['none', 'all'] as const) };
      case 'finding': return { form, variant: s('variant'), kind: s('kind') };
      case 'cost': {
        const q = { form, variant: s('variant'), of: one('of', COST_FIELDS), at_least: num('at_least'), at_most: num('at_most') };
        if (q.at_least === null && q.at_most === null) this.fail(node as YAMLMap, 'a cost query needs at_least or at_most');
        return q;
      }
    }
  }
}

/** Reads and checks a ledger file; throws LedgerError at the offending line and column. */
export function load_ledger(file: string): Claim[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LedgerError(file, 1, 1, `cannot read the claims ledger: ${(e as Error).message}`);
  }
  return new LedgerReader(file, text).read();
}

export function parse_ledger(file: string, text: string): Claim[] {
  return new LedgerReader(file, text).read();
}

// ---------------------------------------------------------------- judging

/** What a query found: whether it holds (null: nothing to look at) and the figures, in words. */
interface Answer { holds: boolean | null; saw: string }

function runs_of(j: Json, variant: string, scenario: string | null): JsonRun[] {
  return j.results.filter((x) => x.variant === variant && (scenario === null || x.scenario === scenario));
}

const where = (variant: string, scenario: string | null): string => (scenario === null ? variant : `${variant} on ${scenario}`);

function ask(j: Json, q: Query): Answer {
  const absent = (what: string): Answer => ({ holds: null, saw: `${what}: not in this run` });
  switch (q.form) {
    case 'run': {
      const runs = runs_of(j, q.variant, q.scenario);
      if (runs.length === 0) return absent(where(q.variant, q.scenario));
      const tally = [...new Set(runs.map((x) => x.verdict))].map((v) => `${v} ${runs.filter((x) => x.verdict === v).length}`).join(', ');
      return { holds: runs.every((x) => q.verdict.includes(x.verdict)), saw: `${where(q.variant, q.scenario)}: ${tally}` };
    }
    case 'design': {
      const v = j.variants.find((x) => x.name === q.variant);
      if (!v) return absent(q.variant);
      return { holds: q.verdict.includes(v.verdict), saw: `${q.variant}: ${v.verdict}` };
    }
    case 'failure': {
      const runs = runs_of(j, q.variant, q.scenario);
      if (runs.length === 0) return absent(where(q.variant, q.scenario));
      const hit = runs.flatMap((x) => x.failures).find((f) => (q.check === null || f.check === q.check) && f.message.includes(q.says));
      return { holds: hit !== undefined, saw: hit ? `${where(q.variant, q.scenario)}: ${hit.check} says "${q.says}"` : `${where(q.variant, q.scenario)}: no failure says "${q.says}"` };
    }
    case 'coverage': {
      const runs = runs_of(j, q.variant, q.scenario);
      const n = runs.reduce((s, x) => s + x.coverage.contexts, 0);
      if (runs.length === 0 || n === 0) return absent(`contexts of ${where(q.variant, q.scenario)}`);
      const got = runs.reduce((s, x) => s + x.coverage[q.of], 0);
      return { holds: q.is === 'none' ? got === 0 : got === n, saw: `${where(q.variant, q.scenario)}: ${q.of} ${got} of ${n}` };
    }
    case 'finding': {
      const v = j.variants.find((x) => x.name === q.variant) as (Json['variants'][number] & { findings?: Array<{ kind: string; count: number }> }) | undefined;
      if (!v || v.findings === undefined) return absent(`findings of ${q.variant}`);
      const f = v.findings.find((x) => x.kind === q.kind);
      return { holds: f !== undefined, saw: f ? `${q.variant}: finding ${q.kind} (x${f.count})` : `${q.variant}: no ${q.kind} finding` };
    }
    case 'cost': {
      const v = j.variants.find((x) => x.name === q.variant);
      if (!v || v.cost === null) return absent(`design cost of ${q.variant}`);
      const value = q.of === 'loc' ? v.cost.loc : v.cost[q.of].length;
      const holds = (q.at_least === null || value >= q.at_least) && (q.at_most === null || value <= q.at_most);
      return { holds, saw: `${q.variant}: ${q.of.replace('_', ' ')} ${value}` };
    }
  }
}

function judge(j: Json, c: Claim): ClaimOutcome {
  let agree = 0;
  let disagree = 0;
  const evidence: string[] = [];
  const observe = (o: Observation, predicted: boolean): void => {
    const f = ask(j, o.query);
    const label = o.as ? `${o.as}: ` : '';
    if (f.holds === null) {
      evidence.push(`${label}${f.saw}`);
      return;
    }
    if (f.holds === predicted) agree++;
    else disagree++;
    evidence.push(`${label}${f.saw}${f.holds === predicted ? '' : ' (against)'}`);
  };
  for (const o of c.for) observe(o, true);
  for (const o of c.against) observe(o, false);
  const status = agree + disagree === 0 ? 'untested' : disagree === 0 ? 'upheld' : agree === 0 ? 'refuted' : 'qualified';
  // a status from some of the observations only says so first
  const untested = c.for.length + c.against.length - agree - disagree;
  const partly = status !== 'untested' && untested > 0 ? `partly tested (${untested} of ${c.for.length + c.against.length} observations not in this run): ` : '';
  return { id: c.id, claim: c.claim, who: c.who, link: c.link, status, evidence: `${partly}${evidence.join('; ')}` };
}

/** Every claim of the ledger judged against the run's results. */
export function judge_claims(r: Results, ledger: Claim[]): ClaimOutcome[] {
  const j = json_results({ ...r, claims: [] });
  return ledger.map((c) => judge(j, c));
}

/** The ledger at `file` judged into `r.claims`; a ledger that does not read is an input error
 *  (exit code 2), as a scenario file would be. */
export function attach_claims(r: Results, file: string): void {
  try {
    r.claims = judge_claims(r, load_ledger(file));
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    r.errors.push({ file: e.file, line: e.line, col: e.col, message: e.detail });
    r.exit_code = 2;
  }
}
