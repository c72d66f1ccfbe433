import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/**/*.test.ts', 'services/**/*.test.ts', 'test/unit/**/*.test.ts', 'test/cli/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
          // Property and 100k-row tests take seconds on two cores shared with the servers: generous, so load cannot fail them.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          // Two cores are shared with Kafka, the registry and ClickHouse.
          pool: 'forks',
          maxWorkers: 2,
          fileParallelism: true,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
