// run_scenario() (harness/measure/run.ts) in-process, with variants written here (outside
// harness/, where variants live, so that their own stack frames are told from the harness's): a throw is the verdict `error` naming
// the error, where it was raised (the variant's own line, and the kernel function when the throw
// came from kernel code it called) and the step; kernel WARNs are `fail` findings at the step
// during which the kernel printed them. The worker pool, time limits and load errors are tested
// end to end in test/isolation.test.ts.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import type { Variant, device } from '../harness/variant.ts';
import { load_scenario } from '../harness/scenario/load.ts';
import { run_scenario } from '../harness/measure/run.ts';
import { describe_thrown } from '../harness/thrown.ts';

const SCN = load_scenario('t.yaml', `scenario: t
summary: one context
devicetree: |
  smmu: iommu@15000000 {
      compatible = "arm,mmu-500";
      #iommu-cells = <2>;
  };
  host: host@b000000 {
      compatible = "test,host";
      iommu-map = <0 &smmu 0x200 0x0 1>;
  };
steps:
  - probe: host
  - create_context: { parent: host, name: c0, id: 0 }
  - destroy_context: c0
kernel: { patches: [of-map-multi-cell] }
`);
const HERE = relative(process.cwd(), fileURLToPath(import.meta.url));

/** A working design (one bus in iommu_buses with .dma_configure), with hooks to misbehave. */
function variant(name: string, hooks: { create?: (k: Parameters<Variant['boot']>[0], dev: device) => void; destroy?: (k: Parameters<Variant['boot']>[0], dev: device) => void } = {}): Variant {
  return {
    name, summary: 's', series: [], expect: 'works',
    boot(k) {
      const bus = k.module_static(() => ({ name: `${name}-bus`, dma_configure: (dev: device) => k.of_dma_configure_id(dev, dev.parent!.of_node!, true, k.dev_get_drvdata(dev) as number) }));
      k.bus_register(bus);
      k.iommu_buses_add(bus, 'test');
    },
    create_context(k, parent, request) {
      const dev = k.kzalloc_device();
      dev.release = () => {};
      dev.bus = k.module_static(() => ({ name: `${name}-bus`, dma_configure: () => 0 }));
      dev.parent = parent;
      dev.dma_mask = request.dma_mask;
      dev.coherent_dma_mask = request.dma_mask;
      k.dev_set_name(dev, `${name}.0`);
      k.dev_set_drvdata(dev, request.id);
      const ret = k.device_register(dev);
      if (ret) return ret;
      hooks.create?.(k, dev);
      return dev;
    },
    destroy_context(k, dev) {
      k.device_unregister(dev);
      hooks.destroy?.(k, dev);
    },
  };
}

describe('run_scenario', () => {
  it('a sound variant passes', () => {
    const r = run_scenario(SCN, variant('sound'));
    expect(r.failures).toEqual([]);
    expect(r.verdict).toBe('pass');
  });

  it('a Scenario replayed again (a worker reuses it) gives the same result: boot() unflattens the tree afresh (node refcounts start at 0)', () => {
    const refcounts = () => [SCN.dt.root, ...SCN.dt.root.children].map((np) => np.refcount);
    // peak memory is a measurement, not a result
    const { peak_heap_mb: _m1, ...first } = run_scenario(SCN, variant('again'));
    const after_first = refcounts();
    const { peak_heap_mb: _m2, ...second } = run_scenario(SCN, variant('again'));
    expect(second).toEqual(first);
    expect(refcounts()).toEqual(after_first);
    expect(after_first.some((n) => n !== 0)).toBe(true); // the SMMU's device still holds its node
  });

  it('a throw in create_context is the verdict error, with the error, the variant\'s line and the step', () => {
    const r = run_scenario(SCN, variant('thrower', { create: () => { throw new RangeError('no more contexts'); } }));
    expect(r.verdict).toBe('error');
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.step).toBe('step 2 (t.yaml:14:5)');
    expect(r.failures[0]!.check).toBe('variant-error');
    expect(r.failures[0]!.message).toMatch(new RegExp(`^thrower\\.create_context threw RangeError: no more contexts \\(at ${HERE.replace(/[.]/g, '\\.')}:\\d+:\\d+\\)$`));
  });

  it('a throw inside kernel code the variant called names the kernel function and the variant\'s call', () => {
    const r = run_scenario(SCN, variant('garbage', { create: (k) => { k.device_add(null as unknown as device); } }));
    expect(r.verdict).toBe('error');
    expect(r.failures[0]!.message).toMatch(/^garbage\.create_context threw TypeError: .* in device_add \(harness\/kernel\/base\/core\.ts:\d+:\d+\), called from .*run\.test\.ts:\d+:\d+$/);
  });

  it('a non-Error thrown is reported as what it is', () => {
    const r = run_scenario(SCN, variant('stringly', { create: () => { throw 'out of cheese'; } }));
    expect(r.failures[0]!.message).toBe('stringly.create_context threw "out of cheese" (a non-Error value was thrown)');
  });

  it('kernel WARNs are kernel-warning failures at the step during which the kernel printed them', () => {
    const r = run_scenario(SCN, variant('double-put', { destroy: (k, dev) => k.put_device(dev) }));
    expect(r.verdict).toBe('fail');
    expect(r.failures).toEqual([{ step: 'step 3 (t.yaml:15:5)', check: 'kernel-warning', message: "WARNING: double-put.0: refcount_t: underflow; use-after-free (put_device on 'double-put.0')" }]);
    const twice = run_scenario(SCN, variant('add-twice', { create: (k, dev) => { k.device_add(dev); } }));
    expect(twice.failures.map((f) => [f.step, f.check])).toEqual([['step 2 (t.yaml:14:5)', 'kernel-warning']]);
    expect(twice.failures[0]!.message).toMatch(/already registered$/);
  });
});

describe('describe_thrown', () => {
  it('survives errors whose fields throw, and odd values', () => {
    const evil = new Error('x');
    Object.defineProperty(evil, 'message', { get() { throw new Error('no'); } });
    expect(describe_thrown(evil)).toMatch(/^Error: /);
    expect(describe_thrown(undefined)).toBe('undefined (a non-Error value was thrown)');
    expect(describe_thrown(42)).toBe('42 (a non-Error value was thrown)');
  });
});
