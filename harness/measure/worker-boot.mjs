// When the harness runs as TypeScript (tsx, vitest; see runtime.ts), a worker thread starts
// without tsx's module hooks: register them, then load the TypeScript entry named in
// workerData. (Node 20 cannot strip types itself; see toolchain.md.) The compiled harness
// starts its workers on their JavaScript directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
