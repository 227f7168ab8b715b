import { expect, Page } from '@playwright/test';

export const DEMO_PASSWORD = 'parley-demo';
export const PASSWORD = 'correct horse battery';

/** A username no other test (or earlier run) has used. */
export function uniqueUsername(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}

/** Opens `path` and waits until the page is hydrated (its handlers exist). */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await waitHydrated(page);
}

export async function waitHydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

export async function signUp(page: Page, username: string, displayName: string): Promise<void> {
  await open(page, '/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await waitHydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
