import { expect, test } from '@playwright/test';
import { DEMO_PASSWORD, PASSWORD, open, signIn, signUp, uniqueUsername } from './helpers';

test('a new user signs up, sees People, signs out and signs in again', async ({ page }) => {
  const username = uniqueUsername('dana');
  const displayName = `Dana ${username.slice(-6)}`;

  await signUp(page, username, displayName);

  await expect(page).toHaveURL(/\/people$/);
  for (const demo of ['Alice Liddell', 'Bob Marley', 'Carol Danvers']) {
    await expect(page.getByText(demo, { exact: true })).toBeVisible();
  }
  await expect(page.getByRole('banner').getByText(displayName)).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);

  // The session is gone on the server too: People now sends us to sign in.
  await page.goto('/people');
  await expect(page).toHaveURL(/\/login\?next=\/people$/);

  await signIn(page, username, PASSWORD);
  await expect(page).toHaveURL(/\/people$/);
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expect(page.getByRole('banner').getByText(displayName)).toBeVisible();
});

test('a wrong password shows an error and keeps the visitor signed out', async ({ page }) => {
  await open(page, '/login');

  await signIn(page, 'alice', 'not the password');

  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
});

test('opening Chat while signed out lands on sign-in, and returns there afterwards', async ({ page }) => {
  await page.goto('/chat');

  await expect(page).toHaveURL(/\/login\?next=\/chat$/);
  await signIn(page, 'bob', DEMO_PASSWORD);

  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();
});

test('sign-up shows clear inline errors', async ({ page }) => {
  await open(page, '/signup');

  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('Username is required');

  await page.getByLabel('Username').fill(uniqueUsername('erin'));
  await page.getByLabel('Display name').fill('Erin');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('Password must be at least 8 characters');

  await page.getByLabel('Username').fill('Alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('That username is already taken.');
  await expect(page).toHaveURL(/\/signup$/);
});
