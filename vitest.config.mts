import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // integration files build whole namespaced hosts: run files one at a time on a 2-core machine
    fileParallelism: false,
    reporters: ['default'],
  },
});
