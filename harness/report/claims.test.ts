import { describe, expect, it } from 'vitest';
import { LedgerError, judge_claims, load_ledger, parse_ledger } from './claims.ts';
import { sample_results } from './sample.test-data.ts';

function error_of(text: string): LedgerError {
  try {
    parse_ledger('l.yaml', text);
  } catch (e) {
    if (e instanceof LedgerError) return e;
    throw e;
  }
  throw new Error('no error');
}

const CLAIM = (body: string): string => `- id: c\n  claim: a claim\n  who: someone\n  link: https://lore.kernel.org/all/x@y/\n${body}`;

describe('the claims ledger', () => {
  it('ships at least 15 claims, each with a lore link and an observation, and the release claim', () => {
    const ledger = load_ledger(new URL('../../claims/ledger.yaml', import.meta.url).pathname);
    expect(ledger.length).toBeGreaterThanOrEqual(15);
    for (const c of ledger) {
      expect(c.link, c.id).toMatch(/^https:\/\/lore\.kernel\.org\/all\/[^/\s]+\/$/);
      expect(c.for.length + c.against.length, c.id).toBeGreaterThan(0);
    }
    const release = ledger.find((c) => c.id === 'release-static')!;
    expect(release.claim).toContain('iommu_release_device() is static');
    expect(release.against.map((o) => o.query.variant)).toContain('auxiliary-group-remove');
  });

  it('judges a claim upheld, refuted or qualified from the results alone', () => {
    const ledger = parse_ledger('l.yaml', [
      CLAIM('  for:\n    - coverage: { variant: auxiliary-bus, scenario: iris-sm8550, of: iommu_probed, is: none }\n    - run: { variant: auxiliary-bus, scenario: iris-sm8550, verdict: fail }\n'),
      CLAIM('  for:\n    - design: { variant: auxiliary-bus, verdict: works }\n').replace('id: c', 'id: d'),
      CLAIM('  for:\n    - run: { variant: dma-context-bus, verdict: pass }\n  against:\n    - failure: { variant: auxiliary-bus, check: stream-ids, says: "dma_configure was never called" }\n').replace('id: c', 'id: e'),
      CLAIM('  for:\n    - run: { variant: no-such-design, verdict: pass }\n').replace('id: c', 'id: f'),
      CLAIM('  for:\n    - cost: { variant: dma-context-bus, of: core_edits, at_most: 1 }\n').replace('id: c', 'id: g'),
    ].join(''));
    const out = judge_claims(sample_results(), ledger);
    expect(out.map((c) => c.status)).toEqual(['upheld', 'refuted', 'qualified', 'untested', 'upheld']);
    expect(out[0]!.evidence).toBe('auxiliary-bus on iris-sm8550: iommu_probed 0 of 2; auxiliary-bus on iris-sm8550: fail 1');
    expect(out[2]!.evidence).toContain('stream-ids says "dma_configure was never called" (against)');
    expect(out[3]!.evidence).toBe('no-such-design: not in this run');
    const partly = judge_claims(sample_results(), parse_ledger('l.yaml', CLAIM('  for:\n    - design: { variant: dma-context-bus, verdict: works }\n    - design: { variant: gone, verdict: works }\n')));
    expect(partly[0]!.status).toBe('upheld');
    expect(partly[0]!.evidence).toBe('partly tested (1 of 2 observations not in this run): dma-context-bus: works; gone: not in this run');
  });

  it.each([
    ['- id: c\n  claim: x\n  who: y\n  link: z\n  for:\n    - verdict: { variant: a }\n', 6, 7, "unknown key 'verdict' in an observation"],
    [CLAIM('  for:\n    - run: { variant: a, verdikt: pass }\n'), 6, 26, "unknown key 'verdikt' in a run query"],
    [CLAIM('  for:\n    - coverage: { variant: a, of: probed, is: none }\n'), 6, 35, 'of must be one of add_notified'],
    [CLAIM(''), 1, 3, "claim 'c' has no observation"],
    [`${CLAIM('  for:\n    - run: { variant: a, verdict: pass }\n')}${CLAIM('  for:\n    - run: { variant: a, verdict: pass }\n')}`, 7, 3, "duplicate claim id 'c'"],
  ])('reports a bad entry at its line and column: %#', (text, line, col, message) => {
    const e = error_of(text);
    expect([e.line, e.col]).toEqual([line, col]);
    expect(e.detail).toContain(message);
  });
});
