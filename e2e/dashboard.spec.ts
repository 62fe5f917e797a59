import { expect, test, type APIRequestContext } from '@playwright/test';
import { ensureProvider, mutate, query, shotWholeMain, signIn } from './helpers';

const count = (n: number) => new Intl.NumberFormat('en-US').format(n);

type Dashboard = { platformCreditsRemaining: number; creditsConsumedToday: number; requestsToday: number; activeUsers: number };
type Pool = { provider: string; status: string; availableBalance: number };

/** What the database holds, read through other procedures than the dashboard's: the pools' balances. */
async function unsuspendedPoolCredits(request: APIRequestContext) {
  const pools = await query<Pool[]>(request, 'admin.pools.list');
  return pools.filter((p) => p.status !== 'suspended').reduce((s, p) => s + p.availableBalance, 0);
}

test('the dashboard shows what the ledger holds, refreshes in place, and refills a pool', async ({ page }) => {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const provider = `dash-${stamp}`;
  await page.goto('/');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  // Earlier specs share this database: everything below is measured from here.
  const before = await query<Dashboard>(page.request, 'admin.dashboard');

  // A pool with 500 credits (threshold 0: no auto-refill gets in the way).
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.04', autoRefillThreshold: 0, autoRefillAmount: 100 });
  const refill = await mutate<{ status: string }>(page.request, 'admin.pools.refill', { provider, amount: 500, reason: 'e2e dashboard' });
  expect(refill.status).toBe('completed');

  // The product app: three users spend credits.
  const key = (await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e dashboard ${stamp}`, scopes: ['users:write', 'credits:write'] })).secret;
  const plus = `e2e-dash-plus-${stamp}`;
  const pro = `e2e-dash-pro-${stamp}`;
  const spent = `e2e-dash-spent-${stamp}`;
  await mutate(page.request, 'users.upsert', { userId: plus, tier: 'plus' }, key);
  await mutate(page.request, 'users.upsert', { userId: pro, tier: 'pro' }, key);
  await mutate(page.request, 'users.upsert', { userId: spent, tier: 'plus' }, key);
  let consumed = 0;
  let requests = 0;
  const consume = async (userId: string, credits: number) => {
    await mutate(page.request, 'credits.consume', { userId, credits, enhancementType: 'upscale', idempotencyKey: `e2e-dash-${stamp}-${requests}` }, key);
    consumed += credits;
    requests += 1;
  };
  await consume(plus, 2);
  await consume(plus, 1);
  // The whole allowance, then one more that overflows to the platform: this user has nothing left.
  await consume(spent, 10);
  await consume(spent, 1);
  // Two enhancements a product app ran itself on this provider: each capture draws one credit from its pool.
  let draws = 0;
  for (let i = 0; i < 2; i++) {
    const hold = await mutate<{ reservationId: string }>(page.request, 'credits.reserve', { userId: pro, credits: 1, enhancementType: 'lighting', idempotencyKey: `e2e-dash-${stamp}-hold-${i}` }, key);
    await mutate(page.request, 'credits.capture', { reservationId: hold.reservationId, provider }, key);
    consumed += 1;
    requests += 1;
    draws += 1;
  }

  // Our pool holds 500 minus its draws; the platform figure is every unsuspended pool, as the pools
  // list reads them (re-read with each refresh, in case a scheduled job moved another pool meanwhile).
  await page.reload();
  await expect(async () => {
    const held = await unsuspendedPoolCredits(page.request);
    await page.getByRole('button', { name: 'Refresh the dashboard' }).click();
    await expect(page.getByTestId('stat-platform-credits')).toHaveText(count(held), { timeout: 2_000 });
    // No other pool moves in this suite meanwhile: the platform grew by exactly our pool.
    expect(held - before.platformCreditsRemaining).toBe(500 - draws);
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId('stat-consumed-today')).toHaveText(count(before.creditsConsumedToday + consumed));
  await expect(page.getByTestId('dashboard-stats')).toContainText(`${count(before.requestsToday + requests)} requests since 00:00 UTC`);
  // plus and pro have credits left; the user who spent everything does not count.
  await expect(page.getByTestId('stat-active-users')).toHaveText(count(before.activeUsers + 2));
  await expect(page.getByTestId('stat-month-cost')).toHaveText(/^\$\d[\d,]*\.\d{2,}$/);

  // The pool is in the provider table (its provider never checked) and in the forecast.
  const row = page.getByTestId('provider-status-table').getByRole('row').filter({ hasText: provider });
  await expect(row).toContainText('Not checked');
  await expect(page.getByTestId(`provider-credits-${provider}`)).toHaveText(count(500 - draws));
  await expect(page.getByTestId('dashboard-forecast-pools').getByRole('row').filter({ hasText: provider })).toContainText(count(500 - draws));
  // Today's credits are in the trend chart's 30-day total.
  await expect(page.getByTestId('dashboard-trend').locator('.recharts-legend-item')).toHaveCount(3);
  await expect(page.getByTestId('dashboard-trend').locator('path.recharts-rectangle').first()).toBeVisible();

  // Refresh: new figures and a new time, without the page ever blanking.
  const updated = page.getByTestId('dashboard-updated');
  const firstTime = await updated.textContent();
  expect(firstTime).toMatch(/^\d{2}:\d{2}:\d{2}$/);
  // The time shown has a resolution of a second: wait until the page's clock has moved past it.
  const shownAt = await page.evaluate(() => Math.floor(Date.now() / 1000));
  await expect.poll(() => page.evaluate(() => Math.floor(Date.now() / 1000))).toBeGreaterThan(shownAt);
  await consume(plus, 1);
  await page.getByRole('button', { name: 'Refresh the dashboard' }).click();
  await expect(page.getByTestId('stat-consumed-today')).toHaveText(count(before.creditsConsumedToday + consumed));
  await expect(updated).not.toHaveText(firstTime!);
  await expect(page.getByTestId('stat-platform-credits')).toBeVisible();

  // Refill from the dashboard: 500 prefilled, the outcome shown, the figures follow.
  await row.getByRole('button', { name: `Refill ${provider}` }).click();
  const dialog = page.getByRole('dialog', { name: `Refill ${provider}` });
  await expect(dialog.getByLabel('Amount (credits)')).toHaveValue('500');
  await expect(dialog.getByTestId('refill-cost')).toHaveText('Cost $20.00');
  await dialog.getByRole('button', { name: 'Refill' }).click();
  await expect(dialog.getByTestId('refill-result')).toContainText('Completed');
  await expect(dialog.getByTestId('refill-result')).toContainText('500 credits');
  await expect(page.getByTestId(`provider-credits-${provider}`)).toHaveText(count(1000 - draws));
  await expect(page.getByTestId('stat-platform-credits')).toHaveText(count(await unsuspendedPoolCredits(page.request)));
  await dialog.getByTestId('refill-result').getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId(`provider-credits-${provider}`)).toHaveText(count(1000 - draws));
  await shotWholeMain(page, 'dashboard');
});

test('an analyst sees the dashboard without any refill control', async ({ page, browser }) => {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const analyst = { email: `analyst-dash-${stamp}@example.com`, password: 'analyst-password-2025' };
  const provider = `dash-ro-${stamp.slice(-8)}`;
  await page.goto('/');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.02', autoRefillThreshold: 0, autoRefillAmount: 10 });
  await page.reload();
  await expect(page.getByRole('button', { name: `Refill ${provider}` })).toBeVisible();

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/');
  await signIn(other, analyst.email, analyst.password);
  await expect(other.getByTestId('provider-status-table')).toContainText(provider);
  await expect(other.getByTestId('stat-platform-credits')).toBeVisible();
  await expect(other.getByRole('button', { name: /^Refill/ })).toHaveCount(0);
  await expect(other.getByRole('button', { name: 'Refresh the dashboard' })).toBeEnabled();
  await shotWholeMain(other, 'dashboard-analyst');
  await context.close();
});
