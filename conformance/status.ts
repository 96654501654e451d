// For the reports: how many cases the model agrees with the recorded real kernel on.
import { judge } from './verdict.ts';
import { load_recorded } from './recorded.ts';

export interface ConformanceStatus {
  agree: number;
  total: number;
  /** e.g. "Linux 7.3.4" */
  kernel: string;
  /** the recording's date, YYYY-MM-DD */
  recorded: string;
  /** the cases the model does not agree on, by name */
  disagreeing: string[];
}

/** Runs the model's cases against the committed observations ("agrees with Linux 7.3.4 on
 *  N/N cases (recorded DATE)"). A known SMMUv3/SMMUv2 difference still counts as agreement. */
export function conformance_status(): ConformanceStatus {
  const obs = load_recorded();
  const verdicts = judge(obs.records);
  return {
    agree: verdicts.filter((v) => v.agrees).length,
    total: verdicts.length,
    kernel: obs.provenance.kernel,
    recorded: obs.provenance.date,
    disagreeing: verdicts.filter((v) => !v.agrees).map((v) => v.case.name),
  };
}
