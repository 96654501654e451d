// Where variants run: a child process under Node's permission model, which may read files but
// write none and start no process, hosting harness worker threads (sandbox-host.ts). A variant
// that ends its process (process.kill reached past the source check) takes down only the
// threads of that process: the pool gives each of its slots a sandbox, the benchmarks each
// variant one. Each hosted thread is seen here through a SandboxWorker, which behaves like a
// worker_threads Worker: 'message', 'error' and 'exit' events, postMessage(), terminate().
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ResourceLimits } from 'node:worker_threads';
import type { HostMessage, ParentMessage } from './sandbox-protocol.ts';
import { harness_entry } from '../runtime.ts';

/** Node 20 names the permission model experimental; 22.13 and later take --permission */
const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

/** The host's flags: read anything (the harness, the scenarios, the variants), nothing else
 *  but threads; no warning about the permission model being experimental on its stderr. */
const HOST_FLAGS = [PERMISSION_FLAG, '--allow-fs-read=*', '--allow-worker', '--no-warnings', '--enable-source-maps'];

export interface SandboxWorkerOptions {
  workerData?: Record<string, unknown>;
  resourceLimits?: ResourceLimits;
  /** an array whose first value follows what the thread publishes in workerData.progress
   *  (Atomics.store): read in the child every 20 ms, so up to that old when the child dies */
  progress?: Int32Array;
  /** the process's resident memory, in MiB, past which the thread is ended with an error:
   *  what bounds the ArrayBuffers its heap limit does not count */
  memory_limit_mb?: number;
}

/** The error a hosted thread reports when its whole process died (a variant ended it). */
export class ProcessDied extends Error {}

/** A hosted thread's events: what it posts (of type M), a failure, its end, and what it printed
 *  (text cut when a job printed more than 64 KiB, and the count of characters uncut). */
interface WorkerEvents<M> { message: [M]; error: [Error]; exit: [number]; output: [string, number] }

/** A thread in a sandbox, posting messages of type M. */
export class SandboxWorker<M = unknown> extends EventEmitter<WorkerEvents<M>> {
  exited = false;
  constructor(readonly id: number, private readonly box: Sandbox, readonly progress: Int32Array | null) { super(); }
  postMessage(message: unknown): void { this.box.send({ type: 'post', id: this.id, message }); }
  terminate(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.once('exit', () => resolve());
      this.box.send({ type: 'terminate', id: this.id });
    });
  }
  /** the thread ended (or its process): 'exit', once */
  end(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('exit', code);
  }
}

export class Sandbox {
  private readonly child: ChildProcess;
  private readonly workers = new Map<number, SandboxWorker<never>>();
  private next_id = 1;
  private dead: string | null = null;

  constructor() {
    this.child = fork(harness_entry('sandbox-host'), [], { execArgv: HOST_FLAGS, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    // what the process itself prints (a fatal error of V8's) goes to the threads it hosts
    const printed = (chunk: Buffer) => { for (const w of this.workers.values()) w.emit('output', chunk.toString('utf8'), chunk.length); };
    this.child.stdout!.on('data', printed);
    this.child.stderr!.on('data', printed);
    this.child.on('message', (msg: HostMessage) => this.receive(msg));
    this.child.on('error', () => {});
    this.child.on('exit', (code, signal) => this.died(signal ? `killed by ${signal}` : `exit code ${code}`));
  }

  /** false once the process died or was closed: a new sandbox is needed */
  get alive(): boolean { return this.dead === null; }

  /** A thread running the compiled harness module `name` (harness/measure/), posting M. */
  worker<M>(name: string, o: SandboxWorkerOptions = {}): SandboxWorker<M> {
    const w = new SandboxWorker<M>(this.next_id++, this, o.progress ?? null);
    this.workers.set(w.id, w as SandboxWorker<never>);
    if (!this.alive) {
      queueMicrotask(() => this.fail(w as SandboxWorker<never>));
      return w;
    }
    this.send({ type: 'start', id: w.id, entry: harness_entry(name).href, workerData: o.workerData ?? {}, resourceLimits: o.resourceLimits ?? {}, progress: o.progress !== undefined, memory_limit_mb: o.memory_limit_mb ?? null });
    return w;
  }

  send(msg: ParentMessage): void {
    if (this.alive && this.child.connected) this.child.send(msg, () => {});
  }

  /** End the process and every thread in it. */
  close(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  private receive(msg: HostMessage): void {
    const w = this.workers.get(msg.id);
    if (!w) return;
    if (msg.type === 'message') w.emit('message', msg.message as never);
    else if (msg.type === 'output') w.emit('output', msg.text, msg.chars);
    else if (msg.type === 'progress') { if (w.progress) Atomics.store(w.progress, 0, msg.value); }
    else if (msg.type === 'error') w.emit('error', new Error(msg.message));
    else if (msg.type === 'over-limit') {
      // the process is ending: no new thread may start in it
      this.dead = 'over its memory limit';
      this.child.kill('SIGKILL');
      w.emit('error', new Error(msg.message));
    }
    else {
      this.workers.delete(w.id);
      w.end(msg.code);
    }
  }

  /** The process ended: by close() or after going over its memory limit (its threads simply
   *  end), or on its own, a variant having killed it (they fail, saying so). */
  private died(how: string): void {
    const unexpected = this.dead === null && !this.child.killed;
    this.dead ??= how;
    for (const w of this.workers.values()) if (unexpected) this.fail(w); else w.end(1);
    this.workers.clear();
  }

  private fail(w: SandboxWorker<never>): void {
    this.workers.delete(w.id);
    if (w.exited) return;
    if (w.listenerCount('error')) w.emit('error', new ProcessDied(`the worker process died (${this.dead})`));
    w.end(1);
  }
}
