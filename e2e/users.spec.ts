import { expect, test, type Page } from '@playwright/test';
import { mutate, shot, signIn } from './helpers';

/** An API key for the product API, made with the signed-in admin's session cookie. */
async function createApiKey(page: Page, scopes: string[]): Promise<string> {
  const created = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e users ${Date.now()}`, scopes });
  return created.secret;
}

test('an admin finds a user by email, grants credits, refunds a consumption, and sees the ledger', async ({ page }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const userId = `e2e-ledger-${stamp}`;
  const email = `ledger-${stamp}@example.com`;

  await page.goto('/users');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();

  // The product app's side: create the user (plus: 10 credits a month) and spend one credit.
  const key = await createApiKey(page, ['users:write', 'credits:write']);
  const created = await mutate<{ currentBalance: number; tier: string }>(page.request, 'users.upsert', { userId, email, tier: 'plus' }, key);
  expect(created).toMatchObject({ tier: 'plus', currentBalance: 10 });
  await mutate(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: `e2e-consume-${stamp}` }, key);

  // `/` focuses the search; an email prefix finds the one user. The page's own search, not the
  // heading (the lazy page's placeholder shows that too), says the page and its `/` handler are there.
  const search = page.getByRole('searchbox', { name: 'Search users' });
  await expect(search).toBeVisible();
  await page.keyboard.press('/');
  await expect(search).toBeFocused();
  await page.keyboard.type(email);
  await expect(page.getByTestId('users-total')).toHaveText('1 user match');
  const row = page.getByTestId('users-table').getByRole('row', { name: new RegExp(userId) });
  await expect(row).toContainText(email);
  await expect(row).toContainText('plus');
  await expect(row).toContainText('9');
  await row.click();

  const panel = page.getByTestId('user-panel');
  await expect(panel.getByRole('heading', { name: userId })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`[?&]user=${userId}`));
  await expect(panel.getByTestId('user-balance')).toHaveText('9');
  const history = panel.getByTestId('user-history');
  await expect(history).toContainText('Consumption');

  // Grant: the shared schema wants a reason first.
  await panel.getByRole('button', { name: 'Grant credits' }).click();
  const grant = page.getByRole('dialog', { name: 'Grant credits' });
  await expect(grant.getByLabel('Credits')).toBeFocused();
  await grant.getByLabel('Credits').fill('5');
  await grant.getByRole('button', { name: 'Grant credits' }).click();
  await expect(grant.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await expect(grant.getByTestId('grant-preview')).toContainText('9 → 14');
  await grant.getByLabel('Reason').fill('goodwill after the e2e outage');
  await grant.getByRole('button', { name: 'Grant credits' }).click();
  await expect(grant).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: 'Granted 5 credits' })).toBeVisible();

  await expect(panel.getByTestId('user-balance')).toHaveText('14');
  await expect(panel.getByTestId('user-stats')).toContainText('incl. 5 bonus');
  const grantRow = history.getByRole('row').nth(1);
  await expect(grantRow).toContainText('Grant');
  await expect(grantRow).toContainText('+5');
  await expect(grantRow).toContainText('14');
  await expect(grantRow).toContainText('goodwill after the e2e outage');
  // The list row follows the panel.
  await expect(row).toContainText('14');
  await shot(page, 'users-grant');

  // Refund the consumption from its history row, with a reason.
  const consumption = history.getByRole('row').filter({ hasText: 'Consumption' });
  await consumption.getByRole('button', { name: /Refund/ }).click();
  const refund = page.getByRole('dialog', { name: 'Refund transaction' });
  await expect(refund).toContainText(userId);
  await refund.getByLabel('Reason').fill('the upscale came back blurry');
  await refund.getByRole('button', { name: 'Refund' }).click();
  await expect(refund).toBeHidden();
  await expect(panel.getByTestId('user-balance')).toHaveText('15');
  await expect(history.getByRole('row').nth(1)).toContainText('Refund');
  await expect(consumption).toContainText('refunded');
  await expect(consumption.getByRole('button', { name: /Refund/ })).toHaveCount(0);
  await shot(page, 'users-panel');

  // Escape closes the panel.
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(page).toHaveURL(/\/users$/);
});

test('the user list pages, sorts on the server and filters by tier and out of credits', async ({ page }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  await page.goto('/users');
  await signIn(page);
  const key = await createApiKey(page, ['users:write']);
  // 55 free users (0 credits) and one pro user, all sharing a prefix.
  const prefix = `e2e-list-${stamp}`;
  for (let i = 0; i < 55; i++) {
    await mutate(page.request, 'users.upsert', { userId: `${prefix}-${String(i).padStart(2, '0')}`, tier: 'free' }, key);
  }
  await mutate(page.request, 'users.upsert', { userId: `${prefix}-pro`, tier: 'pro' }, key);

  await page.getByRole('searchbox', { name: 'Search users' }).fill(prefix);
  await expect(page.getByTestId('users-total')).toHaveText('56 users match');
  await expect(page.getByTestId('pager-count')).toHaveText('1–50 of 56 users');
  const table = page.getByTestId('users-table');
  await expect(table.getByRole('row')).toHaveCount(51);
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(page.getByTestId('pager-count')).toHaveText('51–56 of 56 users');
  await expect(table.getByRole('row')).toHaveCount(7);

  // Sorting by balance, descending: the pro user (25 credits) comes first, and paging starts again.
  await table.getByRole('button', { name: 'Balance' }).click();
  await table.getByRole('button', { name: 'Balance' }).click();
  await expect(table.getByRole('columnheader', { name: 'Balance' })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByTestId('pager-count')).toHaveText('1–50 of 56 users');
  await expect(table.getByRole('row').nth(1)).toContainText(`${prefix}-pro`);

  await page.getByLabel('Tier').selectOption('pro');
  await expect(page.getByTestId('users-total')).toHaveText('1 user match');
  await page.getByLabel('Tier').selectOption('all');
  await page.getByRole('checkbox', { name: 'Out of credits' }).check();
  await expect(page.getByTestId('users-total')).toHaveText('55 users match');
  await shot(page, 'users-list');
});

test('an analyst reads users, tiers and the budget without any control that changes them', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-users-${stamp}@example.com`, password: 'analyst-password-2025' };
  const userId = `e2e-readonly-${stamp}`;

  await page.goto('/users');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  const key = await createApiKey(page, ['users:write', 'credits:write']);
  await mutate(page.request, 'users.upsert', { userId, tier: 'pro' }, key);
  await mutate(page.request, 'credits.consume', { userId, credits: 1, enhancementType: 'color', idempotencyKey: `e2e-ro-${stamp}` }, key);

  // The admin sees the controls the analyst will not.
  await page.getByRole('searchbox', { name: 'Search users' }).fill(userId);
  await page
    .getByTestId('users-table')
    .getByRole('row', { name: new RegExp(userId) })
    .click();
  await expect(page.getByTestId('user-panel').getByRole('button', { name: 'Grant credits' })).toBeVisible();

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto(`/users?user=${userId}`);
  await signIn(other, analyst.email, analyst.password);
  const panel = other.getByTestId('user-panel');
  await expect(panel.getByTestId('user-balance')).toHaveText('24');
  await expect(panel.getByTestId('user-history')).toContainText('Consumption');
  for (const name of ['Grant credits', 'Adjust balance', 'Change tier', /Refund/]) {
    await expect(panel.getByRole('button', { name })).toHaveCount(0);
  }

  await other.goto('/settings');
  await expect(other.getByTestId('tiers-table')).toContainText('pro');
  await expect(other.getByTestId('tiers-table').getByRole('button', { name: /Edit/ })).toHaveCount(0);
  await expect(other.getByTestId('budget-read-only')).toContainText('Monthly revenue');
  await expect(other.getByRole('button', { name: /Save budget/ })).toHaveCount(0);
  await expect(other.getByTestId('budget-section').getByRole('textbox')).toHaveCount(0);
  await shot(other, 'settings-analyst-ledger');
  await context.close();
});

test('an admin edits a tier allowance with a reason', async ({ page }) => {
  await page.goto('/settings');
  await signIn(page);
  const tiers = page.getByTestId('tiers-table');
  await expect(tiers).toContainText('plus');
  const plusRow = tiers.getByRole('row').filter({ has: page.getByRole('cell', { name: 'plus', exact: true }) });
  const before = (await plusRow.getByRole('cell').nth(1).textContent())?.trim() ?? '';

  await tiers.getByRole('button', { name: 'Edit plus tier' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Plus tier' });
  await expect(dialog.getByLabel('Monthly credits')).toHaveValue(before.replaceAll(',', ''));
  await dialog.getByLabel('Monthly credits').fill('12');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await dialog.getByLabel('Reason').fill('e2e pricing check');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(plusRow.getByRole('cell').nth(1)).toHaveText('12');
  await shot(page, 'settings-tiers');

  // Put it back for the other tests.
  await tiers.getByRole('button', { name: 'Edit plus tier' }).click();
  await dialog.getByLabel('Monthly credits').fill(before.replaceAll(',', ''));
  await dialog.getByLabel('Reason').fill('e2e restores the allowance');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(plusRow.getByRole('cell').nth(1)).toHaveText(before);
});
