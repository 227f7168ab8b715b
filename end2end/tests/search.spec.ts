import { APIRequestContext, expect, test } from '@playwright/test';
import { apiChannel, conversations, expectAccessible, log, open, person, send } from './helpers';

// Message search (SPEC §7.4): the searchbox above the conversation list finds what I may
// read, with the matching words marked; choosing a result opens its conversation at that
// message (the page around it, far back as it is), highlighted. One browser context per person.

/** Posts messages through the JSON API, waiting out the send limit when it is reached. */
async function post(request: APIRequestContext, channel: string, texts: string[]): Promise<void> {
  for (const text of texts) {
    for (let attempt = 0; ; attempt++) {
      const response = await request.post('/api/chat/messages', { data: { channel_id: channel, text } });
      if (response.status() === 429 && attempt < 40) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      expect(response.ok(), await response.text()).toBeTruthy();
      break;
    }
  }
}

test('a search finds my messages with the words marked and opens the conversation there', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Ada');
  const b = await person(browser, 'Bea');
  const c = await person(browser, 'Cal');
  const channel = await apiChannel(a.context.request, [b.id]);
  await apiChannel(c.context.request, [a.id]);

  await open(a.page, `/chat/${channel}`);
  await send(a.page, 'the quarterly numbers are in');
  // Far above the newest page: opening the result loads the page around it.
  await post(a.context.request, channel, Array.from({ length: 120 }, (_, i) => `later ${i + 1}`));

  await open(b.page, '/chat');
  const box = b.page.getByRole('searchbox', { name: 'Search messages' });
  await box.fill('quarterly');
  const results = b.page.getByRole('list', { name: 'Search results' });
  const result = results.getByRole('listitem');
  await expect(result).toHaveCount(1);
  await expect(result.locator('mark')).toHaveText(['quarterly']);
  await expect(result).toContainText('the quarterly numbers are in');
  await expect(result).toContainText(a.name);
  for (const scheme of ['light', 'dark'] as const) {
    await b.page.emulateMedia({ colorScheme: scheme });
    await expectAccessible(b.page, `${scheme}: search results`);
  }

  await result.getByRole('link').click();
  await expect(b.page).toHaveURL(new RegExp(`/chat/${channel}$`));
  const found = log(b.page).getByRole('listitem').filter({ hasText: 'the quarterly numbers are in' });
  await expect(found).toBeInViewport();
  await expect(found).toHaveAttribute('data-highlighted', 'true');
  // The results went with the choice; the newest messages are one button away.
  await expect(results.getByRole('listitem')).toHaveCount(0);
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'later 120' })).toHaveCount(0);
  await b.page.getByRole('button', { name: 'Jump to latest' }).click();
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'later 120' })).toBeInViewport();

  // Words that are nowhere, and a person who is not in the conversation: nothing found.
  await box.fill('quarterly banana');
  await expect(b.page.getByText('No messages found')).toBeVisible();
  await open(c.page, '/chat');
  const theirs = c.page.getByRole('searchbox', { name: 'Search messages' });
  await theirs.fill('quarterly numbers');
  await expect(c.page.getByText('No messages found')).toBeVisible();
  await expect(c.page.getByRole('list', { name: 'Search results' }).getByRole('listitem')).toHaveCount(0);
  await expect(conversations(c.page)).toBeVisible();
});
