import { Browser, expect, Page, test } from '@playwright/test';
import { conversations, log, send, waitHydrated } from '../tests/helpers';

// The minimal host (minimal/): its fixed people sign in through its own page with the shared
// password (MINIMAL_PASSWORD, default "minimal"), and its own header shows the chat's unread
// count. Expects a fresh database (scripts/test.sh makes one): the people are fixed, so their
// conversation is the same one every run.
const PASSWORD = process.env.MINIMAL_PASSWORD ?? 'minimal';

/** A new browser context signed in as `name` through the host's sign-in page. */
async function signIn(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  // Signed out, the chat sends you to the host's sign-in page.
  await page.goto('/chat');
  await expect(page).toHaveURL(/\/sign-in$/);
  await waitHydrated(page);
  await page.getByLabel('Person').selectOption({ label: name });
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Team' })).toBeVisible();
  await expect(page.getByRole('banner')).toContainText(name);
  return page;
}

function chatLink(page: Page) {
  return page.getByRole('link', { name: /^Chat/ });
}

test('a wrong password is refused on the sign-in page', async ({ page }) => {
  await page.goto('/sign-in');
  await waitHydrated(page);
  await page.getByLabel('Person').selectOption({ label: 'Alan Turing' });
  await page.getByLabel('Password').fill(`not-${PASSWORD}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('two people sign in through its own page, chat live both ways, and its header counts unread', async ({ browser }) => {
  const ada = await signIn(browser, 'Ada Lovelace');
  const grace = await signIn(browser, 'Grace Hopper');
  await expect(chatLink(grace)).not.toContainText('unread');

  // Ada opens the 1:1 from the host's team page; Grace stays there.
  await ada.getByRole('button', { name: 'Message Grace Hopper' }).click();
  await expect(ada.getByRole('heading', { name: 'Grace Hopper' })).toBeVisible();
  const stamp = Date.now().toString(36);
  await send(ada, `first ${stamp}`);
  await expect(chatLink(grace)).toContainText('1 unread');
  await send(ada, `second ${stamp}`);
  await expect(chatLink(grace)).toContainText('2 unread');
  await expect(grace.getByRole('heading', { name: 'Team' })).toBeVisible();

  // Reading the conversation clears the header's count.
  await chatLink(grace).click();
  await conversations(grace).getByRole('link', { name: /^Ada Lovelace/ }).click();
  await expect(log(grace).getByRole('listitem').filter({ hasText: `second ${stamp}` })).toBeVisible();
  await expect(chatLink(grace)).not.toContainText('unread');

  await send(grace, `reply ${stamp}`);
  await expect(log(ada).getByRole('listitem').filter({ hasText: `reply ${stamp}` })).toBeVisible();
  await expect(chatLink(ada)).not.toContainText('unread');

  // Signing out tells the chat: Grace's other tab loses its connection and is signed out too.
  const other = await grace.context().newPage();
  await other.goto('/chat');
  await waitHydrated(other);
  await expect(conversations(other).getByRole('link', { name: /^Ada Lovelace/ })).toBeVisible();
  await grace.getByRole('button', { name: 'Sign out' }).click();
  await expect(grace).toHaveURL(/\/sign-in$/);
  await expect(other).toHaveURL(/\/sign-in$/);
});
