import { expect, test } from '@playwright/test';
import { query, shot, signIn } from './helpers';

type Tier = { tier: string; monthlyOverflowCap: number | null };

test('an admin sets a tier overflow cap in Settings; an empty field is unlimited', async ({ page }) => {
  await page.goto('/settings');
  await signIn(page);
  const tiers = page.getByTestId('tiers-table');
  // The tier's own cell, exactly: a header's text may hold the letters too ("Overflow capRollover").
  const proRow = tiers.getByRole('row').filter({ has: page.getByRole('cell', { name: 'pro', exact: true }) });
  await expect(proRow).toContainText('50 a month');

  await tiers.getByRole('button', { name: 'Edit pro tier' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Pro tier' });
  const cap = dialog.getByLabel('Monthly overflow cap');
  await expect(cap).toHaveValue('50');
  await cap.fill('');
  await dialog.getByLabel('Reason').fill('e2e unlimited overflow');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(proRow).toContainText('Unlimited');
  const afterClear = await query<Tier[]>(page.request, 'admin.tiers.list');
  expect(afterClear.find((t) => t.tier === 'pro')!.monthlyOverflowCap).toBeNull();
  await shot(page, 'settings-tier-overflow-cap');

  // Back to the default, typed in.
  await tiers.getByRole('button', { name: 'Edit pro tier' }).click();
  await expect(cap).toHaveValue('');
  await cap.fill('50');
  await dialog.getByLabel('Reason').fill('e2e restores the overflow cap');
  await dialog.getByRole('button', { name: 'Save tier' }).click();
  await expect(dialog).toBeHidden();
  await expect(proRow).toContainText('50 a month');
  const restored = await query<Tier[]>(page.request, 'admin.tiers.list');
  expect(restored.find((t) => t.tier === 'pro')!.monthlyOverflowCap).toBe(50);
});
