import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { ensureProvider, mutate, shot, signIn, uniqueProvider } from './helpers';

type Settings = { monthlyRevenueUsd: string; creditBudgetSharePercent: number; refillBackoffSeconds: number; providerDriftTolerance: number };

async function setRevenue(request: APIRequestContext, monthlyRevenueUsd: string) {
  const res = await request.get('/trpc/admin.platformSettings.get');
  if (res.status() !== 200) return;
  const s = ((await res.json()) as { result: { data: Settings } }).result.data;
  await mutate(request, 'admin.platformSettings.update', {
    monthlyRevenueUsd,
    creditBudgetSharePercent: 80,
    refillBackoffSeconds: s.refillBackoffSeconds,
    providerDriftTolerance: s.providerDriftTolerance,
    reason: 'e2e budget',
  });
}

test.afterEach(async ({ page }) => {
  await setRevenue(page.request, '0');
});

async function poolWithProvider(page: Page, tag: string, cost: string) {
  const provider = uniqueProvider(tag);
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: cost, autoRefillThreshold: 0, autoRefillAmount: 100 });
  return provider;
}

test('Dashboard, Pools and Settings show the same budget figures, over budget included', async ({ page }) => {
  await page.goto('/');
  await signIn(page);
  await setRevenue(page.request, '1000.00');
  const provider = await poolWithProvider(page, 'figures', '0.039');
  expect((await mutate<{ status: string }>(page.request, 'admin.pools.refill', { provider, amount: 500, reason: 'e2e figures' })).status).toBe('completed');
  // The budget falls below what was bought: 8.00.
  await setRevenue(page.request, '10.00');

  const read = async (path: string) => {
    await page.goto(path);
    const figures = page.getByTestId('budget-figures');
    await expect(figures.getByTestId('budget-usd')).toHaveText('$8.00');
    return figures.evaluate((el) =>
      ['budget-usd', 'budget-refills', 'budget-left', 'budget-provider-cost', 'budget-provider-projected'].map((id) => el.querySelector(`[data-testid="${id}"]`)?.textContent ?? null),
    );
  };
  const dashboard = await read('/');
  await expect(page.getByTestId('budget-figures')).toContainText('Over budget by');
  const pools = await read('/pools');
  const settings = await read('/settings');
  await shot(page, 'settings-budget-figures');
  expect(pools).toEqual(dashboard);
  expect(settings).toEqual(dashboard);
  // The dashboard's own provider-cost tile is the same figure.
  await page.goto('/');
  await expect(page.getByTestId('stat-month-cost')).toHaveText(dashboard[3]!);
});

test('a pool is made only for a listed provider; the server refuses an unknown one', async ({ page }) => {
  await page.goto('/pools');
  await signIn(page);
  const res = await page.request.post('/trpc/admin.pools.create', {
    data: { provider: 'replicate', costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0 },
  });
  expect(res.status()).toBe(400);
  expect(((await res.json()) as { error: { message: string } }).error.message).toBe('There is no provider named replicate. Add it on the Providers page first.');

  const provider = uniqueProvider('listed');
  await ensureProvider(page.request, provider);
  await page.reload();
  await page.getByRole('button', { name: 'Create pool' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create pool' });
  await dialog.getByRole('button', { name: 'Create pool' }).click();
  await expect(dialog.getByText('Choose a provider', { exact: true })).toBeVisible();
  await dialog.getByLabel('Provider').selectOption(provider);
  await expect(dialog.getByLabel('Cost per credit (USD)')).toHaveValue('0.02');
  await dialog.getByLabel('Refill threshold (credits)').fill('0');
  await dialog.getByLabel('Refill amount (credits)').fill('100');
  await dialog.getByRole('button', { name: 'Create pool' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('pools-table').getByRole('row').filter({ hasText: provider })).toContainText('depleted');
});
