import { defineConfig, devices } from '@playwright/test';

// The minimal host's suite (`cargo leptos end-to-end --release --project parley-minimal` starts
// the server; scripts/test.sh). It reuses the demo suite's packages, browser settings and
// helpers; MINIMAL_BASE_URL points it at another running server.
const baseURL = process.env.MINIMAL_BASE_URL ?? 'http://127.0.0.1:3100';

export default defineConfig({
  testDir: '.',
  globalSetup: './global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    ...devices['Desktop Chrome'],
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
