import { expect, test } from '@playwright/test';
import { mutate, query, shot, signIn } from './helpers';

type Tier = { tier: string; rolloverCap: number; rolloverMonths: number };

test("the user panel lists a user's credit sources in spending order, and a grant's priority puts it before the allowance", async ({ page }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const userId = `e2e-grants-${stamp}`;
  await page.goto(`/users?user=${userId}`);
  await signIn(page);

  // The product app's user on plus (10 a month), with a promotion an admin put first (priority 10).
  const { secret: key } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e grants ${stamp}`, scopes: ['users:write', 'credits:write'] });
  await mutate(page.request, 'users.upsert', { userId, tier: 'plus' }, key);
  await mutate(page.request, 'admin.users.grant', { userId, credits: 3, priority: 10, reason: 'launch promotion, spent first' });
  await page.reload();

  const panel = page.getByTestId('user-panel');
  await expect(panel.getByTestId('user-balance')).toHaveText('13');
  const sources = panel.getByTestId('user-grants');
  const rows = sources.getByRole('row');
  await expect(rows.nth(1)).toContainText('Promotional');
  await expect(rows.nth(1)).toContainText('launch promotion, spent first');
  await expect(rows.nth(2)).toContainText('Monthly allowance');
  await expect(rows.nth(2)).toContainText('10 of 10');

  // A grant from the dialog: a priority past 1000 is refused under its field; empty is the default 50,
  // which without an expiry comes after the allowance (it expires at the month's end).
  await panel.getByRole('button', { name: 'Grant credits' }).click();
  const dialog = page.getByRole('dialog', { name: 'Grant credits' });
  await dialog.getByLabel('Credits').fill('5');
  await dialog.getByLabel('Priority').fill('2000');
  await dialog.getByLabel('Reason').fill('goodwill, kept until spent');
  await dialog.getByRole('button', { name: 'Grant credits' }).click();
  await expect(dialog.getByText('Is at most 1000')).toBeVisible();
  await dialog.getByLabel('Priority').fill('');
  await dialog.getByRole('button', { name: 'Grant credits' }).click();
  await expect(dialog).toBeHidden();
  await expect(panel.getByTestId('user-balance')).toHaveText('18');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(3)).toContainText('goodwill, kept until spent');
  await expect(rows.nth(3)).toContainText('never');

  // Five credits spent: the promotion's 3 go first, then 2 of the allowance; the goodwill grant is untouched.
  await mutate(page.request, 'credits.consume', { userId, credits: 5, enhancementType: 'upscale', idempotencyKey: `e2e-grants-${stamp}` }, key);
  await page.reload();
  await expect(panel.getByTestId('user-balance')).toHaveText('13');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1)).toContainText('Monthly allowance');
  await expect(rows.nth(1)).toContainText('8 of 10');
  await expect(rows.nth(2)).toContainText('5 of 5');
  await shot(page, 'user-panel-grant-breakdown');
});

test("an admin sets a tier's rollover in Settings, and an out-of-range expiry is refused under its field", async ({ page }) => {
  await page.goto('/settings');
  await signIn(page);
  const tiers = page.getByTestId('tiers-table');
  const plusRow = tiers.getByRole('row').filter({ has: page.getByRole('cell', { name: 'plus', exact: true }) });
  await expect(plusRow).toContainText('None');

  await tiers.getByRole('button', { name: 'Edit plus tier' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Plus tier' });
  await dialog.getByLabel('Rollover cap').fill('5');
  await dialog.getByLabel('Rollover lasts').fill('30');
  await dialog.getByLabel('Reason').fill('e2e rollover for loyal users');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog.getByText(/a rollover lasts at most 24 months/i)).toBeVisible();
  await dialog.getByLabel('Rollover lasts').fill('2');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: 'rollover up to 5 for 2 months' })).toBeVisible();
  await expect(plusRow).toContainText('up to 5, lasts 2 months');
  const saved = await query<Tier[]>(page.request, 'admin.tiers.list');
  expect(saved.find((t) => t.tier === 'plus')).toMatchObject({ rolloverCap: 5, rolloverMonths: 2 });

  // Back to no rollover, as the other specs expect.
  await tiers.getByRole('button', { name: 'Edit plus tier' }).click();
  await dialog.getByLabel('Rollover cap').fill('0');
  await dialog.getByLabel('Reason').fill('e2e turns rollover off again');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(plusRow).toContainText('None');
});
