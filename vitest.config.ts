import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

/**
 * Five projects, from fast to slow (README, "Tests"): `unit` is the pure domain and other logic
 * without I/O (seconds); `integration` runs the real services on SQLite files, the reference
 * centre on loopback, the CLI and the crash tests; `centre-pg` runs the centre's and the sync
 * tests again with the centre on PostgreSQL, and the tests only PostgreSQL can run (several centre
 * processes on one database); `renderer` mounts components against the real services in
 * happy-dom; `e2e` drives the built app in Debian's Chromium.
 */
export default defineConfig({
  resolve: { alias: { '@core': resolve('core'), '@': resolve('renderer/src') } },
  test: {
    // Two files at once, not vitest's default of one on a 2-core machine (cores less one): most
    // test time waits on a centre, PostgreSQL, a child process or Chromium, and a run of every
    // project took 21 min with one worker, 14.5 with two, on a machine of this project's kind.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['test/unit/**/*.test.ts'] }
      },
      {
        extends: true,
        test: {
          name: 'integration',
          environment: 'node',
          include: ['test/integration/**/*.test.ts'],
          // Real files, real processes: a loaded two-core machine is slower than a laptop.
          testTimeout: 30_000
        }
      },
      {
        extends: true,
        test: {
          name: 'centre-pg',
          environment: 'node',
          include: [
            'test/integration/hub/**/*.test.ts',
            'test/integration/sync/**/*.test.ts',
            'test/postgres/**/*.test.ts'
          ],
          env: { HUB_TEST_DATABASE: 'postgres' },
          // Drops the schemas a killed run left on the test server.
          globalSetup: ['test/support/postgres-setup.ts'],
          testTimeout: 30_000
        }
      },
      {
        extends: true,
        plugins: [vue()],
        test: {
          name: 'renderer',
          environment: 'happy-dom',
          include: ['test/renderer/**/*.test.ts'],
          testTimeout: 30_000
        }
      },
      {
        extends: true,
        // Drives the built app (out/) in Debian's Chromium; `npm test` builds before it runs.
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false
        }
      }
    ]
  }
})
