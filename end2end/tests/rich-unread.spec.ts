import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { apiChannel, conversations, log, open, person, send } from './helpers';

// SPEC §7.3 "First unread" and "Drafts", and the outbox kept across a closed tab.

const LIVE = { timeout: 2_000 };

/** Sends messages through the JSON API, one after the other (waiting out the send limit). */
async function post(request: APIRequestContext, channel: string, texts: string[]): Promise<void> {
  for (const text of texts) {
    for (;;) {
      const response = await request.post('/api/chat/messages', { data: { channel_id: channel, text } });
      if (response.status() === 429) {
        await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(response.headers()['retry-after'] ?? 1)));
        continue;
      }
      expect(response.ok()).toBeTruthy();
      break;
    }
  }
}

function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix} ${from + i}`);
}

function item(page: Page, text: string) {
  return log(page).getByRole('listitem').filter({ has: page.getByText(text, { exact: true }) });
}

/** A message's own text (its list item also holds "New messages" when it is the first unread). */
function words(page: Page, text: string) {
  return log(page).getByText(text, { exact: true });
}

async function top(locator: ReturnType<Page['locator']>): Promise<number> {
  const box = await locator.boundingBox();
  expect(box).not.toBeNull();
  return box?.y ?? 0;
}

test('opening with unread messages shows "New messages" above the first one; "Jump to latest"', async ({ browser }) => {
  const a = await person(browser, 'Una');
  const b = await person(browser, 'Ned');
  const channel = await apiChannel(a.context.request, [b.id]);
  await post(a.context.request, channel, numbered('seen', 1, 5));

  // B reads the first five, then leaves the conversation.
  await open(b.page, `/chat/${channel}`);
  await expect(item(b.page, 'seen 5')).toBeVisible();
  const link = conversations(b.page).getByRole('link', { name: new RegExp(`^${a.name}`) });
  await expect(link).not.toContainText('unread');
  await open(b.page, '/chat');
  await expect(b.page.getByText('Select a conversation')).toBeVisible();

  await post(a.context.request, channel, numbered('fresh', 1, 30));
  await expect(link).toContainText('30 unread', LIVE);
  await link.click();

  const line = log(b.page).getByRole('separator', { name: 'New messages' });
  await expect(line).toBeInViewport();
  await expect(line).toHaveText('New messages');
  await expect(item(b.page, 'fresh 1')).toBeInViewport();
  expect(await top(line)).toBeGreaterThan(await top(item(b.page, 'seen 5')));
  expect(await top(line)).toBeLessThan(await top(words(b.page, 'fresh 1')));
  // Opened there, not at the bottom.
  await expect(item(b.page, 'fresh 30')).not.toBeInViewport();

  // Reading moves the read mark, not the line, and the log does not jump back.
  await expect(link).not.toContainText('unread');
  await b.page.waitForTimeout(500);
  await expect(line).toBeInViewport();
  expect(await top(line)).toBeLessThan(await top(words(b.page, 'fresh 1')));

  const jump = b.page.getByRole('button', { name: 'Jump to latest' });
  await expect(jump).toBeVisible();
  await jump.click();
  await expect(item(b.page, 'fresh 30')).toBeInViewport();
  await expect(jump).toHaveCount(0);
  await expect(line).toHaveCount(1);

  // Scrolled up by hand, the button is back.
  await log(b.page).evaluate((el) => el.scrollTo(0, 0));
  await expect(jump).toBeVisible();

  // Reopened with nothing unread: no line, and the newest message in view.
  await open(b.page, '/chat');
  await link.click();
  await expect(item(b.page, 'fresh 30')).toBeInViewport();
  await expect(log(b.page).getByRole('separator', { name: 'New messages' })).toHaveCount(0);
  await expect(jump).toHaveCount(0);
});

test('the first unread message beyond the newest page is loaded; older pages still load on scrolling up', async ({ browser }) => {
  const a = await person(browser, 'Pam');
  const b = await person(browser, 'Pat');
  const channel = await apiChannel(a.context.request, [b.id]);
  await post(a.context.request, channel, numbered('m', 1, 55));
  await open(b.page, `/chat/${channel}`);
  await expect(item(b.page, 'm 55')).toBeVisible();
  const link = conversations(b.page).getByRole('link', { name: new RegExp(`^${a.name}`) });
  await expect(link).not.toContainText('unread');
  await open(b.page, '/chat');

  // 60 more: the newest page (50) starts at 66, the first unread is 56.
  await post(a.context.request, channel, numbered('m', 56, 115));
  await expect(link).toContainText('60 unread', LIVE);
  await link.click();
  const line = log(b.page).getByRole('separator', { name: 'New messages' });
  await expect(line).toBeInViewport();
  await expect(item(b.page, 'm 56')).toBeInViewport();
  expect(await top(line)).toBeLessThan(await top(words(b.page, 'm 56')));
  expect(await top(line)).toBeGreaterThan(await top(item(b.page, 'm 55')));

  // Scrolling up loads what is older still, and the line stays above 56.
  await expect(item(b.page, 'm 1')).toHaveCount(0);
  for (let i = 0; i < 5 && (await item(b.page, 'm 1').count()) === 0; i++) {
    await log(b.page).evaluate((el) => el.scrollTo(0, 0));
    await b.page.waitForTimeout(500);
  }
  await expect(item(b.page, 'm 1')).toHaveCount(1);
  await expect(line).toHaveCount(1);
  expect(await top(line)).toBeLessThan(await top(words(b.page, 'm 56')));
});

test('a draft survives switching conversations and a reload, and goes when sent', async ({ browser }) => {
  const a = await person(browser, 'Dee');
  const b = await person(browser, 'Dan');
  const c = await person(browser, 'Dot');
  const withB = await apiChannel(a.context.request, [b.id]);
  const withC = await apiChannel(a.context.request, [c.id]);
  const composer = a.page.getByLabel('Message', { exact: true });
  const to = (name: string) => conversations(a.page).getByRole('link', { name: new RegExp(`^${name}`) });

  await open(a.page, `/chat/${withB}`);
  await composer.fill('half a thought for Dan');
  await to(c.name).click();
  await expect(a.page.getByRole('heading', { name: c.name })).toBeVisible();
  await expect(composer).toHaveValue('');
  await composer.fill('a word for Dot');
  await to(b.name).click();
  await expect(a.page.getByRole('heading', { name: b.name })).toBeVisible();
  await expect(composer).toHaveValue('half a thought for Dan');

  // The server renders an empty box; the browser fills the draft in after hydration.
  const html = await (await a.context.request.get(`/chat/${withB}`)).text();
  expect(html).not.toContain('half a thought');
  await a.page.reload();
  await expect(composer).toHaveValue('half a thought for Dan');
  await to(c.name).click();
  await expect(composer).toHaveValue('a word for Dot');
  await to(b.name).click();
  await expect(composer).toHaveValue('half a thought for Dan');

  // Sent: gone, after a reload too.
  await composer.press('Enter');
  await expect(item(a.page, 'half a thought for Dan')).not.toContainText('Sending…');
  await expect(composer).toHaveValue('');
  await a.page.reload();
  await expect(item(a.page, 'half a thought for Dan')).toBeVisible();
  await expect(composer).toHaveValue('');
  await to(c.name).click();
  await expect(composer).toHaveValue('a word for Dot');
});

test('a message written offline survives a closed tab and is delivered once', async ({ browser }) => {
  const a = await person(browser, 'Ola');
  const b = await person(browser, 'Oz');
  const channel = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${channel}`);
  await open(b.page, `/chat/${channel}`);
  await send(a.page, 'before the tunnel');
  await expect(item(b.page, 'before the tunnel')).toBeVisible(LIVE);

  await a.context.setOffline(true);
  await expect(a.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  const composer = a.page.getByLabel('Message', { exact: true });
  await composer.fill('written in the tunnel');
  await composer.press('Enter');
  await expect(item(a.page, 'written in the tunnel')).toContainText('Sending…');
  await a.page.close();
  await a.context.setOffline(false);

  // Two tabs open at once: both know the queued message, it is stored and shown once.
  const [first, second] = await Promise.all([a.context.newPage(), a.context.newPage()]);
  await Promise.all([open(first, `/chat/${channel}`), open(second, `/chat/${channel}`)]);
  for (const page of [first, second]) {
    await expect(item(page, 'written in the tunnel')).toHaveCount(1);
    await expect(item(page, 'written in the tunnel')).not.toContainText('Sending…', { timeout: 10_000 });
  }
  await expect(item(b.page, 'written in the tunnel')).toHaveCount(1, LIVE);
  await b.page.waitForTimeout(1_000);
  await expect(item(b.page, 'written in the tunnel')).toHaveCount(1);
  for (const page of [first, second]) {
    await expect(item(page, 'written in the tunnel')).toHaveCount(1);
  }

  await b.page.reload();
  await expect(item(b.page, 'written in the tunnel')).toHaveCount(1);
  await first.reload();
  await expect(item(first, 'written in the tunnel')).toHaveCount(1);
  await expect(item(first, 'written in the tunnel')).not.toContainText('Sending…');
  const history = await b.context.request.get(`/api/chat/channels/${channel}/messages`);
  const texts: string[] = (await history.json()).messages.map((m: { text: string }) => m.text);
  expect(texts).toEqual(['before the tunnel', 'written in the tunnel']);
});
