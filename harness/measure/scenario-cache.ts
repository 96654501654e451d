// The last scenario a worker read, kept for the runs that follow: jobs come grouped by
// scenario, and expanding scale.yaml's repeats costs more than some runs. A run must find the
// scenario as the file describes it. The kernel changes nothing in it but the device-tree
// nodes' refcounts, which boot() resets (unflatten_device_tree); a variant, though, is handed
// device-tree nodes and could change them. So the tree is fingerprinted at load and checked
// before each reuse: a tree that changed is loaded again from the file.
import type { device_node, device_tree } from '../kernel/of/node.ts';
import type { Scenario } from '../scenario/types.ts';
import { load_scenario, read_scenario_file } from '../scenario/load.ts';

/** Everything of a tree a run reads, refcounts left out. */
export function dt_fingerprint(dt: device_tree): string {
  const out: string[] = [];
  const visit = (np: device_node): void => {
    out.push(`${np.path}|${np.name}|${np.full_name}|${np.phandle}|${np.labels.join(',')}|${np.parent?.path ?? ''}|${np.children.length}`);
    for (const [name, p] of np.properties) out.push(`  ${name}=${p.name}:${p.cells?.join(',') ?? '-'}:${p.strings?.join('\u0000') ?? '-'}`);
    np.children.forEach(visit);
  };
  visit(dt.root);
  out.push(`phandles ${[...dt.phandles].map(([h, np]) => `${h}:${np.path}`).join(',')}`);
  out.push(`labels ${[...dt.labels].map(([l, np]) => `${l}:${np.path}`).join(',')}`);
  return out.join('\n');
}

let last: { file: string; text: string; scn: Scenario; fingerprint: string } | null = null;

/** The scenario in `file`: the one loaded last if the file and its device tree are unchanged. */
export function scenario_cached(file: string): Scenario {
  const text = read_scenario_file(file);
  if (last && last.file === file && last.text === text && dt_fingerprint(last.scn.dt) === last.fingerprint) return last.scn;
  const scn = load_scenario(file, text);
  last = { file, text, scn, fingerprint: dt_fingerprint(scn.dt) };
  return scn;
}
