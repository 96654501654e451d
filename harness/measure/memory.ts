// Peak memory of a run, as the worker running it sees it: V8's heap in use plus the memory held
// outside it (typed arrays' backing stores; process.memoryUsage() gives a worker its own
// isolate's figures), sampled at the points the caller chooses. A worker runs job after job:
// the sampler starts with full garbage collections and counts from the level found then, so
// that what an earlier job left (some of it freed later, typed arrays' memory is returned
// lazily) is not charged to this one. What a run needs is its live data plus the garbage not
// yet collected, which is what the samples see.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** V8's gc(), reached without --expose-gc on the command line (a worker cannot take it). */
function full_gc(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collect = typeof gc === 'function' ? () => { (gc as () => void)(); } : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

export interface HeapSampler {
  sample(): void;
  /** the highest sample so far over the level at the start, MiB, one decimal */
  peak_mb(): number;
}

function in_use(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

export function heap_sampler(): HeapSampler {
  // twice: the typed arrays a collection finds dead are freed by a sweeper that finishes
  // later, and V8 counts their memory as external until then; the second collection
  // completes the first's sweep. With one, a run that follows another started from a level
  // still holding the previous run's typed arrays (up to 90 MiB after scale.yaml) and had
  // them deducted from its own peak as they went.
  full_gc();
  full_gc();
  const start = in_use();
  let peak = start;
  return {
    sample() {
      peak = Math.max(peak, in_use());
    },
    peak_mb: () => Math.round(((peak - start) / 2 ** 20) * 10) / 10,
  };
}
