import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { ADMIN_EMAIL } from './env';
import { ensureProvider, mutate, shot, signIn, uniqueProvider } from './helpers';

type Settings = { monthlyRevenueUsd: string; creditBudgetSharePercent: number; refillBackoffSeconds: number; providerDriftTolerance: number };

/** Whatever a test did to the budget, the next test starts uncapped (a test that never signed in did nothing). */
async function uncapBudget(request: APIRequestContext) {
  const res = await request.get('/trpc/admin.platformSettings.get');
  if (res.status() !== 200) return;
  const s = ((await res.json()) as { result: { data: Settings } }).result.data;
  if (/^0+(\.0+)?$/.test(s.monthlyRevenueUsd)) return;
  await mutate(request, 'admin.platformSettings.update', {
    monthlyRevenueUsd: '0',
    creditBudgetSharePercent: s.creditBudgetSharePercent,
    refillBackoffSeconds: s.refillBackoffSeconds,
    providerDriftTolerance: s.providerDriftTolerance,
    reason: 'e2e cleanup',
  });
}

async function createPool(page: Page, provider: string, fields: { cost: string; threshold: string; amount: string }) {
  await ensureProvider(page.request, provider);
  await page.getByRole('button', { name: 'Create pool' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create pool' });
  await expect(dialog.getByLabel('Provider')).toBeFocused();
  // A provider is chosen from the list, never typed: "replicate" is not offered.
  await expect(dialog.getByLabel('Provider').locator('option', { hasText: 'replicate' })).toHaveCount(0);
  await dialog.getByLabel('Provider').selectOption(provider);
  await dialog.getByLabel('Cost per credit (USD)').fill(fields.cost);
  await dialog.getByLabel('Refill threshold (credits)').fill(fields.threshold);
  await dialog.getByLabel('Refill amount (credits)').fill(fields.amount);
  await expect(dialog.getByLabel('Billing mode')).toHaveValue('manual');
  await dialog.getByRole('button', { name: 'Create pool' }).click();
  await expect(dialog).toBeHidden();
  return page.getByTestId('pools-table').getByRole('row').filter({ hasText: provider });
}

test.afterEach(async ({ page }) => {
  await uncapBudget(page.request);
});

test('an over-budget refill waits for approval, and approving it fills the pool', async ({ page }) => {
  const provider = uniqueProvider('budget');
  await page.goto('/settings');
  await signIn(page);

  // A budget of 80 cents (1.00 USD revenue × 80 %): a refill of 500 credits at 0.039 is over it.
  const budget = page.getByTestId('budget-section');
  await budget.getByLabel('Monthly revenue (USD)').fill('1.00');
  await budget.getByRole('button', { name: 'Save budget & reserves' }).click();
  await expect(budget.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await budget.getByLabel('Reason').fill('e2e: a tiny budget');
  await budget.getByRole('button', { name: 'Save budget & reserves' }).click();
  await expect(budget.getByTestId('budget-usd')).toHaveText('$0.80');
  await expect(page.getByTestId('toast').filter({ hasText: 'Budget & reserves saved' })).toBeVisible();
  await shot(page, 'settings-budget');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
  await expect(page.getByRole('heading', { name: 'Pools', level: 1 })).toBeVisible();

  // A manual-billing pool that refills 200 credits at a threshold of 5.
  const row = await createPool(page, provider, { cost: '0.039', threshold: '5', amount: '200' });
  await expect(row).toContainText('depleted');
  await expect(row).toContainText('$0.039');
  await expect(row).toContainText('manual');
  await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('0');

  // Refill 500 (prefilled): over the budget, so it waits for approval, and the dialog says why.
  await row.getByRole('button', { name: `Refill ${provider}` }).click();
  const refill = page.getByRole('dialog', { name: `Refill ${provider}` });
  await expect(refill.getByLabel('Amount (credits)')).toHaveValue('500');
  await expect(refill.getByTestId('refill-cost')).toHaveText('Cost $19.50');
  await refill.getByLabel('Reason (optional)').fill('e2e stock-up');
  await refill.getByRole('button', { name: 'Refill' }).click();
  const result = refill.getByTestId('refill-result');
  await expect(result).toContainText('Pending approval');
  await expect(result).toContainText("exceeds the month's credit budget");
  await shot(page, 'pools-refill-pending');
  await refill.getByTestId('refill-result').getByRole('button', { name: 'Close' }).click();
  await expect(refill).toBeHidden();
  await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('0');

  // The request waits in the purchase requests table (pending is the default filter).
  const requests = page.getByTestId('purchase-requests-table');
  const pending = requests.getByRole('row').filter({ hasText: provider });
  await expect(pending).toContainText('Pending approval');
  await expect(pending).toContainText('500');
  await expect(pending).toContainText('$19.50');
  await expect(pending).toContainText('manual');
  await expect(pending).toContainText(ADMIN_EMAIL);
  await shot(page, 'pools-pending');

  await pending.getByRole('button', { name: /^Approve request/ }).click();
  const approve = page.getByRole('dialog', { name: /^Approve request #\d+$/ });
  await expect(approve).toContainText(provider);
  await approve.getByRole('button', { name: 'Approve' }).click();
  await expect(approve.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await approve.getByLabel('Reason').fill('e2e: finance said yes');
  await approve.getByRole('button', { name: 'Approve' }).click();
  await expect(approve).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `500 credits added to ${provider}` })).toBeVisible();

  // The pool's balance rises in the pools table; the request leaves the pending list.
  await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('500');
  await expect(row).toContainText('active');
  await expect(pending).toHaveCount(0);
  await page.getByLabel('Status filter').selectOption('all');
  const done = requests.getByRole('row').filter({ hasText: provider });
  await expect(done).toContainText('Completed');
  await expect(done).toContainText('e2e: finance said yes');
  await shot(page, 'pools');

  // Restore an uncapped budget.
  await page.goto('/settings');
  await budget.getByLabel('Monthly revenue (USD)').fill('0');
  await budget.getByLabel('Reason').fill('e2e: back to no cap');
  await budget.getByRole('button', { name: 'Save budget & reserves' }).click();
  await expect(budget.getByTestId('budget-usd')).toHaveText('No cap');
});

test('a refill within budget completes at once; suspend, resume and edit keep the billing key hidden', async ({ page }) => {
  const provider = uniqueProvider('ops');
  await page.goto('/pools');
  await signIn(page);
  const row = await createPool(page, provider, { cost: '0.05', threshold: '10', amount: '100' });

  // No budget cap: the click is the approval and the manual pool is credited at once.
  await row.getByRole('button', { name: `Refill ${provider}` }).click();
  const refill = page.getByRole('dialog', { name: `Refill ${provider}` });
  await refill.getByLabel('Amount (credits)').fill('250');
  await refill.getByRole('button', { name: 'Refill' }).click();
  await expect(refill.getByTestId('refill-result')).toContainText('Completed');
  await refill.getByTestId('refill-result').getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('250');

  // Suspend needs a reason; a suspended pool cannot be refilled until resumed.
  await row.getByRole('button', { name: `Suspend ${provider}` }).click();
  const suspend = page.getByRole('dialog', { name: `Suspend ${provider}` });
  await suspend.getByLabel('Reason').fill('e2e provider incident');
  await suspend.getByRole('button', { name: 'Suspend pool' }).click();
  await expect(suspend).toBeHidden();
  await expect(row).toContainText('suspended');
  await expect(row.getByRole('button', { name: `Refill ${provider}` })).toBeDisabled();
  await row.getByRole('button', { name: `Resume ${provider}` }).click();
  const resume = page.getByRole('dialog', { name: `Resume ${provider}` });
  await resume.getByLabel('Reason').fill('e2e incident over');
  await resume.getByRole('button', { name: 'Resume pool' }).click();
  await expect(row).toContainText('active');

  // Edit: switch to http billing with a key; the key is write-only from then on.
  const secretKey = `sk-e2e-${Date.now()}`;
  await row.getByRole('button', { name: `Edit ${provider}` }).click();
  const edit = page.getByRole('dialog', { name: `Edit pool ${provider}` });
  await expect(edit.getByLabel('Provider')).toHaveValue(provider);
  await expect(edit.getByTestId('billing-key-status')).toHaveText('Not set');
  await edit.getByLabel('Billing mode').selectOption('http');
  await edit.getByRole('button', { name: 'Save pool' }).click();
  await expect(edit.getByText('Required for http billing')).toBeVisible();
  await edit.getByLabel('Billing URL').fill('http://127.0.0.1:9/purchase');
  await edit.getByLabel('New key').fill(secretKey);
  await edit.getByRole('button', { name: 'Save pool' }).click();
  await expect(edit).toBeHidden();
  await expect(row).toContainText('http');

  await row.getByRole('button', { name: `Edit ${provider}` }).click();
  await expect(edit.getByTestId('billing-key-status')).toHaveText('Set');
  await expect(edit.getByLabel('Replace key')).toHaveValue('');
  await expect(edit.getByLabel('Billing URL')).toHaveValue('http://127.0.0.1:9/purchase');
  await expect(page.locator('body')).not.toContainText(secretKey);
  await shot(page, 'pools-edit');
  await edit.getByRole('button', { name: 'Cancel' }).click();
  const html = await page.content();
  expect(html).not.toContain(secretKey);
});

test('an analyst sees pools and purchase requests without any control that changes them', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-pools-${stamp}@example.com`, password: 'analyst-password-2025' };
  const provider = uniqueProvider('ro');
  await page.goto('/pools');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.02', autoRefillThreshold: 1, autoRefillAmount: 10 });

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/pools');
  await signIn(other, analyst.email, analyst.password);
  await expect(other.getByTestId('pools-table')).toContainText(provider);
  await expect(other.getByTestId('purchase-requests-table')).toBeVisible();
  await expect(other.getByRole('button', { name: 'Create pool' })).toHaveCount(0);
  await expect(other.getByTestId('pools-table').getByRole('button', { name: /Refill|Suspend|Resume|Edit/ })).toHaveCount(0);
  await expect(other.getByTestId('purchase-requests-table').getByRole('button', { name: /Approve|Reject/ })).toHaveCount(0);
  await shot(other, 'pools-analyst');
  await context.close();
});
