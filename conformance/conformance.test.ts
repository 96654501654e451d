// The model against a real Linux kernel: the conformance cases (cases.ts) run on the simulated
// kernel and compared, case by case and field by field, with the observations a real Linux 7.3.4
// made under QEMU (recorded/observations.json, from `npm run conformance -- --record`).
// Pins down, through the C test's steps: iommu_bus_notifier / iommu_probe_device /
// iommu_release_device (drivers/iommu/iommu.c), of_dma_configure_id (drivers/of/device.c),
// of_iommu_configure (drivers/iommu/of_iommu.c), really_probe's dma_configure
// (drivers/base/dd.c), device_del's BUS_NOTIFY_REMOVED_DEVICE (drivers/base/core.c),
// iommu_group_remove_device and bus_iommu_probe (drivers/iommu/iommu.c).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../harness/kernel/kernel.ts';
import { CASES } from './cases.ts';
import { judge } from './verdict.ts';
import { describe_difference } from './record.ts';
import { load_recorded, RECORDED_CONSOLE } from './recorded.ts';
import { cases_header, cases_sha256 } from './gen-c.ts';
import { parse_console } from './console.ts';
import { config_settings, PATCH, sha256, TEST_C } from './kit.ts';
import { conformance_status } from './status.ts';

const recorded = load_recorded();
const verdicts = judge(recorded.records);

describe('the model against the recorded Linux kernel', () => {
  it.each(verdicts.map((v) => [v.case.name, v] as const))('%s: the model makes the same record as the kernel', (_name, v) => {
    const unexplained = v.differences.filter((d) => !d.known).map(describe_difference);
    expect(unexplained, unexplained.join('\n')).toEqual([]);
  });

  it('every SMMUv3/SMMUv2 difference a case declares is still a difference (the case data stays true)', () => {
    const stale = verdicts.flatMap((v) => Object.keys(v.case.smmu_differences ?? {})
      .filter((field) => !v.differences.some((d) => d.field === field))
      .map((field) => `${v.case.name}: ${field}`));
    expect(stale).toEqual([]);
  });

  it('conformance_status() counts the agreeing cases and names the kernel and the date', () => {
    expect(conformance_status()).toEqual({ agree: CASES.length, total: CASES.length, kernel: 'Linux 7.3.4', recorded: recorded.provenance.date, disagreeing: [] });
  });
});

describe('the recorded observations', () => {
  it('were made by a real 7.3.4 kernel under QEMU with an SMMUv3, on these very cases, test, patch and config', () => {
    const p = recorded.provenance;
    expect(p.banner).toMatch(/^Linux version 7\.3\.4/);
    expect(p.qemu).toMatch(/^QEMU emulator version/);
    expect(p.machine).toContain('iommu=smmuv3');
    expect(p.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(p.cases_sha256, 'cases.ts changed since the recording: run `npm run conformance -- --record`').toBe(cases_sha256());
    expect(p.test_sha256, 'the C test changed since the recording').toBe(sha256(TEST_C));
    expect(p.patch_sha256, 'the kernel patch changed since the recording').toBe(sha256(PATCH));
    expect(p.config).toEqual(config_settings());
  });

  it('hold one record per case', () => {
    expect(recorded.records.map((r) => r.case)).toEqual(CASES.map((c) => c.name));
  });

  it('are what parse_console() reads from the committed console log of that run', () => {
    const text = readFileSync(RECORDED_CONSOLE, 'utf8');
    const run = parse_console(text);
    expect(run.done).toBe(true);
    expect(run.banner).toBe(recorded.provenance.banner);
    expect(run.records).toEqual(recorded.records);
  });
});

describe('the comparison can fail', () => {
  /** A model whose IOMMU notifier ignores BUS_NOTIFY_REMOVED_DEVICE: iommu_release_device()
   *  never runs when a device goes (a test-only hook on the booted kernel's notifier lists). */
  function ignore_removed_device(k: Kernel): void {
    for (const sp of k.buses.values()) {
      sp.notifiers = sp.notifiers.map((nb) => nb.name !== 'iommu_bus_notifier' ? nb : {
        name: nb.name,
        notifier_call: (kk, event, dev) => (event === 'BUS_NOTIFY_REMOVED_DEVICE' ? 0 : nb.notifier_call(kk, event, dev)),
      });
    }
  }

  it('a model that never releases a device at BUS_NOTIFY_REMOVED_DEVICE fails the cases whose device the kernel releases, naming them and the fields', () => {
    const broken = judge(recorded.records, { after_boot: ignore_removed_device });
    const failing = broken.filter((v) => !v.agrees).map((v) => v.case.name);
    const released = recorded.records.filter((r) => r.teardown_at_delete === 'released').map((r) => r.case);
    expect(released.length).toBeGreaterThan(0);
    expect(failing).toEqual(released);
    for (const v of broken.filter((x) => !x.agrees)) {
      expect(v.differences.map((d) => d.field)).toEqual(expect.arrayContaining(['delete.group', 'teardown_at_delete']));
    }
  });

  it('a record that differs in one field is reported with its case and field', () => {
    const listed = recorded.records.find((r) => r.case === 'listed-bus')!;
    const altered = { ...listed, steps: listed.steps.map((s) => (s.op === 'add' ? { ...s, group: !s.group } : s)) };
    const v = judge([altered]).find((x) => x.case.name === 'listed-bus')!;
    expect(v.agrees).toBe(false);
    expect(v.differences.map(describe_difference)).toContain(`listed-bus: add.group: kernel ${altered.steps[0]!.group}, model ${listed.steps[0]!.group}`);
  });
});

describe('the C table generated from cases.ts', () => {
  it('lists every case with its kind, stream ID and steps', () => {
    const h = cases_header();
    for (const c of CASES) {
      expect(h).toContain(`{ "${c.name}", CONF_${c.kind.replace(/-/g, '_').toUpperCase()}, 0x${c.sid.toString(16)},`);
    }
    expect(h).toContain('CONF_SMMU_REGISTER, CONF_DELETE, CONF_SID_REUSE, CONF_END');
  });

  it('gives every case a stream ID of its own (a leaked one must not disturb another case)', () => {
    expect(new Set(CASES.map((c) => c.sid)).size).toBe(CASES.length);
  });
});

describe('parse_console()', () => {
  const line = (j: object) => `[    0.300000] CONFORMANCE: ${JSON.stringify(j)}`;
  const step = { ret: 0, group: true, dev_iommu: true, probe_group: null, reuse: null };

  it('gives a WARN without a message we know its function and file, so an unexpected WARN still fails', () => {
    const text = [
      '[    0.000000] Linux version 7.3.4 (test)',
      line({ case: 'listed-bus', phase: 'begin' }),
      '[    0.301000] ------------[ cut here ]------------',
      '[    0.301100] WARNING: drivers/iommu/iommu.c:123 at iommu_group_do_thing+0x10/0x40, CPU#0: swapper/0/1',
      line({ case: 'listed-bus', op: 'add', ...step }),
      '[    0.302000] platform conformance-sid.257: DMA mask not set',
      line({ case: 'listed-bus', phase: 'end' }),
      '[    0.303000] ------------[ cut here ]------------',
      '[    0.303100] WARNING: drivers/base/core.c:1 at outside_any_case+0x1/0x2, CPU#0: swapper/0/1',
      line({ done: true }),
    ].join('\n');
    const run = parse_console(text);
    expect(run.done).toBe(true);
    expect(run.banner).toBe('Linux version 7.3.4 (test)');
    expect(run.records).toHaveLength(1);
    expect(run.records[0]!.warnings).toEqual(['DMA mask not set', 'WARN in iommu_group_do_thing (drivers/iommu/iommu.c)']);
    expect(run.records[0]!.steps).toEqual([{ op: 'add', ...step }]);
  });

  it('reports an abort and a run that did not finish', () => {
    const run = parse_console(line({ abort: 'the SMMUv3 driver did not bind' }));
    expect(run.done).toBe(false);
    expect(run.aborts).toEqual(['the SMMUv3 driver did not bind']);
  });
});

describe('npm run conformance', () => {
  it('answers bad usage with a message and exit 2, before it builds anything', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'conformance/run.ts', '--jobs', 'many'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("conformance: --jobs: 'many' is not a positive whole number");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
