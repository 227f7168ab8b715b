import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { apiChannel, conversations, expectAccessible, log, open, person, send } from './helpers';

// Rich messages (SPEC §7.3): reactions live for everyone with the server's counts, replies
// quoting their original (a click on the quote goes to it, loading older pages when it is far
// up), and mentions picked from a list, highlighted for the person mentioned and counted in
// their conversation link. One browser context per person.

function line(page: Page, text: string) {
  return log(page).getByRole('listitem').filter({ hasText: text });
}

function channelLink(page: Page, title: string) {
  return conversations(page).getByRole('link', { name: new RegExp(`^${title}`) });
}

/** Posts a message through the JSON API as the person whose cookies `request` carries. */
async function post(request: APIRequestContext, channel: string, text: string, replyTo?: string) {
  for (let attempt = 0; ; attempt++) {
    const response = await request.post('/api/chat/messages', {
      data: { channel_id: channel, text, reply_to: replyTo },
    });
    // Over the send rate's burst: wait for it to refill a little.
    if (response.status() === 429 && attempt < 20) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    expect(response.ok(), await response.text()).toBeTruthy();
    return (await response.json()) as { id: string; seq: number };
  }
}

async function react(page: Page, text: string, emoji: string) {
  const item = line(page, text).first();
  await item.hover();
  await item.getByRole('button', { name: 'Add reaction' }).click();
  await item.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: `React with ${emoji}` }).click();
}

test('reactions are live, counted by the server and toggled; a reply quotes and leads to its original', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Ava');
  const b = await person(browser, 'Bob');
  const dm = await apiChannel(a.context.request, [b.id]);
  await open(b.page, `/chat/${dm}`);
  await send(b.page, 'lunch at noon?');
  await open(a.page, `/chat/${dm}`);
  await expect(line(a.page, 'lunch at noon?')).toBeVisible();

  // A reacts; B sees it live, adds theirs; both see the server's count.
  await react(a.page, 'lunch at noon?', '👍');
  const mineA = line(a.page, 'lunch at noon?').getByRole('button', { name: '👍 1' });
  await expect(mineA).toHaveAttribute('aria-pressed', 'true');
  const thumbsB = line(b.page, 'lunch at noon?').getByRole('button', { name: '👍 1' });
  await expect(thumbsB).toHaveAttribute('aria-pressed', 'false');
  await expect(thumbsB).toHaveAttribute('title', a.name);
  await thumbsB.click();
  for (const p of [a, b]) {
    const both = line(p.page, 'lunch at noon?').getByRole('button', { name: '👍 2' });
    await expect(both).toHaveAttribute('aria-pressed', 'true');
    await expect(both).toHaveAttribute('title', `${a.name}, ${b.name}`);
  }
  // The focus stays on the toggle the change rebuilt; B takes theirs back.
  await expect(line(b.page, 'lunch at noon?').getByRole('button', { name: '👍 2' })).toBeFocused();
  await b.page.keyboard.press('Enter');
  await expect(line(a.page, 'lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'true');
  await expect(line(b.page, 'lunch at noon?').getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'false');

  // A replies; the composer says to whom until it is sent.
  const original = line(a.page, 'lunch at noon?').first();
  await original.hover();
  await original.getByRole('button', { name: 'Reply', exact: true }).click();
  await expect(a.page.getByText(`Replying to ${b.name}`)).toBeVisible();
  await a.page.getByRole('button', { name: 'Cancel reply' }).click();
  await expect(a.page.getByText(`Replying to ${b.name}`)).toBeHidden();
  await original.hover();
  await original.getByRole('button', { name: 'Reply', exact: true }).click();
  await expect(a.page.getByLabel('Message', { exact: true })).toBeFocused();
  await send(a.page, 'noon works');
  await expect(a.page.getByText(`Replying to ${b.name}`)).toBeHidden();
  const quoteName = `In reply to ${b.name}: lunch at noon?`;
  await expect(line(a.page, 'noon works').getByRole('button', { name: quoteName })).toBeVisible();

  // B sees the quote; clicking it highlights the original.
  const quote = line(b.page, 'noon works').getByRole('button', { name: quoteName });
  await expect(quote).toBeVisible();
  await quote.click();
  await expect(log(b.page).locator('li[data-highlighted="true"]')).toContainText('lunch at noon?');

  // Editing the original updates the quote in both tabs.
  const mine = line(b.page, 'lunch at noon?').first();
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit' }).click();
  await b.page.getByLabel('Edit message').fill('lunch at one?');
  await b.page.getByLabel('Edit message').press('Enter');
  for (const p of [a, b]) {
    await expect(line(p.page, 'noon works').getByRole('button', { name: `In reply to ${b.name}: lunch at one?` })).toBeVisible();
  }

  for (const scheme of ['light', 'dark'] as const) {
    await a.page.emulateMedia({ colorScheme: scheme });
    const item = line(a.page, 'lunch at one?').first();
    await item.hover();
    await item.getByRole('button', { name: 'Add reaction' }).click();
    await expect(item.getByRole('button', { name: 'React with 👍' })).toBeFocused();
    await expect(item.getByRole('button', { name: 'React with 🎉' })).toBeVisible();
    await expectAccessible(a.page, `${scheme}: reactions, their menu and a quote`);
    await a.page.keyboard.press('Escape');
    await expect(item.getByRole('button', { name: 'React with 🎉' })).toBeHidden();
    await expect(item.getByRole('button', { name: 'Add reaction' })).toBeFocused();
  }
});

test('a quote far up loads older pages until its original is there', async ({ browser }) => {
  test.setTimeout(120_000);
  const a = await person(browser, 'Ari');
  const b = await person(browser, 'Bel');
  const dm = await apiChannel(a.context.request, [b.id]);
  const original = await post(b.context.request, dm, 'the very first word');
  // 120 messages between, from both (each under the send rate's burst).
  for (let i = 1; i <= 120; i++) {
    await post((i % 2 ? a : b).context.request, dm, `filler ${i}`);
  }
  await post(a.context.request, dm, 'about that first word', original.id);

  await open(b.page, `/chat/${dm}`);
  const reply = line(b.page, 'about that first word');
  await expect(reply).toBeVisible();
  // Only the newest page is there.
  await expect(log(b.page).getByRole('button', { name: 'Load older messages' })).toBeVisible();
  await expect(log(b.page).getByText('filler 1', { exact: true })).toHaveCount(0);
  await reply.getByRole('button', { name: `In reply to ${b.name}: the very first word` }).click();
  const highlighted = log(b.page).locator('li[data-highlighted="true"]');
  await expect(highlighted).toContainText('the very first word', { timeout: 20_000 });
  await expect(highlighted).toBeInViewport();
});

test('a mention is picked from the list, highlighted and counted for the person mentioned', async ({ browser }) => {
  test.setTimeout(90_000);
  const a = await person(browser, 'Amy');
  const b = await person(browser, 'Ben');
  const c = await person(browser, 'Cat');
  const title = `Plans ${a.username.slice(-5)}`;
  const group = await apiChannel(a.context.request, [b.id, c.id], title);
  await open(b.page, '/chat');
  await expect(channelLink(b.page, title)).toBeVisible();

  await open(a.page, `/chat/${group}`);
  // The live conversation (its members known), not the one shown while the chat loads.
  await expect(log(a.page)).toBeVisible();
  const box = a.page.getByLabel('Message', { exact: true });
  await box.pressSequentially('see @');
  const list = a.page.getByRole('listbox', { name: 'Mention' });
  await expect(list.getByRole('option')).toHaveCount(2);
  await expect(list.getByRole('option', { name: a.name })).toHaveCount(0);
  // Sorted by name: Ben, then Cat. The arrows move the active option.
  await expect(list.getByRole('option', { name: b.name })).toHaveAttribute('aria-selected', 'true');
  await box.press('ArrowDown');
  await expect(list.getByRole('option', { name: c.name })).toHaveAttribute('aria-selected', 'true');
  await expect(list.getByRole('option', { name: b.name })).toHaveAttribute('aria-selected', 'false');
  await box.press('ArrowDown');
  await expect(list.getByRole('option', { name: b.name })).toHaveAttribute('aria-selected', 'true');
  for (const scheme of ['light', 'dark'] as const) {
    await a.page.emulateMedia({ colorScheme: scheme });
    await expectAccessible(a.page, `${scheme}: the mention list`);
  }
  // Filtering by what follows the @; Escape closes; Enter picks without sending.
  await box.pressSequentially(b.name.slice(0, 3));
  await expect(list.getByRole('option')).toHaveCount(1);
  // Escape closes it for this @ (typing on does not reopen it); a new @ opens it again.
  await box.press('Escape');
  await expect(list).toBeHidden();
  await box.pressSequentially('x');
  await expect(list).toBeHidden();
  for (let i = 0; i < 5; i++) await box.press('Backspace');
  await expect(box).toHaveValue('see ');
  await box.pressSequentially('@' + b.name.slice(0, 2).toLowerCase());
  await expect(list.getByRole('option', { name: b.name })).toHaveAttribute('aria-selected', 'true');
  await box.press('Enter');
  await expect(list).toBeHidden();
  await expect(box).toHaveValue(`see @${b.name} `);
  await box.pressSequentially('tomorrow');
  await box.press('Enter');
  const sent = line(a.page, 'tomorrow');
  await expect(sent).toContainText(`see @${b.name} tomorrow`);
  await expect(sent).not.toContainText('Sending…');
  await expect(sent).not.toHaveClass(/parley-mentioned/);

  // B is told in the conversation's link; opening it shows the mention and reads it.
  const link = channelLink(b.page, title);
  await expect(link).toHaveAccessibleName(/1 mention/);
  await link.click();
  const mention = line(b.page, 'tomorrow');
  await expect(mention).toHaveClass(/parley-mentioned/);
  await expect(mention).toContainText('Mentions you');
  await expect(mention).toContainText(`see @${b.name} tomorrow`);
  await expect(link).not.toHaveAccessibleName(/mention/);
  // C was not mentioned.
  await open(c.page, `/chat/${group}`);
  await expect(line(c.page, 'tomorrow')).not.toHaveClass(/parley-mentioned/);
  for (const scheme of ['light', 'dark'] as const) {
    await b.page.emulateMedia({ colorScheme: scheme });
    await expectAccessible(b.page, `${scheme}: a message that mentions me`);
  }
});

test('a muted conversation still counts its mentions', async ({ browser }) => {
  const a = await person(browser, 'Ada');
  const b = await person(browser, 'Bea');
  const title = `Quiet ${a.username.slice(-5)}`;
  const group = await apiChannel(a.context.request, [b.id], title);
  const mute = await b.context.request.put(`/api/chat/channels/${group}/mute`, { data: { muted: true } });
  expect(mute.ok()).toBeTruthy();
  await post(a.context.request, group, 'nothing for you');
  await open(b.page, '/chat');
  const link = channelLink(b.page, `${title}, muted`);
  await expect(link).toContainText('1 unread');
  await expect(b.page.getByRole('link', { name: /^Chat/ })).not.toContainText('unread');
  await post(a.context.request, group, `over to you <@${b.id}>`);
  await expect(link).toHaveAccessibleName(/1 mention/);
  await expect(b.page.getByRole('link', { name: /^Chat/ })).toContainText('1 unread');
});
