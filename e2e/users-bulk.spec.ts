import { expect, test } from '@playwright/test';
import { mutate, query, shot, signIn } from './helpers';

type User = { userId: string; tier: string; currentBalance: number; bonusBalance: number };

const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;

test('an admin creates a user, then bulk-grants the filtered users after a preview and a confirmation', async ({ page }) => {
  const prefix = `e2e-bulk-${stamp()}`;
  await page.goto('/users');
  await signIn(page);

  // A user made by hand gets the tier's allowance, as users.upsert gives it.
  await page.getByRole('button', { name: 'New user' }).click();
  const create = page.getByRole('dialog', { name: 'New user' });
  await expect(create.getByLabel('External user ID')).toBeFocused();
  await create.getByLabel('External user ID').fill(`${prefix}-0`);
  await create.getByLabel('Email (optional)').fill(`${prefix}-0@example.com`);
  await create.getByLabel('Tier').selectOption('plus');
  await create.getByRole('button', { name: 'Create user' }).click();
  await expect(create).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Created ${prefix}-0 on Plus with 10 credits` })).toBeVisible();
  await expect(page.getByTestId('user-panel').getByTestId('user-balance')).toHaveText('10');
  await page.getByTestId('user-panel').getByRole('button', { name: 'Close user panel' }).click();

  // The same id again is refused under its field.
  await page.getByRole('button', { name: 'New user' }).click();
  await create.getByLabel('External user ID').fill(`${prefix}-0`);
  await create.getByRole('button', { name: 'Create user' }).click();
  await expect(create.getByText(`A user with the id ${prefix}-0 already exists.`)).toBeVisible();
  await create.getByRole('button', { name: 'Cancel' }).click();

  for (const i of [1, 2]) await mutate(page.request, 'admin.users.create', { userId: `${prefix}-${i}`, tier: i === 1 ? 'plus' : 'free' });
  await page.getByRole('searchbox', { name: 'Search users' }).fill(prefix);
  await expect(page.getByTestId('users-total')).toHaveText('3 users match');
  await page.getByLabel('Tier', { exact: true }).selectOption('plus');
  await expect(page.getByTestId('users-total')).toHaveText('2 users match');

  await page.getByRole('button', { name: 'Bulk grant' }).click();
  const dialog = page.getByRole('dialog', { name: 'Bulk grant' });
  await expect(dialog).toContainText(`Plus users, matching “${prefix}”`);
  await dialog.getByLabel('Credits per user').fill('4');
  await dialog.getByLabel('Reason').fill('e2e goodwill');
  await expect(dialog.getByTestId('bulk-grant-preview')).toHaveText('2 users match · 8 credits in total');
  await dialog.getByRole('button', { name: 'Preview grant' }).click();
  await expect(dialog.getByTestId('bulk-grant-confirm')).toContainText('Grant 4 credits to each of 2 users (8 credits in total)?');
  await shot(page, 'users-bulk-grant-confirm');
  await dialog.getByRole('button', { name: 'Grant to 2 users' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: 'Granted 8 credits to 2 users.' })).toBeVisible();
  await expect(page.getByTestId('users-table').getByRole('row', { name: new RegExp(`${prefix}-1`) })).toContainText('+4b');

  const users = await Promise.all([0, 1, 2].map((i) => query<User>(page.request, 'admin.users.get', { userId: `${prefix}-${i}` })));
  expect(users.map((u) => u.bonusBalance)).toEqual([4, 4, 0]);
});

test('an admin imports tiers from CSV: the preview shows changes, unknown users and invalid rows before applying', async ({ page }) => {
  const prefix = `e2e-csv-${stamp()}`;
  await page.goto('/users');
  await signIn(page);
  await mutate(page.request, 'admin.users.create', { userId: `${prefix}-a`, tier: 'plus' });
  await mutate(page.request, 'admin.users.create', { userId: `${prefix}-b`, tier: 'free' });

  await page.getByRole('button', { name: 'Import tiers' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import tiers from CSV' });
  await dialog.getByLabel('CSV').fill(`user_id,tier\n${prefix}-a,pro\n${prefix}-b,plus\n${prefix}-ghost,pro\n${prefix}-a2,gold\n`);
  await dialog.getByRole('button', { name: 'Preview import' }).click();
  const preview = dialog.getByTestId('tier-import-preview');
  await expect(preview).toContainText('4 rows: 2 changes, 0 already on that tier, 1 unknown user, 1 invalid row.');
  await expect(preview.getByRole('table', { name: 'Tier changes' }).getByRole('row')).toHaveCount(3);
  await expect(preview.getByRole('table', { name: 'Tier changes' })).toContainText('10 → 25');
  await expect(preview.getByLabel('Unknown users')).toContainText(`Line 4: ${prefix}-ghost`);
  await expect(preview.getByLabel('Invalid rows')).toContainText('Tier must be free, plus or pro (got "gold")');
  await shot(page, 'users-tier-import-preview');

  await dialog.getByRole('button', { name: 'Apply 2 changes' }).click();
  await expect(dialog.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await dialog.getByLabel('Reason').fill('e2e crm sync');
  await dialog.getByRole('button', { name: 'Apply 2 changes' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: 'Tier import: 2 users changed, 2 rows skipped.' })).toBeVisible();
  const [a, b] = await Promise.all(['a', 'b'].map((s) => query<User>(page.request, 'admin.users.get', { userId: `${prefix}-${s}` })));
  expect([a!.tier, a!.currentBalance, b!.tier, b!.currentBalance]).toEqual(['pro', 25, 'plus', 10]);
});

test('an analyst sees users without create, bulk grant or import controls', async ({ page, browser }) => {
  const analyst = { email: `analyst-bulk-${stamp()}@example.com`, password: 'analyst-password-2025' };
  await page.goto('/users');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/users');
  await signIn(other, analyst.email, analyst.password);
  await expect(other.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  await expect(other.getByTestId('users-total')).not.toHaveText('');
  await expect(other.getByRole('button', { name: /New user|Import tiers|Bulk grant/ })).toHaveCount(0);
  await context.close();
});
