// Peak memory of a run, as the worker running it sees it: V8's committed heap plus the memory
// held outside it (typed arrays' backing stores), sampled at the points the caller chooses.
// Each job runs in a worker thread with a V8 isolate of its own, so this is that run's memory,
// not the process's.
import { getHeapStatistics } from 'node:v8';

export interface HeapSampler {
  sample(): void;
  /** the highest sample so far, MiB, one decimal */
  peak_mb(): number;
}

export function heap_sampler(): HeapSampler {
  let peak = 0;
  const sampler: HeapSampler = {
    sample() {
      const h = getHeapStatistics();
      peak = Math.max(peak, h.total_heap_size + h.external_memory);
    },
    peak_mb: () => Math.round((peak / 2 ** 20) * 10) / 10,
  };
  sampler.sample();
  return sampler;
}
