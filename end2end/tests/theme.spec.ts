import { expect, Page, test } from '@playwright/test';
import { Person, apiChannel, conversations, log, open, person, send, expectAccessible as expectSeriousFree } from './helpers';

// The chat's light and dark themes, and the host classes that force one, in an open
// conversation that shows every kind of text the chat has: messages from both sides, a link, an
// edited and a deleted one, "Seen", "Online", a typing line, an unread badge, the active channel,
// a message's Edit/Delete actions and the offline banner. axe must find nothing serious in any.

/** Serious or critical axe violations on the page as it is now (colour contrast included). */
async function expectAccessible(page: Page, label: string): Promise<void> {
  const results = await expectSeriousFree(page, label);
  // axe checked something: the conversation's text is there to be measured.
  expect(results.passes.some((p) => p.id === 'color-contrast'), `${label}: contrast was measured`).toBe(true);
}

/** The colour behind the conversation: the nearest ancestor of its log that paints one. */
async function conversationBackground(page: Page): Promise<string> {
  return log(page).evaluate((el) => {
    for (let node: Element | null = el; node; node = node.parentElement) {
      const colour = getComputedStyle(node).backgroundColor;
      if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') return colour;
    }
    return 'none';
  });
}

async function setHostClass(page: Page, name: string | null): Promise<void> {
  await page.evaluate((name) => {
    document.documentElement.classList.remove('parley-light', 'parley-dark');
    if (name) document.documentElement.classList.add(name);
  }, name);
}

/** Makes `writer` type in the conversation until `reader` sees the typing line. */
async function showTyping(reader: Person, writer: Person): Promise<void> {
  const line = reader.page.getByText(`${writer.name} is typing…`);
  if (await line.isVisible()) return;
  await expect(async () => {
    await writer.page.getByLabel('Message', { exact: true }).pressSequentially('x');
    await expect(line).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
}

test('light, dark and host-forced themes pass axe in an open conversation', async ({ browser }) => {
  test.setTimeout(60_000);
  const a = await person(browser, 'Tia');
  const b = await person(browser, 'Teo');
  const channel = await apiChannel(a.context.request, [b.id]);
  // A second conversation with unread messages for A: its badge shows in A's list.
  const group = await apiChannel(b.context.request, [a.id], 'Theme group');
  for (const text of ['one for the badge', 'two for the badge']) {
    const sent = await b.context.request.post('/api/chat/messages', { data: { channel_id: group, text } });
    expect(sent.ok()).toBeTruthy();
  }

  await open(a.page, `/chat/${channel}`);
  await open(b.page, `/chat/${channel}`);
  await send(a.page, 'hello from the light side');
  await send(b.page, 'a reply, with a link: https://example.com/docs');
  await send(a.page, 'this one gets edited');
  await send(a.page, 'this one gets deleted');
  await send(a.page, 'and this one is seen');

  const mine = (text: string) => log(a.page).getByRole('listitem').filter({ hasText: text });
  await mine('this one gets edited').hover();
  await mine('this one gets edited').getByRole('button', { name: 'Edit' }).click();
  await a.page.getByLabel('Edit message').fill('this one was edited');
  await a.page.getByLabel('Edit message').press('Enter');
  await expect(mine('this one was edited')).toContainText('(edited)');
  await mine('this one gets deleted').hover();
  await mine('this one gets deleted').getByRole('button', { name: 'Delete' }).click();
  await expect(log(a.page).getByText('Message deleted')).toBeVisible();
  await expect(log(a.page).getByText('Seen', { exact: true })).toBeVisible();
  await expect(a.page.getByText('Online', { exact: true })).toBeVisible();
  await expect(conversations(a.page).getByRole('link', { name: /^Theme group/ })).toContainText('2 unread');

  // What axe sees in each theme: the typing line, and the actions of A's own message.
  const prepare = async () => {
    await showTyping(a, b);
    await mine('and this one is seen').hover();
    await expect(mine('and this one is seen').getByRole('button', { name: 'Delete' })).toBeVisible();
  };

  await a.page.emulateMedia({ colorScheme: 'light' });
  await prepare();
  await expectAccessible(a.page, 'light');
  const light = await conversationBackground(a.page);

  await a.page.emulateMedia({ colorScheme: 'dark' });
  await prepare();
  await expectAccessible(a.page, 'dark');
  const dark = await conversationBackground(a.page);
  expect(dark, 'the dark theme changes the conversation background').not.toBe(light);

  // A host forces a theme with a class on any ancestor, whatever the system says.
  await a.page.emulateMedia({ colorScheme: 'light' });
  await setHostClass(a.page, 'parley-dark');
  await prepare();
  await expectAccessible(a.page, 'forced dark on a light system');
  expect(await conversationBackground(a.page)).toBe(dark);

  await a.page.emulateMedia({ colorScheme: 'dark' });
  await setHostClass(a.page, 'parley-light');
  expect(await conversationBackground(a.page)).toBe(light);
  await setHostClass(a.page, null);
  expect(await conversationBackground(a.page)).toBe(dark);

  // The connection banner, in both themes.
  await a.context.setOffline(true);
  await expect(a.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  await expectAccessible(a.page, 'dark, offline');
  await a.page.emulateMedia({ colorScheme: 'light' });
  await expectAccessible(a.page, 'light, offline');
  await a.context.setOffline(false);
});

test('the People page and its chat buttons pass axe in both themes', async ({ browser }) => {
  const a = await person(browser, 'Pia');
  await person(browser, 'Pim');
  for (const colorScheme of ['light', 'dark'] as const) {
    await a.page.emulateMedia({ colorScheme });
    await open(a.page, '/people');
    await expect(a.page.getByRole('button', { name: /^Message / }).first()).toBeVisible();
    await expectAccessible(a.page, `/people, ${colorScheme}`);
  }
});

test("the chat's stylesheet is CSS, revalidated by its ETag", async ({ request }) => {
  const first = await request.get('/parley.css');
  expect(first.status()).toBe(200);
  expect(first.headers()['content-type']).toBe('text/css; charset=utf-8');
  expect(await first.text()).toContain('--parley-accent');
  const etag = first.headers()['etag'];
  expect(etag).toBeTruthy();
  const again = await request.get('/parley.css', { headers: { 'If-None-Match': etag } });
  expect(again.status()).toBe(304);
});
