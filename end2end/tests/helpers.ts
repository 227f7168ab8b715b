import AxeBuilder from '@axe-core/playwright';
import { APIRequestContext, Browser, BrowserContext, expect, Page } from '@playwright/test';

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

export interface Person {
  context: BrowserContext;
  page: Page;
  id: string;
  username: string;
  name: string;
}

/** A new user, signed up through the HTTP API in their own browser context. */
export async function person(browser: Browser, first: string): Promise<Person> {
  const context = await browser.newContext();
  const username = uniqueUsername(first.toLowerCase());
  const name = `${first} ${username.slice(-5)}`;
  const response = await context.request.post('/api/auth/signup', {
    data: { username, display_name: name, password: PASSWORD },
  });
  expect(response.status()).toBe(201);
  const { id } = await response.json();
  return { context, page: await context.newPage(), id, username, name };
}

export function conversations(page: Page) {
  return page.getByRole('navigation', { name: 'Conversations' });
}

export function log(page: Page) {
  return page.getByRole('log', { name: 'Messages' });
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(log(page).getByRole('listitem').filter({ hasText: text }).last()).not.toContainText('Sending…');
}

export async function apiChannel(request: APIRequestContext, members: string[], name?: string): Promise<string> {
  const response = await request.post('/api/chat/channels', { data: { members, name } });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).id;
}


/** Fails on serious or critical axe violations on the page as it is now (colour contrast
 * included); returns axe's results for further checks. */
export async function expectAccessible(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.id === 'color-contrast' || v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`).join(' | ')}`);
  expect(serious, label).toEqual([]);
  return results;
}
