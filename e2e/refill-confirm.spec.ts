import { expect, test } from '@playwright/test';
import { ensureProvider, mutate, query, shot, signIn, uniqueProvider } from './helpers';

type Settings = {
  monthlyRevenueUsd: string;
  creditBudgetSharePercent: number;
  refillBackoffSeconds: number;
  providerDriftTolerance: number;
  refillConfirmCredits: number;
  refillConfirmUsd: string;
};

test('the Refill dialog opens with its amount selected, shows the cost, and asks for confirmation above the Settings threshold', async ({ page }) => {
  // Two refills, a confirmation step and two settings writes: more than the default 30 s on a busy machine.
  test.setTimeout(60_000);
  const provider = uniqueProvider('confirm');
  await page.goto('/pools');
  await signIn(page);
  const before = await query<Settings>(page.request, 'admin.platformSettings.get');
  const settings = (patch: Partial<Settings>, reason: string) =>
    mutate(page.request, 'admin.platformSettings.update', {
      monthlyRevenueUsd: before.monthlyRevenueUsd,
      creditBudgetSharePercent: before.creditBudgetSharePercent,
      refillBackoffSeconds: before.refillBackoffSeconds,
      providerDriftTolerance: before.providerDriftTolerance,
      refillConfirmCredits: before.refillConfirmCredits,
      refillConfirmUsd: before.refillConfirmUsd.replace(/(\.\d{2})\d*$/, '$1'),
      ...patch,
      reason,
    });
  // No budget cap (the refill completes at once), confirmation above 1,000 credits.
  await settings({ monthlyRevenueUsd: '0', refillConfirmCredits: 1000, refillConfirmUsd: '100000.00' }, 'e2e refill confirmation');
  try {
    await ensureProvider(page.request, provider);
    await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.039', autoRefillThreshold: 0, autoRefillAmount: 100 });
    await page.reload();
    const row = page.getByTestId('pools-table').getByRole('row').filter({ hasText: provider });
    await row.getByRole('button', { name: `Refill ${provider}` }).click();
    const dialog = page.getByRole('dialog', { name: `Refill ${provider}` });
    const amount = dialog.getByLabel('Amount (credits)');

    // Opened with the suggestion selected: typing replaces it (500 then "2000" is 2,000, not 5,002,000).
    await expect(amount).toBeFocused();
    await expect(amount).toHaveValue('500');
    expect(await amount.evaluate((el: HTMLInputElement) => window.getSelection()?.toString() || el.value.substring(el.selectionStart ?? 0, el.selectionEnd ?? 0))).toBe('500');
    await expect(dialog.getByTestId('refill-cost')).toHaveText('Cost $19.50');
    await page.keyboard.type('2000');
    await expect(amount).toHaveValue('2000');
    await expect(dialog.getByTestId('refill-cost')).toHaveText('Cost $78.00');

    // Above the threshold: a second step says what it costs and why it asks.
    await dialog.getByRole('button', { name: 'Refill', exact: true }).click();
    const confirm = dialog.getByTestId('refill-confirm');
    await expect(confirm).toContainText('Refill 2,000 credits for $78.00?');
    await expect(confirm).toContainText('more than 1,000 credits');
    await expect(confirm.getByRole('button', { name: 'Buy 2,000 credits' })).toBeFocused();
    await shot(page, 'pools-refill-confirm');
    // Changing the amount goes back with nothing bought.
    await confirm.getByRole('button', { name: 'Change amount' }).click();
    await expect(amount).toHaveValue('2000');
    await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('0');
    await dialog.getByRole('button', { name: 'Refill', exact: true }).click();
    await confirm.getByRole('button', { name: 'Buy 2,000 credits' }).click();
    await expect(dialog.getByTestId('refill-result')).toContainText('Completed');
    await dialog.getByTestId('refill-result').getByRole('button', { name: 'Close' }).click();
    await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('2,000');

    // At or below the threshold there is no second step.
    await row.getByRole('button', { name: `Refill ${provider}` }).click();
    await amount.fill('1000');
    await dialog.getByRole('button', { name: 'Refill', exact: true }).click();
    await expect(dialog.getByTestId('refill-result')).toContainText('Completed');
    await dialog.getByTestId('refill-result').getByRole('button', { name: 'Close' }).click();
    await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('3,000');
  } finally {
    await settings({}, 'e2e cleanup');
  }
});
