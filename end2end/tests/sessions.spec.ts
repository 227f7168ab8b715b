import { expect, test } from '@playwright/test';
import { open, person, PASSWORD, waitHydrated } from './helpers';

// Signing out ends realtime too (issue 12, item 6): "Sign out everywhere" in one browser ends
// the session of another browser of the same person, whose open chat stops at once.
test('sign out everywhere ends the other browser\'s session and its live chat', async ({ browser }) => {
  const ann = await person(browser, 'Ann');
  const laptop = ann.page;
  await open(laptop, '/chat');
  await expect(laptop.getByText('Select a conversation')).toBeVisible();

  // The same person signs in on a second device (a browser context of its own).
  const phoneContext = await browser.newContext();
  const phone = await phoneContext.newPage();
  await open(phone, '/login');
  await phone.getByLabel('Username').fill(ann.username);
  await phone.getByLabel('Password').fill(PASSWORD);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await expect(phone.getByRole('heading', { name: 'People' })).toBeVisible();

  // "Sign out" stays the only button of that name in view; the other is in the Account menu.
  await expect(phone.getByRole('button', { name: 'Sign out' })).toHaveCount(1);
  await phone.getByText('Account', { exact: true }).click();
  await phone.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(phone).toHaveURL(/\/login$/);

  // The laptop's live connection is closed by the server (4001): it says so and shows the
  // visitor's header, without a reload.
  await expect(laptop.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);
  await expect(laptop.getByRole('banner').getByRole('link', { name: 'Sign in' })).toBeVisible();
  // And the server agrees: the laptop's cookie no longer opens anything.
  expect((await ann.context.request.get('/api/auth/me')).status()).toBe(401);
  await laptop.goto('/chat');
  await waitHydrated(laptop);
  await expect(laptop).toHaveURL(/\/login\?next=\/chat$/);

  await phoneContext.close();
  await ann.context.close();
});
