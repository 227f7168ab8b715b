import { expect, Page, test } from '@playwright/test';
import { apiChannel, DEMO_PASSWORD, log, PASSWORD, person, uniqueUsername, waitHydrated } from './helpers';

// What a person types while the page is still loading (the WASM not yet there, so no handlers)
// must not be lost at hydration: the sign-up form posts without JavaScript, and typed text stays
// through hydration in the forms and the composer. Signing in, hydrated or not, never follows a
// `next=` off this site. Each test holds the page's WASM until it releases it, so "before
// hydration" is certain, not a race.

/** Holds every request for the app's WASM until the returned function is called. */
async function holdWasm(page: Page): Promise<() => void> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/pkg/*.wasm', async (route) => {
    await released;
    // The page that asked may be gone (a form post navigated away): nothing to answer then.
    await route.continue().catch(() => {});
  });
  return release;
}

async function expectNotHydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(0);
}

test('sign-up typed and submitted before the app loaded signs the person in', async ({ page }) => {
  const release = await holdWasm(page);
  const username = uniqueUsername('early');
  const displayName = `Early ${username.slice(-5)}`;

  await page.goto('/signup', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await expectNotHydrated(page);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/people$/);
  release();
  await waitHydrated(page);
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expect(page.getByRole('banner').getByText(displayName)).toBeVisible();
});

test('sign-up typed before the app loaded survives hydration and then succeeds', async ({ page }) => {
  const release = await holdWasm(page);
  const username = uniqueUsername('typed');
  const displayName = `Typed ${username.slice(-5)}`;

  await page.goto('/signup', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await expectNotHydrated(page);
  release();
  await waitHydrated(page);

  await expect(page.getByLabel('Username')).toHaveValue(username);
  await expect(page.getByLabel('Display name')).toHaveValue(displayName);
  await expect(page.getByLabel('Password')).toHaveValue(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expect(page).toHaveURL(/\/people$/);
  await expect(page.getByRole('banner').getByText(displayName)).toBeVisible();
});

test('a refused sign-up before the app loaded comes back with the error and the names kept', async ({
  page,
}) => {
  const release = await holdWasm(page);

  await page.goto('/signup', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('Username').fill('Alice');
  await page.getByLabel('Display name').fill('Not Alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/signup\?/);
  expect(page.url()).not.toContain(encodeURIComponent(PASSWORD).replace(/%20/g, '+'));
  expect(page.url()).not.toContain('battery');
  await expect(page.getByRole('alert')).toHaveText('That username is already taken.');
  await expect(page.getByLabel('Username')).toHaveValue('Alice');
  await expect(page.getByLabel('Display name')).toHaveValue('Not Alice');
  await expect(page.getByLabel('Password')).toHaveValue('');
  release();
  await waitHydrated(page);
  await expect(page.getByLabel('Display name')).toHaveValue('Not Alice');
});

test('a message typed before the app loaded is still there after hydration and sends', async ({ browser }) => {
  const a = await person(browser, 'Ivy');
  const b = await person(browser, 'Jon');
  const channel = await apiChannel(a.context.request, [b.id]);
  const release = await holdWasm(a.page);
  const text = `typed while loading ${a.username.slice(-5)}`;

  await a.page.goto(`/chat/${channel}`, { waitUntil: 'domcontentloaded' });
  await a.page.getByLabel('Message', { exact: true }).fill(text);
  await expectNotHydrated(a.page);
  release();
  await waitHydrated(a.page);
  await expect(a.page.getByRole('heading', { name: b.name })).toBeVisible();

  const composer = a.page.getByLabel('Message', { exact: true });
  await expect(composer).toHaveValue(text);
  await composer.press('Enter');
  await expect(log(a.page).getByRole('listitem').filter({ hasText: text })).not.toContainText('Sending…');
  await expect(composer).toHaveValue('');

  await b.page.goto(`/chat/${channel}`);
  await expect(log(b.page).getByRole('listitem').filter({ hasText: text })).toBeVisible();
});

for (const when of ['after', 'before'] as const) {
  test(`sign-in ${when} hydration never follows next= off this site`, async ({ page }) => {
    const release = await holdWasm(page);
    if (when === 'after') release();

    await page.goto('/login?next=/%09/evil.example', { waitUntil: 'domcontentloaded' });
    if (when === 'after') await waitHydrated(page);
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/people$/);
    release();
    await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  });
}

test('the WASM reaches the browser as its brotli copy, and the page hydrates from it', async ({ page }) => {
  // Chromium offers br: the release build's `--precompress` copy is what it downloads.
  const wasm = page.waitForResponse((response) => new URL(response.url()).pathname === '/pkg/parley.wasm');
  await page.goto('/login');
  const response = await wasm;
  expect(response.status()).toBe(200);
  expect(await response.headerValue('content-encoding')).toBe('br');
  expect((await response.headerValue('vary'))?.toLowerCase()).toContain('accept-encoding');
  // `data-hydrated` is set by the WASM's own `hydrate()`: the decoded module ran.
  await waitHydrated(page);
});
