import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: more files at once only adds contention for PostgreSQL connections and CPU.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'server',
          include: ['server/**/*.test.ts', 'shared/**/*.test.ts'],
          // The fault suite has its own config (npm run test:faults).
          exclude: ['**/node_modules/**', 'server/faults/**'],
          globalSetup: ['server/test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        // The SPA's pure functions and components: a browser-like DOM, no database.
        test: {
          name: 'client',
          include: ['client/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
        },
      },
    ],
  },
});
