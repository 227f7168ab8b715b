import { expect, test } from '@playwright/test';
import { conversations, open, person } from './helpers';

// Finding people (SPEC §7.2): the "Search people" box on /people and in the "New group" form,
// answered by the server as the person types.

test('Search people on /people shows only the matches, by display name or username', async ({ browser }) => {
  const a = await person(browser, 'Sol');
  const b = await person(browser, 'Bly');
  const c = await person(browser, 'Cai');
  const messageB = a.page.getByRole('button', { name: `Message ${b.name}` });
  const messageC = a.page.getByRole('button', { name: `Message ${c.name}` });

  await open(a.page, '/people');
  const search = a.page.getByRole('searchbox', { name: 'Search people' });
  await expect(search).toBeVisible();

  // By display name, ignoring case.
  await search.fill(b.name.toUpperCase());
  await expect(messageB).toBeVisible();
  await expect(messageC).toHaveCount(0);
  await expect(a.page.getByRole('button', { name: /^Message / })).toHaveCount(1);

  // The viewer is never offered.
  await search.fill(a.username);
  await expect(a.page.getByText('Nobody found.')).toBeVisible();
  await expect(a.page.getByRole('button', { name: /^Message / })).toHaveCount(0);

  // By username.
  await search.fill(c.username);
  await expect(messageC).toBeVisible();
  await expect(messageB).toHaveCount(0);

  // Nobody.
  await search.fill(`nobody ${a.username}`);
  await expect(a.page.getByText('Nobody found.')).toBeVisible();
  await expect(a.page.getByRole('button', { name: /^Message / })).toHaveCount(0);

  // A match's button still starts the chat.
  await search.fill(b.username);
  await messageB.click();
  await expect(a.page).toHaveURL(/\/chat\/[0-9a-f-]{36}$/);
  await expect(a.page.getByRole('heading', { name: b.name })).toBeVisible();
});

test('the New group picker keeps chosen people while the search changes', async ({ browser }) => {
  const a = await person(browser, 'Pat');
  const b = await person(browser, 'Rae');
  const c = await person(browser, 'Ike');
  const group = `Picked ${a.username.slice(-5)}`;

  await open(a.page, '/chat');
  await a.page.getByRole('button', { name: 'New group' }).click();
  await a.page.getByLabel('Group name').fill(group);
  const search = a.page.getByRole('searchbox', { name: 'Search people' });

  await search.fill(b.username);
  await a.page.getByRole('checkbox', { name: b.name }).check();
  await search.fill(c.username);
  await expect(a.page.getByRole('checkbox', { name: c.name })).toBeVisible();
  // Rae is no match now, but stays chosen (listed first, still ticked).
  await expect(a.page.getByRole('checkbox', { name: b.name })).toBeChecked();
  await a.page.getByRole('checkbox', { name: c.name }).check();
  // Enter in the search box does not submit the form.
  await search.press('Enter');
  await expect(a.page.getByRole('button', { name: 'Create group' })).toBeVisible();

  await a.page.getByRole('button', { name: 'Create group' }).click();
  await expect(a.page.getByRole('heading', { name: group })).toBeVisible();

  for (const member of [b, c]) {
    await open(member.page, '/chat');
    await expect(conversations(member.page).getByRole('link', { name: new RegExp(`^${group}`) })).toBeVisible();
  }
});
