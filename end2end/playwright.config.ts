import { defineConfig, devices } from '@playwright/test';

// The server is started by `cargo leptos end-to-end` (see scripts/test.sh); global-setup waits
// until it answers. Browsers come from Debian (/usr/bin/chromium): Playwright cannot download
// its own here. PARLEY_BASE_URL points the suite at another running server (e.g. a second
// checkout's on another port).
const baseURL = process.env.PARLEY_BASE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  // Two workers, each driving two or three browser contexts and the release server, share two
  // cores: the slowest tests (search, the axe scans, mentions) take 20-25 s here on a good run,
  // which left little headroom under the old 30 s limit (a CI run failed in this suite with no
  // log of which test). Each of a test's own steps still waits at most `expect.timeout`.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
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
