import { expect, test } from '@playwright/test';
import { apiChannel, conversations, log, open, person, send } from './helpers';

test('two people find each other, talk, and read state follows', async ({ browser }) => {
  const a = await person(browser, 'Ann');
  const b = await person(browser, 'Ben');

  await open(a.page, '/people');
  await a.page.getByRole('button', { name: `Message ${b.name}` }).click();
  await expect(a.page).toHaveURL(/\/chat\/[0-9a-f-]{36}$/);
  await expect(a.page.getByRole('heading', { name: b.name })).toBeVisible();
  await send(a.page, 'hello');
  await expect(log(a.page).getByRole('listitem').filter({ hasText: 'hello' })).toContainText(a.name);

  await open(b.page, '/chat');
  const link = conversations(b.page).getByRole('link', { name: new RegExp(`^${a.name}`) });
  await expect(link).toContainText('1 unread');
  await expect(b.page.getByRole('link', { name: /^Chat/ })).toContainText('1 unread');
  await expect(b.page.getByText('Select a conversation')).toBeVisible();

  await link.click();
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'hello' })).toBeVisible();
  await expect(link).not.toContainText('unread');
  await expect(b.page.getByRole('link', { name: /^Chat/ })).not.toContainText('unread');

  await a.page.reload();
  await expect(log(a.page).getByText('Seen')).toBeVisible();

  // "Message Ben" again reuses the same conversation.
  const url = a.page.url();
  await open(a.page, '/people');
  await a.page.getByRole('button', { name: `Message ${b.name}` }).click();
  await expect(a.page).toHaveURL(url);
  await expect(log(a.page).getByRole('listitem').filter({ hasText: 'hello' })).toBeVisible();
});

test('a group of three is created and used', async ({ browser }) => {
  const a = await person(browser, 'Ada');
  const b = await person(browser, 'Bea');
  const c = await person(browser, 'Cy');
  const group = `Trip ${a.username.slice(-5)}`;

  await open(a.page, '/chat');
  await expect(conversations(a.page).getByText('No conversations yet')).toBeVisible();
  await a.page.getByRole('button', { name: 'New group' }).click();
  await a.page.getByLabel('Group name').fill(group);
  await a.page.getByRole('checkbox', { name: b.name }).check();
  await a.page.getByRole('checkbox', { name: c.name }).check();
  await a.page.getByRole('button', { name: 'Create group' }).click();
  await expect(a.page.getByRole('heading', { name: group })).toBeVisible();
  await send(a.page, 'who is in?');

  await open(c.page, '/chat');
  const link = conversations(c.page).getByRole('link', { name: new RegExp(`^${group}`) });
  await expect(link).toContainText('1 unread');
  await link.click();
  await expect(log(c.page).getByRole('listitem').filter({ hasText: 'who is in?' })).toContainText(a.name);
  await send(c.page, 'me!');

  await open(b.page, '/chat');
  await conversations(b.page).getByRole('link', { name: new RegExp(`^${group}`) }).click();
  await expect(log(b.page).getByRole('listitem')).toHaveCount(2);
  await expect(log(b.page).getByRole('listitem').last()).toContainText(c.name);
});

test('edited and deleted messages show as such to both sides', async ({ browser }) => {
  const a = await person(browser, 'Eve');
  const b = await person(browser, 'Fin');
  const channel = await apiChannel(a.context.request, [b.id]);

  await open(a.page, `/chat/${channel}`);
  await send(a.page, 'frist');
  await send(a.page, 'oops, wrong chat');

  const first = log(a.page).getByRole('listitem').filter({ hasText: 'frist' });
  await first.hover();
  await first.getByRole('button', { name: 'Edit' }).click();
  // While editing, the text lives in the editor's textbox, not in the item's text.
  await log(a.page).getByLabel('Edit message').fill('first');
  await log(a.page).getByRole('button', { name: 'Save' }).click();
  await expect(log(a.page).getByRole('listitem').filter({ hasText: 'first' })).toContainText('(edited)');

  const oops = log(a.page).getByRole('listitem').filter({ hasText: 'oops, wrong chat' });
  await oops.hover();
  await oops.getByRole('button', { name: 'Delete' }).click();
  await expect(log(a.page).getByText('Message deleted')).toBeVisible();
  await expect(log(a.page).getByText('oops, wrong chat')).toHaveCount(0);

  await open(b.page, `/chat/${channel}`);
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'first' })).toContainText('(edited)');
  await expect(log(b.page).getByText('Message deleted')).toBeVisible();
  await expect(b.page.getByText('oops, wrong chat')).toHaveCount(0);
  // Only the author gets the actions.
  await expect(log(b.page).getByRole('button', { name: 'Edit' })).toHaveCount(0);
});

test('scrolling up loads older messages', async ({ browser }) => {
  const a = await person(browser, 'Gus');
  const b = await person(browser, 'Hal');
  const channel = await apiChannel(a.context.request, [b.id]);
  for (let i = 1; i <= 120; i++) {
    // 120 at once is past a person's send burst (100): wait when told to, as a client should.
    for (;;) {
      const response = await a.context.request.post('/api/chat/messages', {
        data: { channel_id: channel, text: `message ${i}` },
      });
      if (response.status() === 429) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * Number(response.headers()['retry-after'] ?? 1)));
        continue;
      }
      expect(response.ok()).toBeTruthy();
      break;
    }
  }

  // Read already: opened with unread messages, the log would load older pages by itself to
  // land on the first of them (rich-unread.spec.ts).
  expect((await b.context.request.post(`/api/chat/channels/${channel}/read`, { data: {} })).ok()).toBeTruthy();
  await open(b.page, `/chat/${channel}`);
  const messages = log(b.page);
  await expect(messages.getByText('message 120', { exact: true })).toBeVisible();
  await expect(messages.getByText('message 1', { exact: true })).toHaveCount(0);

  await expect(async () => {
    await messages.evaluate((el) => (el.scrollTop = 0));
    await expect(messages.getByText('message 1', { exact: true })).toBeAttached({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(messages.getByRole('listitem')).toHaveCount(120);
});

test('markup in a message is shown as text, never run', async ({ browser }) => {
  const a = await person(browser, 'Ivy');
  const b = await person(browser, 'Jo');
  const channel = await apiChannel(a.context.request, [b.id]);
  const evil = '<img src=x onerror="window.__xss=1">';

  await open(a.page, `/chat/${channel}`);
  await send(a.page, evil);

  await open(b.page, `/chat/${channel}`);
  await expect(log(b.page).getByRole('listitem').filter({ hasText: evil })).toBeVisible();
  await expect(log(b.page).locator('img')).toHaveCount(0);
  expect(await b.page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
});

test('a long channel list loads in pages; unread counts and old conversations still work', async ({ browser }) => {
  const a = await person(browser, 'Ida');
  const b = await person(browser, 'Jon');
  const say = async (channel: string, text: string) => {
    const response = await b.context.request.post('/api/chat/messages', { data: { channel_id: channel, text } });
    expect(response.ok()).toBeTruthy();
  };
  // Two clubs with a message each, then fifty newer ones: the first two fall off the first page.
  const clubs: string[] = [];
  for (let i = 0; i < 2; i++) clubs.push(await apiChannel(b.context.request, [a.id], `Club ${i}`));
  await say(clubs[0], 'from the oldest club');
  await say(clubs[1], 'from the second club');
  for (let i = 2; i < 52; i++) clubs.push(await apiChannel(b.context.request, [a.id], `Club ${i}`));

  await open(a.page, '/chat');
  const list = conversations(a.page);
  await expect(list.getByRole('link')).toHaveCount(50);
  // The global count includes the channels not loaded yet.
  await expect(a.page.getByRole('link', { name: /^Chat/ })).toContainText('2 unread');

  await list.getByRole('button', { name: 'More conversations' }).click();
  await expect(list.getByRole('link')).toHaveCount(52);
  await expect(list.getByRole('link', { name: /^Club 0\b/ })).toContainText('1 unread');
  await expect(list.getByRole('button', { name: 'More conversations' })).toHaveCount(0);

  // An old conversation opened by its address, with only the first page loaded.
  await open(a.page, `/chat/${clubs[0]}`);
  await expect(a.page.getByRole('heading', { name: 'Club 0' })).toBeVisible();
  await expect(log(a.page).getByText('from the oldest club')).toBeVisible();
  // Reading it leaves the other old club's message as the only unread one.
  await expect(a.page.getByRole('link', { name: /^Chat/ })).toContainText('1 unread');
  await expect(a.page.getByRole('link', { name: /^Chat/ })).not.toContainText('2 unread');
});
