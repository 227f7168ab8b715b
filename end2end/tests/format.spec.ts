import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { apiChannel, conversations, log, open, person } from './helpers';

// SPEC §7.3 "Formatting": a safe subset, never raw HTML.
test('formatting shows as elements and markup stays text', async ({ browser }) => {
  const a = await person(browser, 'Fay');
  const b = await person(browser, 'Gus');
  const channel = await apiChannel(a.context.request, [b.id]);

  const text = [
    'Hello **bold** and `code`',
    '```js',
    'let fenced = 1;',
    '```',
    '> quoted words',
    '- first item',
    '- second item',
    '<script>alert(1)</script> [x](javascript:alert(1)) javascript:alert(1) see https://example.com/ok.',
  ].join('\n');

  await open(a.page, `/chat/${channel}`);
  // Enter sends; the line breaks come with fill().
  await a.page.getByLabel('Message', { exact: true }).fill(text);
  await a.page.getByLabel('Message', { exact: true }).press('Enter');
  const sent = log(a.page).getByRole('listitem').filter({ hasText: 'quoted words' });
  await expect(sent).not.toContainText('Sending…');
  await expect(sent.locator('strong')).toHaveText('bold');

  await open(b.page, `/chat/${channel}`);
  const message = log(b.page).getByRole('listitem').filter({ hasText: 'quoted words' });
  await expect(message.locator('strong')).toHaveText('bold');
  await expect(message.locator(':not(pre) > code')).toHaveText('code');
  await expect(message.locator('pre > code')).toHaveText('let fenced = 1;');
  await expect(message.locator('blockquote')).toHaveText('quoted words');
  await expect(message.locator('ul > li')).toHaveText(['first item', 'second item']);
  // No marker is left in sight.
  await expect(message).not.toContainText('**');
  await expect(message).not.toContainText('```');

  // Markup and other schemes are visible text, never elements or links.
  await expect(message.getByText('<script>alert(1)</script>', { exact: false })).toBeVisible();
  await expect(message).toContainText('[x](javascript:alert(1)) javascript:alert(1)');
  await expect(log(b.page).locator('script')).toHaveCount(0);
  await expect(b.page.locator('a[href^="javascript:" i]')).toHaveCount(0);
  const link = message.getByRole('link', { name: 'https://example.com/ok', exact: true });
  await expect(link).toHaveAttribute('href', 'https://example.com/ok');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('target', '_blank');

  // Code, quotes and links keep their contrast in both themes.
  for (const colorScheme of ['light', 'dark'] as const) {
    await b.page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page: b.page }).include('[role="log"]').analyze();
    const serious = results.violations
      .filter((v) => v.id === 'color-contrast' || v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
    expect(serious, colorScheme).toEqual([]);
  }

  // The conversation list previews the words without their markers.
  await expect(conversations(b.page).getByRole('link', { name: new RegExp(`^${a.name}`) })).toContainText(
    'Hello bold and code let fenced = 1; quoted words',
  );
});
