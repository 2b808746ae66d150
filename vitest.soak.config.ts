import { defineConfig } from 'vitest/config';

/** `npm run test:soak`: the long parts of the reliability battery (files named *.soak.ts). */
export default defineConfig({
  test: {
    include: ['**/*.soak.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // Each part measures a whole system (brokers, child processes, disks): one at a time.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
