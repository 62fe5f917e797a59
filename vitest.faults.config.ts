import { defineConfig } from 'vitest/config';

/** The fault suite: processes killed, services stopped. One file at a time, since they share the machine. */
export default defineConfig({
  test: {
    include: ['server/faults/**/*.fault.test.ts'],
    globalSetup: ['server/test/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
