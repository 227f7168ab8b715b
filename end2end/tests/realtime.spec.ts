import { expect, test } from '@playwright/test';
import { apiChannel, conversations, log, open, person, send } from './helpers';

// "Live" means without reloading, within two seconds.
const LIVE = { timeout: 2_000 };

test('messages, unread badges, deletions and "Seen" arrive live', async ({ browser }) => {
  const a = await person(browser, 'Ava');
  const b = await person(browser, 'Bob');
  const channel = await apiChannel(a.context.request, [b.id]);

  await open(b.page, '/chat');
  await expect(b.page.getByText('Select a conversation')).toBeVisible();
  await open(a.page, `/chat/${channel}`);
  await expect(a.page.getByRole('heading', { name: b.name })).toBeVisible();

  await send(a.page, 'first live words');
  const link = conversations(b.page).getByRole('link', { name: new RegExp(`^${a.name}`) });
  await expect(link).toContainText('1 unread', LIVE);
  await expect(b.page.getByRole('link', { name: /^Chat/ })).toContainText('1 unread', LIVE);
  await send(a.page, 'second live words');
  await expect(link).toContainText('2 unread', LIVE);
  await expect(b.page.getByRole('link', { name: /^Chat/ })).toContainText('2 unread', LIVE);

  // Opening the conversation clears the badges; new messages then appear in place.
  await link.click();
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'second live words' })).toBeVisible();
  await expect(link).not.toContainText('unread');
  await expect(b.page.getByRole('link', { name: /^Chat/ })).not.toContainText('unread');
  // A sees that B read it, without reloading.
  await expect(log(a.page).getByText('Seen')).toBeVisible(LIVE);

  await send(a.page, 'while you watch');
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'while you watch' })).toBeVisible(LIVE);
  await expect(link).not.toContainText('unread');

  // A deletes it: gone for B too.
  const item = log(a.page).getByRole('listitem').filter({ hasText: 'while you watch' });
  await item.hover();
  await item.getByRole('button', { name: 'Delete' }).click();
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'while you watch' })).toHaveCount(0, LIVE);
  await expect(log(b.page).getByText('Message deleted')).toBeVisible(LIVE);
});

test('"… is typing" shows while the other person types and goes when the message arrives', async ({ browser }) => {
  const a = await person(browser, 'Tia');
  const b = await person(browser, 'Tom');
  const channel = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${channel}`);
  await open(b.page, `/chat/${channel}`);

  const composer = a.page.getByLabel('Message', { exact: true });
  await composer.pressSequentially('I am writing');
  await expect(b.page.getByText(`${a.name} is typing…`)).toBeVisible(LIVE);
  await composer.press('Enter');
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'I am writing' })).toBeVisible(LIVE);
  await expect(b.page.getByText(`${a.name} is typing…`)).toHaveCount(0);

  // Typing that stops without a message expires by itself.
  await composer.pressSequentially('hmm');
  await expect(b.page.getByText(`${a.name} is typing…`)).toBeVisible(LIVE);
  await expect(b.page.getByText(`${a.name} is typing…`)).toHaveCount(0, { timeout: 8_000 });
});

test('"Online" while the other tab is open, "last seen" after it closes', async ({ browser }) => {
  const a = await person(browser, 'Oli');
  const b = await person(browser, 'Ola');
  const channel = await apiChannel(a.context.request, [b.id]);

  await open(b.page, `/chat/${channel}`);
  const status = b.page.locator('.parley-conversation-head').getByText(/^(Online|Offline|last seen)/);
  await expect(status).toHaveText('Offline');
  await open(a.page, `/chat/${channel}`);
  await expect(status).toHaveText('Online', LIVE);

  await a.page.close();
  await expect(status).toHaveText(/^last seen/, LIVE);
});

test('a message written offline is delivered once when the connection is back', async ({ browser }) => {
  const a = await person(browser, 'Flo');
  const b = await person(browser, 'Fay');
  const channel = await apiChannel(a.context.request, [b.id]);
  await open(a.page, `/chat/${channel}`);
  await open(b.page, `/chat/${channel}`);
  await send(a.page, 'before the tunnel');
  await expect(log(b.page).getByRole('listitem').filter({ hasText: 'before the tunnel' })).toBeVisible(LIVE);

  await a.context.setOffline(true);
  await expect(a.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  const composer = a.page.getByLabel('Message', { exact: true });
  for (const text of ['in the tunnel', 'still in the tunnel']) {
    await composer.fill(text);
    await composer.press('Enter');
  }
  const pending = log(a.page).getByRole('listitem').filter({ hasText: 'still in the tunnel' });
  await expect(pending).toContainText('Sending…');

  await a.context.setOffline(false);
  await expect(pending).not.toContainText('Sending…', { timeout: 10_000 });
  await expect(a.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toHaveCount(0);
  for (const text of ['in the tunnel', 'still in the tunnel']) {
    const exact = b.page.getByText(text, { exact: true });
    await expect(log(b.page).getByRole('listitem').filter({ has: exact })).toHaveCount(1, LIVE);
  }

  // Stored exactly once each, in the order written.
  const history = await b.context.request.get(`/api/chat/channels/${channel}/messages`);
  const texts: string[] = (await history.json()).messages.map((m: { text: string }) => m.text);
  expect(texts).toEqual(['before the tunnel', 'in the tunnel', 'still in the tunnel']);
});
