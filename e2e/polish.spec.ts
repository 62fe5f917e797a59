import { expect, test, type Locator, type Page } from '@playwright/test';
import { mutate, signIn } from './helpers';

/** The user's product app: a user made through the public API with an API key. */
async function newUser(page: Page, tier: 'free' | 'plus' | 'pro' = 'plus') {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const { secret } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e polish ${stamp}`, scopes: ['users:write'] });
  const userId = `e2e-polish-${stamp}`;
  await mutate(page.request, 'users.upsert', { userId, tier }, secret);
  return userId;
}

const overlaps = (a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function borderColor(input: Locator) {
  return input.evaluate((el) => getComputedStyle(el).borderTopColor);
}

test('field errors read as plain words under their fields, and an invalid number input has a red border', async ({ page }) => {
  await page.goto('/providers');
  await signIn(page);
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add provider' });
  const priority = dialog.getByLabel('Priority');
  const normal = await borderColor(priority);
  await priority.fill('-5');
  await dialog.getByLabel('Rate limit / min').fill('9999999');
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog.getByText('Must be at least 0', { exact: true })).toBeVisible();
  await expect(dialog.getByText('Must be at most 100,000', { exact: true })).toBeVisible();
  // None of zod's own wording, and no field names.
  await expect(dialog).not.toContainText('Too small');
  await expect(dialog).not.toContainText('expected number');
  await expect(dialog).not.toContainText('rateLimitPerMinute');
  await expect(priority).toHaveAttribute('aria-invalid', 'true');
  expect(await borderColor(priority)).not.toBe(normal);
  expect(await borderColor(priority)).toBe(await dialog.getByLabel('Rate limit / min').evaluate((el) => getComputedStyle(el).borderTopColor));
  // The labels of side-by-side fields share a row: the inputs line up even when one label wraps.
  const tops = await Promise.all(['Priority', 'Cost per request (USD)', 'Rate limit / min', 'Timeout (ms)'].map(async (l) => (await dialog.getByLabel(l).boundingBox())!.y));
  expect(new Set(tops.map((t) => Math.round(t))).size).toBe(1);
});

test('Grant and Adjust previews never show a result the server would refuse', async ({ page }) => {
  await page.goto('/users');
  await signIn(page);
  const userId = await newUser(page);
  await page.goto(`/users?user=${encodeURIComponent(userId)}`);
  const panel = page.getByTestId('user-panel');
  await expect(panel.getByTestId('user-balance')).toHaveText('10');

  await panel.getByRole('button', { name: 'Grant credits' }).click();
  const grant = page.getByRole('dialog', { name: 'Grant credits' });
  await grant.getByLabel('Credits').fill('50000');
  await expect(grant.getByTestId('grant-preview')).toHaveText('Balance 10 → …');
  await grant.getByLabel('Credits').fill('25');
  await expect(grant.getByTestId('grant-preview')).toHaveText('Balance 10 → 35');
  await grant.getByRole('button', { name: 'Cancel' }).click();

  await panel.getByRole('button', { name: 'Adjust balance' }).click();
  const adjust = page.getByRole('dialog', { name: 'Adjust balance' });
  await adjust.getByLabel('Change (+/−)').fill('-11');
  await expect(adjust.getByTestId('adjust-preview')).toContainText('cannot go below zero');
  await expect(adjust.getByTestId('adjust-preview')).not.toContainText('-1');
  await adjust.getByLabel('Change (+/−)').fill('500000');
  await expect(adjust.getByTestId('adjust-preview')).toHaveText('Balance 10 → …');
  await adjust.getByLabel('Change (+/−)').fill('-4');
  await expect(adjust.getByTestId('adjust-preview')).toContainText('→ 6');
  await adjust.getByRole('button', { name: 'Cancel' }).click();
});

test('closing the user drawer gives focus back to the row that opened it', async ({ page }) => {
  await page.goto('/users');
  await signIn(page);
  const userId = await newUser(page);
  await page.getByRole('searchbox', { name: 'Search users' }).fill(userId);
  const row = page.getByTestId('users-table').getByRole('row', { name: `User ${userId}` });
  await row.focus();
  await page.keyboard.press('Enter');
  const panel = page.getByTestId('user-panel');
  await expect(panel).toBeVisible();
  await expect(panel).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(row).toBeFocused();
  // And with the close button.
  await row.click();
  await expect(panel).toBeVisible();
  await panel.getByRole('button', { name: 'Close user panel' }).click();
  await expect(panel).toBeHidden();
  await expect(row).toBeFocused();
});

test('a table shows skeleton rows while its first page loads, never "Loading…"', async ({ page }) => {
  await page.goto('/users');
  await signIn(page);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/trpc\/[^?]*admin\.users\.list/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/users');
  const table = page.getByTestId('users-table');
  await expect(table.getByTestId('skeleton-row').first()).toBeVisible();
  await expect(page.getByText('Loading…')).toHaveCount(0);
  release();
  await expect(table.getByTestId('skeleton-row')).toHaveCount(0);
  await expect(page.getByTestId('pager-count')).toContainText('users');
});

test('toasts never cover the pager at the foot of a table', async ({ page }) => {
  await page.goto('/jobs');
  await signIn(page);
  await page.getByRole('button', { name: 'Run expire-reservations now' }).click();
  await page.getByRole('button', { name: 'Run cleanup-sessions now' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'cleanup-sessions succeeded' })).toBeVisible({ timeout: 20_000 });
  // The run history's pager at the bottom of the window, where toasts used to stack.
  const pager = page.locator('.pager').last();
  await pager.evaluate((el) => el.scrollIntoView({ block: 'end' }));
  const pagerBox = (await pager.boundingBox())!;
  // All at once: toasts leave after a few seconds.
  const toasts = await page.getByTestId('toast').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
  expect(toasts.length).toBeGreaterThan(0);
  expect(toasts.length).toBeLessThanOrEqual(3);
  for (const t of toasts) expect(overlaps(t, pagerBox)).toBe(false);
});
