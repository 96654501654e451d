import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'test/**/*.test.ts', 'variants/**/*.test.ts', 'conformance/**/*.test.ts'],
    testTimeout: 60_000,
    globalSetup: ['test/build.global.ts'],
  },
});
