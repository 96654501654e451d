// cases.ts -> iommu-ctx-conformance-cases.h: the C test's table of cases, so that the kernel
// runs exactly the cases the model runs. The header is generated into the kernel tree at each
// run and never edited by hand.
import { createHash } from 'node:crypto';
import { CASES, SUBNODE_PARENT_COMPATIBLE, type CaseKind, type CaseOp } from './cases.ts';

/** CONF_MAX_STEPS in iommu-ctx-conformance.c, less the CONF_END terminator */
export const C_MAX_STEPS = 7;

const c_name = (s: string) => `CONF_${s.replace(/-/g, '_').toUpperCase()}`;

export function cases_header(): string {
  const rows = CASES.map((c) => {
    if (c.steps.length > C_MAX_STEPS) throw new Error(`case ${c.name}: ${c.steps.length} steps, the C table holds ${C_MAX_STEPS}`);
    const steps = [...c.steps.map((op: CaseOp) => c_name(op)), 'CONF_END'].join(', ');
    return `\t{ "${c.name}", ${c_name(c.kind satisfies CaseKind)}, 0x${c.sid.toString(16)}, ${c.dma_mask}, ${c.bound_parent},\n` +
      `\t  "${SUBNODE_PARENT_COMPATIBLE}", { ${steps} } },`;
  });
  return [
    '/* SPDX-License-Identifier: GPL-2.0 */',
    '/* Generated from the project\'s conformance/cases.ts by conformance/gen-c.ts: do not edit. */',
    'static const struct conf_case conf_cases[] = {',
    ...rows,
    '};',
    '',
  ].join('\n');
}

/** Names the case table a kernel ran: recorded observations carry it. */
export function cases_sha256(): string {
  return createHash('sha256').update(cases_header()).digest('hex');
}
