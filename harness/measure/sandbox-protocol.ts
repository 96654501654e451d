// The messages between a sandbox (sandbox.ts, in the CLI) and its child process
// (sandbox-host.ts). Each names the hosted thread it is about by the id the parent gave it.
import type { ResourceLimits } from 'node:worker_threads';

export type ParentMessage =
  /** start a thread on the JavaScript at `entry` (a file: URL); with `progress`, its
   *  workerData.progress is an Int32Array's SharedArrayBuffer whose first value is relayed */
  | {
    type: 'start'; id: number; entry: string; workerData: Record<string, unknown>; resourceLimits: ResourceLimits; progress: boolean;
    /** the process's resident memory, in MiB, past which the thread is ended (null: none) */
    memory_limit_mb: number | null;
  }
  | { type: 'post'; id: number; message: unknown }
  | { type: 'terminate'; id: number };

export type HostMessage =
  | { type: 'message'; id: number; message: unknown }
  /** what the thread printed: `text` is cut once a job printed too much, `chars` is not */
  | { type: 'output'; id: number; stream: 'stdout' | 'stderr'; text: string; chars: number }
  | { type: 'progress'; id: number; value: number }
  | { type: 'error'; id: number; message: string }
  /** the thread took the process over its memory limit: the process ends after this */
  | { type: 'over-limit'; id: number; message: string }
  | { type: 'exit'; id: number; code: number };
