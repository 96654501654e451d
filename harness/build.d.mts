// Types of harness/build.mjs, for the TypeScript that calls it (test/build.global.ts).
export function build_if_stale(root: string): number;
