import { expect, test } from '@playwright/test';
import { apiChannel, conversations, open, person } from './helpers';

// Notifications and the tab's title (SPEC §7.4). Chromium grants the permission; the test
// watches what the page shows through a stand-in for window.Notification (installed before the
// app loads) and makes the page hidden through the Page Visibility API's own properties.

test('a message while the tab is hidden raises one notification per conversation; the title counts unread', async ({ browser }) => {
  const a = await person(browser, 'Nia');
  const b = await person(browser, 'Noe');
  await a.context.grantPermissions(['notifications']);
  await a.context.addInitScript(() => {
    const w = window as unknown as {
      __shown: { title: string; body?: string; tag?: string; onclick: null | (() => void); closed: boolean }[];
      __hidden: boolean;
      Notification: unknown;
    };
    w.__shown = [];
    w.__hidden = false;
    class Recorded {
      static permission = 'default';
      static requestPermission(): Promise<string> {
        Recorded.permission = 'granted';
        return Promise.resolve('granted');
      }
      title: string;
      body?: string;
      tag?: string;
      onclick: null | (() => void) = null;
      closed = false;
      constructor(title: string, options?: { body?: string; tag?: string }) {
        this.title = title;
        this.body = options?.body;
        this.tag = options?.tag;
        w.__shown.push(this);
      }
      close() {
        this.closed = true;
      }
    }
    w.Notification = Recorded;
    Object.defineProperty(document, 'visibilityState', { get: () => (w.__hidden ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { get: () => w.__hidden });
  });
  const channel = await apiChannel(b.context.request, [a.id]);
  const page = a.page;
  await open(page, '/chat');
  const link = conversations(page).getByRole('link', { name: new RegExp(`^${b.name}`) });
  await expect(link).toBeVisible();
  await expect(page).not.toHaveTitle(/^\(\d+\) /);

  // Never asked on load; asked when the button is pressed, then the button goes.
  expect(await page.evaluate(() => (window as unknown as { Notification: { permission: string } }).Notification.permission)).toBe('default');
  const enable = page.getByRole('button', { name: 'Enable notifications' });
  await enable.click();
  await expect(enable).toHaveCount(0);

  const shown = () => page.evaluate(() => (window as unknown as { __shown: { title: string; body?: string; tag?: string }[] }).__shown.map(({ title, body, tag }) => ({ title, body, tag })));
  const setHidden = (hidden: boolean) =>
    page.evaluate((hidden) => {
      (window as unknown as { __hidden: boolean }).__hidden = hidden;
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);

  // Visible: a message raises none.
  await b.context.request.post('/api/chat/messages', { data: { channel_id: channel, text: 'hello while you look' } });
  await expect(link).toContainText('1 unread');
  expect(await shown()).toEqual([]);

  await setHidden(true);
  await b.context.request.post('/api/chat/messages', { data: { channel_id: channel, text: 'are you there?' } });
  await expect.poll(shown).toEqual([{ title: b.name, body: `${b.name}: are you there?`, tag: `parley-${channel}` }]);
  await expect(page).toHaveTitle(/^\(2\) /);
  // A second message replaces the conversation's notification (the same tag).
  await b.context.request.post('/api/chat/messages', { data: { channel_id: channel, text: 'still there?' } });
  await expect.poll(async () => (await shown()).length).toBe(2);
  const [first, second] = await shown();
  expect(second.tag).toBe(first.tag);
  await expect(page).toHaveTitle(/^\(3\) /);

  // Clicking it opens the conversation; hidden, it stays unread until the tab is in front.
  await page.evaluate(() => {
    const list = (window as unknown as { __shown: { onclick: null | (() => void) }[] }).__shown;
    list[list.length - 1].onclick?.();
  });
  await expect(page).toHaveURL(new RegExp(`/chat/${channel}$`));
  await expect(page.getByRole('heading', { name: b.name })).toBeVisible();
  await expect(page).toHaveTitle(/^\(3\) /);
  await setHidden(false);
  await expect(page).not.toHaveTitle(/^\(\d+\) /);
  await expect(link).not.toContainText('unread');
});
