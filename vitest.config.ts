import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests: no build needed first.
    conditions: ['snoopy-source', 'node', 'development|production'],
  },
  ssr: {
    resolve: {
      conditions: ['snoopy-source', 'node', 'development|production'],
    },
  },
  test: {
    // The Kafka addon cannot load in two worker threads of one process.
    pool: 'forks',
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/setup/kafka.ts', 'test/setup/services.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
